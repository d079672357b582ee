/**
 * Temporal runs activities at least once. Each activity here is run twice with
 * the same input, as a retry after a crash would, and the second run must
 * change nothing: same result, same rows.
 */
import { createActivities, sandboxDeps } from '../../activities';
import { createDb, Db } from '../../db';
import { recordOrder } from '../../db/sales';
import { closeProcessless, orderBody, stockedSku } from '../helpers/fixtures';

let db: Db;
let act: ReturnType<typeof createActivities>;
beforeAll(() => {
  db = createDb(process.env.DATABASE_URL!, 5);
  act = createActivities(sandboxDeps(db));
});
afterAll(async () => db?.destroy());

/** Every row an order's activities can touch, in a comparable form. */
async function snapshot(orderId: string, sku: string) {
  const product = await db('products').where({ sku }).first('id');
  const shipmentIds = await db('shipments').where({ order_id: orderId }).pluck('id');
  const invoiceIds = await db('invoices').where({ order_id: orderId }).pluck('id');
  return {
    order: await db('sales_orders').where({ id: orderId }).first('status', 'cancel_reason', 'shipping_address'),
    lines: await db('sales_order_lines')
      .where({ order_id: orderId })
      .orderBy('id')
      .select('quantity_shipped', 'quantity_cancelled'),
    reservations: await db('reservations')
      .where({ order_id: orderId })
      .orderBy('id')
      .select('id', 'quantity', 'state', 'shipment_id'),
    shipments: await db('shipments').where({ order_id: orderId }).orderBy('id').select('id', 'status', 'wave'),
    quants: await db('quants')
      .where({ product_id: product.id })
      .orderBy('location_id')
      .select('location_id', 'on_hand', 'reserved'),
    moves: await db('stock_moves').where({ product_id: product.id }).count({ n: '*' }).first(),
    payments: await db('payments')
      .where({ order_id: orderId })
      .orderBy('created_at')
      .select('kind', 'amount', 'status'),
    invoices: await db('invoices').where({ order_id: orderId }).orderBy('number').select('number', 'total', 'status'),
    journal: await db('journal_entries')
      .whereIn('source_id', [...shipmentIds, ...invoiceIds])
      .orWhere('idempotency_key', 'like', `capture:${orderId}%`)
      .count({ n: '*' })
      .first(),
    provider: await db('sandbox_payment_ledger')
      .where('idempotency_key', 'like', `${orderId}%`)
      .orderBy('idempotency_key')
      .select('idempotency_key', 'amount', 'outcome'),
  };
}

async function twice<T>(orderId: string, sku: string, run: () => Promise<T>) {
  const first = await run();
  const after = await snapshot(orderId, sku);
  const second = await run();
  expect(await snapshot(orderId, sku)).toEqual(after);
  expect(second).toEqual(first);
  return first;
}

async function newOrder(lines: { sku: string; quantity: number }[]) {
  const body = orderBody(lines);
  return (await recordOrder(db, body, 'EUR')).orderId;
}

test('the happy path activities, each run twice', async () => {
  const sku = await stockedSku(db, { EAST: 2, WEST: 2 });
  const orderId = await newOrder([{ sku, quantity: 3 }]);
  await twice(orderId, sku, () => act.setOrderStatus({ orderId, status: 'reserved' }));
  expect(await twice(orderId, sku, () => act.assessRisk({ orderId, token: 'tok_approve' }))).toBe('approve');
  const reservation = await twice(orderId, sku, () => act.reserveStock({ orderId, allowPartial: true }));
  expect(reservation.shortUnits).toBe(0);
  expect(await twice(orderId, sku, () => act.authorizePayment({ orderId, token: 'tok_approve' }))).toEqual({
    approved: true,
    reason: undefined,
  });
  const shipments = await twice(orderId, sku, () => act.createShipments({ orderId, wave: 1 }));
  expect(shipments).toHaveLength(2);
  await twice(orderId, sku, () =>
    act.changeShippingAddress({
      orderId,
      address: { name: 'A', line1: 'B 1', city: 'Köln', postalCode: '50667', country: 'DE' },
    }),
  );
  await twice(orderId, sku, () => act.recordShipmentProgress({ shipmentId: shipments[0].shipmentId, type: 'picked' }));
  const cogs = await twice(orderId, sku, () =>
    act.dispatchShipment({ shipmentId: shipments[0].shipmentId, carrier: 'DHL', trackingNumber: 'T1' }),
  );
  expect(cogs.costOfGoods).toBeGreaterThan(0);
  const invoice = await twice(orderId, sku, () =>
    act.invoiceShipment({ orderId, shipmentId: shipments[0].shipmentId }),
  );
  const capture = await twice(orderId, sku, () => act.capturePayment({ orderId, invoiceId: invoice.invoiceId }));
  expect(capture.captured).toBe(invoice.total);
  await twice(orderId, sku, () =>
    act.recordShipmentProgress({ shipmentId: shipments[0].shipmentId, type: 'delivered' }),
  );
  // The second warehouse's shipment is given up: the rest is cancelled and the authorisation's remainder voided.
  expect(
    await twice(orderId, sku, () => act.cancelOrder({ orderId, reason: 'second parcel lost before dispatch' })),
  ).toEqual({ status: 'completed' });
  const voided = await twice(orderId, sku, () => act.voidAuthorization({ orderId }));
  const order = await db('sales_orders').where({ id: orderId }).first('total');
  expect(voided.voided).toBe(order.total - capture.captured);
});

