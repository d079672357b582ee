/** End to end through HTTP: place an order, drive the warehouse, and check every record in Postgres. */
import { orderBody, stockedSku } from '../helpers/fixtures';
import { eventually, startStack, Stack } from '../helpers/stack';

let s: Stack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(async () => s?.stop());

async function orderOnceShipmentsExist(orderId: string, count = 1) {
  return eventually(
    async () => {
      const r = await s.call('GET', `/v1/orders/${orderId}`, { key: s.keys.ops });
      return r.body.shipments?.length >= count && r.body.status === 'fulfilling' ? r.body : undefined;
    },
    30000,
    'shipments',
  );
}

async function drive(shipmentId: string, types: string[]) {
  for (const type of types) {
    const r = await s.call('POST', `/v1/shipments/${shipmentId}/events`, {
      key: s.keys.warehouse,
      body: { type, carrier: 'DHL', trackingNumber: `TRK-${shipmentId.slice(0, 8)}` },
    });
    expect(r.status).toBe(200);
  }
}

test('an order flows from placement to delivery, with stock, invoice, payment and ledger in Postgres', async () => {
  const sku = await stockedSku(s.db, { EAST: 10 }, 400);
  const placed = await s.call('POST', '/v1/orders', {
    key: s.keys.storefront,
    body: orderBody([{ sku, quantity: 3, unitPrice: 1000 }]),
  });
  expect(placed.status).toBe(201);
  expect(placed.headers.get('x-request-id')).toBeTruthy();
  const { orderId, workflowId } = placed.body;
  expect(workflowId).toMatch(/^order-web-EXT-/);

  const order = await orderOnceShipmentsExist(orderId);
  expect(order.shipments[0]).toMatchObject({ warehouse: 'EAST', status: 'pending', lines: [{ sku, quantity: 3 }] });
  expect(order.payments).toEqual([
    expect.objectContaining({ kind: 'authorization', status: 'succeeded', amount: 3000 + 500 + 665 }),
  ]);
  const inv = await s.call('GET', `/v1/inventory/${sku}`, { key: s.keys.warehouse });
  expect(inv.body.total).toEqual({ onHand: 10, reserved: 3, available: 7, incoming: 0 });

  await drive(order.shipments[0].shipmentId, ['picked', 'packed', 'shipped', 'delivered']);
  const done = await eventually(
    async () => {
      const r = await s.call('GET', `/v1/orders/${orderId}`, { key: s.keys.storefront });
      return r.body.status === 'completed' ? r.body : undefined;
    },
    30000,
    'completion',
  );

  expect(done.shipments[0]).toMatchObject({ status: 'delivered', carrier: 'DHL' });
  expect(done.invoices).toHaveLength(1);
  expect(done.invoices[0]).toMatchObject({ subtotal: 3000, shipping: 500, tax: 665, total: 4165, status: 'paid' });
  expect(done.payments.map((p: { kind: string; amount: number }) => [p.kind, p.amount])).toEqual([
    ['authorization', 4165],
    ['capture', 4165],
  ]);
  expect(done.process.stage).toBe('completed');
  expect(done.process.timeline.map((t: { step: string }) => t.step)).toEqual(
    expect.arrayContaining(['received', 'reserved', 'payment authorised', 'completed']),
  );

  const after = await s.call('GET', `/v1/inventory/${sku}`, { key: s.keys.warehouse });
  expect(after.body.total).toEqual({ onHand: 7, reserved: 0, available: 7, incoming: 0 });
  const moves = await s
    .db('stock_moves as m')
    .join('products as p', 'p.id', 'm.product_id')
    .where('p.sku', sku)
    .where('m.source_type', 'shipment')
    .select('m.quantity');
  expect(moves.map((m) => m.quantity)).toEqual([3]);

  // Ledger: receivable raised and settled, revenue, tax, shipping income and cost of goods booked.
  const lines = await s
    .db('journal_lines as l')
    .join('journal_entries as e', 'e.id', 'l.entry_id')
    .whereIn('e.source_id', [done.invoices[0].invoiceId, order.shipments[0].shipmentId])
    .orWhere('e.idempotency_key', 'like', `capture:${orderId}%`)
    .groupBy('l.account_code')
    .select('l.account_code', s.db.raw('SUM(l.debit - l.credit)::bigint AS net'));
  const net = Object.fromEntries(lines.map((l) => [l.account_code, l.net]));
  expect(net).toEqual({
    '1100': 4165,
    '1200': 0,
    '4000': -3000,
    '4100': -500,
    '2100': -665,
    '5000': 1200,
    '1300': -1200,
  });

  const tb = await s.call('GET', '/v1/ledger/trial-balance', { key: s.keys.finance });
  expect(tb.status).toBe(200);
  expect(tb.body.totalDebit).toBe(tb.body.totalCredit);

  const audit = await s.db('audit_log').where({ target: orderId, action: 'order.place' });
  expect(audit).toHaveLength(1);
  expect(audit[0]).toMatchObject({ workflow_id: workflowId, status: 201 });
});