test('release and backorder activities, each run twice', async () => {
  const sku = await stockedSku(db, { EAST: 1 });
  const orderId = await newOrder([{ sku, quantity: 3 }]);
  const r = await twice(orderId, sku, () => act.reserveStock({ orderId, allowPartial: true }));
  expect(r).toMatchObject({ readyToShip: 1, shortUnits: 2 });
  expect(await twice(orderId, sku, () => act.cancelUnallocated({ orderId }))).toEqual({ cancelledUnits: 2 });
  await twice(orderId, sku, () => act.releaseReservations({ orderId }));
  expect(
    (await db('quants as q').join('products as p', 'p.id', 'q.product_id').where('p.sku', sku).first('q.reserved'))
      .reserved,
  ).toBe(0);
});

test('procure-to-pay activities, each run twice: one receipt, one bill, one payment', async () => {
  const { inTransaction } = await import('../../db');
  const { createPurchaseOrder } = await import('../../db/purchasing');
  const { randomUUID } = await import('node:crypto');
  const sku = await stockedSku(db, { EAST: 4 }, 300, 'IDP');
  const code = `IDEM-${randomUUID().slice(0, 8)}`;
  const [supplier] = await db('suppliers')
    .insert({ code, name: 'Idempotent Ltd', currency: 'EUR', payment_terms_days: 0 })
    .returning('id');
  const product = await db('products').where({ sku }).first('id');
  const warehouse = await db('warehouses').where({ code: 'EAST' }).first('id');
  const po = await inTransaction(db, (tx) =>
    createPurchaseOrder(tx, {
      supplierId: supplier.id,
      warehouseId: warehouse.id,
      origin: 'manual',
      lines: [{ productId: product.id, quantity: 10, unitPrice: 500 }],
    }),
  );
  const rows = async () => ({
    po: await db('purchase_orders').where({ id: po.poId }).first('status', 'supplier_ref'),
    lines: await db('purchase_order_lines')
      .where({ po_id: po.poId })
      .select('received_qty', 'quarantined_qty', 'billed_qty'),
    cost: await db('products').where({ sku }).first('cost'),
    quants: await db('quants')
      .where({ product_id: product.id })
      .orderBy('location_id')
      .select('location_id', 'on_hand'),
    bills: await db('vendor_bills')
      .where({ po_id: po.poId })
      .orderBy('received_at')
      .select('status', 'total', 'posted_at'),
    payments: await db('supplier_payments as p')
      .join('vendor_bills as b', 'b.id', 'p.bill_id')
      .where('b.po_id', po.poId)
      .select('p.amount', 'p.bank_reference'),
    journal: await db('journal_entries').where('description', 'like', `%${po.number}%`).count({ n: '*' }).first(),
    supplierInbox: await db('sandbox_supplier_orders').where({ supplier_code: code }).count({ n: '*' }).first(),
    bank: await db('sandbox_bank_transfers').where({ payee: code }).count({ n: '*' }).first(),
  });
  const again = async <T>(run: () => Promise<T>) => {
    const first = await run();
    const after = await rows();
    expect(await run()).toEqual(first);
    expect(await rows()).toEqual(after);
    return first;
  };
  await again(() => act.submitPurchaseOrder({ poId: po.poId, autoApproveLimit: 1_000_000 }));
  await again(() => act.sendPurchaseOrder({ poId: po.poId, leadTimeDays: 1, dayMs: 1000 }));
  const receiptId = randomUUID();
  const receipt = await again(() =>
    act.receivePurchase({ poId: po.poId, receiptId, lines: [{ sku, quantity: 10 }], tolerancePct: 0 }),
  );
  expect(receipt).toMatchObject({ received: 10, lines: [{ intoStock: 10 }] });
  expect(Number((await db('products').where({ sku }).first('cost')).cost)).toBe(443); // (4 × 300 + 10 × 500) / 14 = 442.86
  const billId = randomUUID();
  const bill = {
    supplierInvoiceRef: `INV-${code}`,
    lines: [{ sku, quantity: 10, unitPrice: 500 }],
    tax: 950,
    total: 5950,
  };
  const first = await act.recordBill({
    poId: po.poId,
    billId,
    bill,
    tolerances: { qtyPct: 0, pricePct: 0 },
    dayMs: 1000,
  });
  expect(first).toMatchObject({ matched: true, posted: true });
  // The same call again (its first answer lost with a killed worker): the same answer, not a repeat, so the
  // process goes on to pay it (a worker-kill drill once left a purchase order unpaid on that).
  const sameCall = await act.recordBill({
    poId: po.poId,
    billId,
    bill,
    tolerances: { qtyPct: 0, pricePct: 0 },
    dayMs: 1000,
  });
  expect(sameCall).toEqual(first);
  const retried = await act.recordBill({
    poId: po.poId,
    billId: randomUUID(),
    bill,
    tolerances: { qtyPct: 0, pricePct: 0 },
    dayMs: 1000,
  }); // the same supplier invoice again
  expect(retried).toMatchObject({ billId: first.billId, repeat: true });
  const paid = await again(() => act.payBill({ billId: first.billId }));
  expect(paid.amount).toBe(5950);
  const after = await rows();
  expect(after.supplierInbox).toEqual({ n: 1 });
  expect(after.bank).toEqual({ n: 1 });
  expect(after.journal).toEqual({ n: 3 }); // receipt, bill, payment
  expect(await closeProcessless(db, [po.poId])).toBe(1); // driven without a process: closed as the sweep would
});
