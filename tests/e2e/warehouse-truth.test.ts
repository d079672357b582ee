/**
 * The warehouse is the truth (issue 12): a parcel that left has left. Once the warehouse is picking, a cancel
 * is a request it answers (stopped, or shipped), and every report gets a definite answer: applied, or refused
 * with the reason.
 */
import { stockedSku } from '../helpers/fixtures';
import { event, getOrder, place, recordHistories, remember, waitFor } from '../helpers/orders';
import { eventually, Stack, startStack } from '../helpers/stack';

let s: Stack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(async () => {
  await recordHistories(s, 'warehouse-truth');
  await s?.stop();
});

const stockOf = async (sku: string) => (await s.call('GET', `/v1/inventory/${sku}`, { key: s.keys.ops })).body.total;
const kinds = (o: { payments: { kind: string; status: string }[] }) => o.payments.map((p) => `${p.kind}:${p.status}`);
const cancel = (orderId: string) =>
  s.call('POST', `/v1/orders/${orderId}/cancel`, { key: s.keys.storefront, body: { reason: 'changed my mind' } });

/** An order of one unit whose only shipment the warehouse has picked and packed. */
async function packedOrder(sku: string) {
  const { orderId } = await place(s, [{ sku, quantity: 1, unitPrice: 1000 }]);
  const o = await waitFor(s, orderId, 'fulfilling');
  const shipmentId = o.shipments[0].shipmentId as string;
  for (const type of ['picked', 'packed'])
    expect((await event(s, shipmentId, type)).body).toMatchObject({ applied: true, shipmentStatus: type });
  return { orderId, shipmentId };
}

test('a cancel while the warehouse picks waits for its answer: stopped → cancelled with the stock back and the payment voided', async () => {
  const sku = await stockedSku(s.db, { EAST: 3 });
  const { orderId, shipmentId } = await packedOrder(sku);
  expect((await cancel(orderId)).status).toBe(202);
  const asked = await waitFor(s, orderId, 'cancel_requested');
  expect(asked.process.waitingFor).toContain('the warehouse to stop the parcel');
  expect(await s.db('notifications').where({ subject_id: shipmentId, template: 'parcel_stop_requested' })).toHaveLength(
    1,
  );
  expect(await stockOf(sku)).toMatchObject({ onHand: 3, reserved: 1 }); // nothing moves until the warehouse answers

  const stopped = await event(s, shipmentId, 'stopped');
  expect(stopped.status).toBe(200);
  expect(stopped.body).toMatchObject({ applied: true, shipmentStatus: 'cancelled' });
  // The status reads cancelled once the stock is back; the void follows it.
  const o = await waitFor(s, orderId, 'cancelled', (x) => x.payments.length === 2);
  expect(kinds(o)).toEqual(['authorization:succeeded', 'void:succeeded']);
  expect(await stockOf(sku)).toMatchObject({ onHand: 3, reserved: 0 });
});

test('every report gets a definite answer: stopped with nothing to stop, picking a cancelled parcel, unknown shipments', async () => {
  const sku = await stockedSku(s.db, { EAST: 3 });
  const { orderId } = await place(s, [{ sku, quantity: 1, unitPrice: 1000 }]);
  const o = await waitFor(s, orderId, 'fulfilling');
  const shipmentId = o.shipments[0].shipmentId as string;
  const stray = await event(s, shipmentId, 'stopped');
  expect(stray.status).toBe(409);
  expect(stray.body.error.message).toContain('nothing asked the warehouse to stop this shipment');

  // Nothing picked yet: the cancel is a decision, and a late "picked" is told not to pick.
  expect((await cancel(orderId)).status).toBe(202);
  await waitFor(s, orderId, 'cancelled');
  const late = await event(s, shipmentId, 'picked');
  expect(late.status).toBe(409);
  expect(late.body.error.message).toMatch(/cancelled/);
  expect((await event(s, '00000000-0000-4000-8000-000000000000', 'picked')).status).toBe(404);
});

test('cancel versus shipped at the same moment, 50 times: every parcel that left is charged, none is lost, stock matches the shelf', async () => {
  const sku = await stockedSku(s.db, { EAST: 50 });
  const orders: { orderId: string; shipmentId: string }[] = [];
  for (let i = 0; i < 50; i += 10)
    orders.push(...(await Promise.all(Array.from({ length: 10 }, () => packedOrder(sku)))));

  // The storefront cancels and the warehouse reports the parcel shipped, at once.
  const raced = await Promise.all(
    orders.map(async (o) => {
      const [c, shipped] = await Promise.all([
        cancel(o.orderId),
        event(s, o.shipmentId, 'shipped', { carrier: 'DHL', trackingNumber: `T-${o.shipmentId.slice(0, 8)}` }),
      ]);
      return {
        ...o,
        cancel: c.status,
        shipped: shipped.status,
        cancelError: c.body.error?.message as string | undefined,
      };
    }),
  );
  expect(raced.map((r) => r.shipped)).toEqual(raced.map(() => 200)); // no shipped report is refused or lost
  for (const r of raced) {
    expect([202, 409]).toContain(r.cancel); // 409: the parcel had left when the cancel arrived
    if (r.cancel === 409) expect(r.cancelError).toContain('already left');
  }

  // A cancel accepted in the same moment is weighed after the parcel's report: its refusal follows the capture.
  const refusedInTimeline = (o: { process: { timeline: { step: string }[] } }) =>
    o.process.timeline.some((t) => t.step.startsWith('cancel refused'));
  const ended = await Promise.all(
    raced.map(async (r) => ({
      r,
      o: await waitFor(
        s,
        r.orderId,
        'shipped',
        (o) =>
          o.payments.some((p: { kind: string }) => p.kind === 'capture') && (r.cancel !== 202 || refusedInTimeline(o)),
      ),
    })),
  );
  for (const { r, o } of ended) {
    expect(kinds(o)).toEqual(['authorization:succeeded', 'capture:succeeded']);
    expect(o.shipments[0].status).toBe('shipped');
    expect(refusedInTimeline(o)).toBe(r.cancel === 202);
  }
  const refusedAfterAccepting = raced.filter((r) => r.cancel === 202).length;
  console.log(
    `cancel vs shipped ×50: ${refusedAfterAccepting} cancels accepted then refused when the parcel's report was applied first, ${50 - refusedAfterAccepting} refused at once (409)`,
  );
  expect(
    await s
      .db('notifications')
      .whereIn(
        'subject_id',
        raced.filter((r) => r.cancel === 202).map((r) => r.orderId),
      )
      .where({ template: 'cancel_refused' }),
  ).toHaveLength(refusedAfterAccepting);
  // 50 units left on trucks: none is back on the shelf, none is reserved.
  expect(await stockOf(sku)).toMatchObject({ onHand: 0, reserved: 0 });
  expect((await getOrder(s, raced[0].orderId)).status).toBe('shipped');
}, 240000);

const count = (sku: string, warehouse: string, countedQuantity: number) =>
  s.call('POST', '/v1/inventory/adjustments', {
    key: s.keys.warehouse,
    body: { warehouse, sku, countedQuantity, reason: 'cycle count' },
  });
const perWarehouse = async (sku: string) =>
  Object.fromEntries(
    (
      (await s.call('GET', `/v1/inventory/${sku}`, { key: s.keys.ops })).body.warehouses as {
        warehouse: string;
        onHand: number;
        reserved: number;
      }[]
    ).map((w) => [w.warehouse, `${w.onHand}/${w.reserved}`]),
  );

test('a count below what is reserved is recorded; the order re-reserves from the other warehouse; the case lists it', async () => {
  const sku = await stockedSku(s.db, { EAST: 5, WEST: 5 });
  const { orderId } = await place(s, [{ sku, quantity: 5 }]);
  const before = await waitFor(s, orderId, 'fulfilling');
  expect(before.shipments).toEqual([expect.objectContaining({ warehouse: 'EAST', status: 'pending' })]);

  const r = await count(sku, 'EAST', 2); // was 409 "5 are reserved for orders": the books kept saying 5
  expect(r.status).toBe(201);
  expect(r.body).toMatchObject({
    previousQuantity: 5,
    countedQuantity: 2,
    difference: -3,
    ordersReplanned: [{ orderId, units: 5 }],
  });
  const shortfall = await s.db('exceptions').where({ id: r.body.shortfallCaseId }).first();
  expect(shortfall).toMatchObject({ type: 'stock_shortfall', queue: 'inventory', subject_id: sku });
  expect(shortfall.details.orders).toEqual([expect.objectContaining({ orderId, units: 5 })]);

  const after = await waitFor(s, orderId, 'fulfilling', (o) =>
    o.shipments.some((x: { warehouse: string; status: string }) => x.warehouse === 'WEST' && x.status === 'pending'),
  );
  expect(
    after.shipments.map((x: { warehouse: string; status: string }) => `${x.warehouse}:${x.status}`).sort(),
  ).toEqual(['EAST:cancelled', 'WEST:pending']);
  expect(await perWarehouse(sku)).toEqual({ EAST: '2/0', WEST: '5/5' });
  // The loss is booked at average cost: 3 × 500 from inventory to the loss account.
  const entry = await s
    .db('journal_entries as e')
    .join('journal_lines as l', 'l.entry_id', 'e.id')
    .where('e.idempotency_key', `adjustment:${r.body.adjustmentId}`)
    .select('l.account_code', 'l.debit', 'l.credit');
  expect(entry.map((l) => `${l.account_code}:${l.debit}:${l.credit}`).sort()).toEqual(['1300:0:1500', '5100:1500:0']);
});

test('with no other stock, the order ships what is left and backorders the rest; a later count that finds them books a gain and ships them', async () => {
  const sku = await stockedSku(s.db, { EAST: 5 });
  const { orderId } = await place(s, [{ sku, quantity: 5 }]);
  await waitFor(s, orderId, 'fulfilling');
  expect((await count(sku, 'EAST', 2)).body.ordersReplanned).toEqual([expect.objectContaining({ orderId, units: 5 })]);
  const o = await waitFor(s, orderId, 'backordered', (x) =>
    x.shipments.some((sh: { status: string }) => sh.status === 'pending'),
  );
  expect(o.shipments.filter((sh: { status: string }) => sh.status === 'pending')).toHaveLength(1);
  expect(await perWarehouse(sku)).toEqual({ EAST: '2/2', WEST: '0/0' });
  expect(await s.db('notifications').where({ subject_id: orderId, template: 'order_delayed' })).toHaveLength(1);

  const found = await count(sku, 'EAST', 5); // the three were behind a box
  expect(found.body).toMatchObject({ difference: 3, ordersReplanned: [] });
  await waitFor(
    s,
    orderId,
    'fulfilling',
    (x) => x.shipments.filter((sh: { status: string }) => sh.status === 'pending').length === 2,
  );
  expect(await perWarehouse(sku)).toEqual({ EAST: '5/5', WEST: '0/0' });
});

test('bad counts are 4xx with nothing written', async () => {
  const sku = await stockedSku(s.db, { EAST: 5 });
  const moves = async () => Number((await s.db('stock_moves').count({ n: '*' }).first())!.n);
  const before = await moves();
  expect((await count(sku, 'EAST', -1)).status).toBe(400);
  expect((await count(sku, 'NOWHERE', 1)).status).toBe(422);
  expect((await count('NO-SUCH-SKU', 'EAST', 1)).status).toBe(422);
  expect(await moves()).toBe(before);
  expect(await perWarehouse(sku)).toEqual({ EAST: '5/0', WEST: '0/0' });
});

const move = (sku: string, quantity: number, from: string, to: string, warehouse = 'EAST') =>
  s.call('POST', '/v1/inventory/moves', {
    key: s.keys.warehouse,
    body: { warehouse, sku, quantity, from, to, reason: 'crushed pallet' },
  });
const at = async (sku: string, type: string) =>
  (
    await s
      .db('quants as q')
      .join('locations as l', 'l.id', 'q.location_id')
      .join('products as p', 'p.id', 'q.product_id')
      .where({ 'p.sku': sku, 'l.type': type })
      .whereIn('l.warehouse_id', s.db('warehouses').where({ code: 'EAST' }).select('id'))
      .first('q.on_hand')
  )?.on_hand ?? 0;
const ledgerOf = async (moveId: string) =>
  (
    await s
      .db('journal_entries as e')
      .join('journal_lines as l', 'l.entry_id', 'e.id')
      .where('e.idempotency_key', `transfer:${moveId}`)
      .select('l.account_code', 'l.debit', 'l.credit')
  )
    .map((l) => `${l.account_code}:${l.debit}:${l.credit}`)
    .sort();

test('damaged stock leaves sellable stock and finds its way back: quarantine → stock, repair → stock, scrap, to the supplier; each booked', async () => {
  const sku = await stockedSku(s.db, { EAST: 10 }, 300);
  const q = await move(sku, 4, 'stock', 'quarantine');
  expect(q.status).toBe(201);
  expect(q.body).toMatchObject({ from: 'stock', to: 'quarantine', quantity: 4, ordersReplanned: [] });
  expect(await stockOf(sku)).toMatchObject({ onHand: 6, available: 6 }); // quarantine is not for sale
  expect(await at(sku, 'quarantine')).toBe(4);
  expect(await ledgerOf(q.body.moveId)).toEqual([]); // still inventory, only elsewhere
  expect((await move(sku, 2, 'quarantine', 'stock')).status).toBe(201); // released after a look
  expect((await move(sku, 1, 'quarantine', 'repair')).status).toBe(201);
  expect((await move(sku, 1, 'repair', 'stock')).status).toBe(201); // repaired
  const scrapped = await move(sku, 1, 'quarantine', 'scrap');
  expect(await ledgerOf(scrapped.body.moveId)).toEqual(['1300:0:300', '5100:300:0']);
  const back = await move(sku, 2, 'stock', 'supplier');
  expect(await ledgerOf(back.body.moveId)).toEqual(['1300:0:600', '5100:600:0']);
  expect(await stockOf(sku)).toMatchObject({ onHand: 7 }); // 10 − 4 + 2 + 1 − 2
  expect(await at(sku, 'quarantine')).toBe(0);
  expect(await s.db('stock_transfers').whereIn('id', [q.body.moveId, scrapped.body.moveId]).pluck('reason')).toEqual([
    'crushed pallet',
    'crushed pallet',
  ]);
});

test('damaging units promised to an order re-plans it; bad moves are 4xx with nothing written', async () => {
  const sku = await stockedSku(s.db, { EAST: 3, WEST: 3 });
  const { orderId } = await place(s, [{ sku, quantity: 3 }]);
  await waitFor(s, orderId, 'fulfilling');
  const damaged = await move(sku, 2, 'stock', 'quarantine');
  expect(damaged.body.ordersReplanned).toEqual([expect.objectContaining({ orderId, units: 3 })]);
  await waitFor(s, orderId, 'fulfilling', (o) =>
    o.shipments.some((x: { warehouse: string; status: string }) => x.warehouse === 'WEST' && x.status === 'pending'),
  );
  expect(await perWarehouse(sku)).toEqual({ EAST: '1/0', WEST: '3/3' });

  const moves = async () => Number((await s.db('stock_moves').count({ n: '*' }).first())!.n);
  const before = await moves();
  const tooMany = await move(sku, 2, 'stock', 'scrap');
  expect(tooMany.status).toBe(422);
  expect(tooMany.body.error.details[0]).toEqual({ path: 'quantity', message: 'at most 1' });
  expect((await move(sku, 1, 'stock', 'stock')).status).toBe(400);
  expect((await move(sku, 0, 'stock', 'scrap')).status).toBe(400);
  expect((await move(sku, 1, 'stock', 'scrap', 'NOWHERE')).status).toBe(422);
  expect((await move(sku, 1, 'shelf', 'scrap')).status).toBe(400);
  expect(await moves()).toBe(before);
});

test('a short pick of 3 of 5: the shipment ships 3, invoiced and captured for 3; the missing 2 are written off and re-plan', async () => {
  const sku = await stockedSku(s.db, { EAST: 5 }, 400);
  const { orderId } = await place(s, [{ sku, quantity: 5, unitPrice: 1000 }]);
  const o = await waitFor(s, orderId, 'fulfilling');
  const shipmentId = o.shipments[0].shipmentId as string;

  expect((await event(s, shipmentId, 'picked', { lines: [{ sku: 'NOT-ON-IT', quantity: 1 }] })).status).toBe(422);
  const over = await event(s, shipmentId, 'picked', { lines: [{ sku, quantity: 6 }] });
  expect(over.status).toBe(422);
  expect(over.body.error.details[0]).toEqual({
    path: 'lines.0.quantity',
    message: expect.stringContaining('at most 5'),
  });
  expect((await event(s, shipmentId, 'packed', { lines: [{ sku, quantity: 3 }] })).status).toBe(400);

  const short = await event(s, shipmentId, 'picked', { lines: [{ sku, quantity: 3 }] });
  expect(short.body).toMatchObject({ applied: true, shipmentStatus: 'picked' });
  expect(await perWarehouse(sku)).toEqual({ EAST: '3/3', WEST: '0/0' }); // 2 written off; nothing else to reserve
  const loss = await s
    .db('journal_entries as e')
    .join('journal_lines as l', 'l.entry_id', 'e.id')
    .where('e.idempotency_key', `short-pick:${shipmentId}`)
    .select('l.account_code', 'l.debit', 'l.credit');
  expect(loss.map((l) => `${l.account_code}:${l.debit}:${l.credit}`).sort()).toEqual(['1300:0:800', '5100:800:0']);
  expect((await event(s, shipmentId, 'picked', { lines: [{ sku, quantity: 3 }] })).status).toBe(409); // reported once

  for (const type of ['packed', 'shipped']) expect((await event(s, shipmentId, type)).status).toBe(200);
  const shipped = await waitFor(s, orderId, 'backordered', (x) =>
    x.payments.some((p: { kind: string }) => p.kind === 'capture'),
  );
  const invoiced = await s
    .db('invoice_lines as il')
    .join('invoices as i', 'i.id', 'il.invoice_id')
    .where('i.shipment_id', shipmentId)
    .whereNotNull('il.order_line_id')
    .sum({ q: 'il.quantity' })
    .first();
  expect(Number(invoiced!.q)).toBe(3);
  const invoice = await s.db('invoices').where({ shipment_id: shipmentId }).first('total');
  expect(shipped.payments.find((p: { kind: string }) => p.kind === 'capture').amount).toBe(invoice.total);

  // The two turn up behind a box: a count books them back and the backorder ships them.
  expect((await count(sku, 'EAST', 2)).body).toMatchObject({ difference: 2, ordersNotified: 1 });
  await waitFor(s, orderId, 'fulfilling', (x) => x.shipments.some((sh: { status: string }) => sh.status === 'pending'));
  expect(await perWarehouse(sku)).toEqual({ EAST: '2/2', WEST: '0/0' });
});

/** A one-unit order, cancelled before the warehouse reported anything: its parcel was never meant to leave. */
async function cancelledBeforePicking(sku: string) {
  const { orderId } = await place(s, [{ sku, quantity: 1, unitPrice: 1000 }]);
  const o = await waitFor(s, orderId, 'fulfilling');
  expect((await cancel(orderId)).status).toBe(202);
  await waitFor(s, orderId, 'cancelled', (x) => x.payments.length === 2);
  return { orderId, shipmentId: o.shipments[0].shipmentId as string };
}
const caseFor = (shipmentId: string) =>
  eventually(
    async () =>
      s.db('exceptions').where({ type: 'shipped_after_cancel', subject_id: shipmentId, status: 'open' }).first(),
    30000,
    'the shipped_after_cancel case',
  );
const resolve = (id: string, action: string) =>
  s.call('POST', `/v1/exceptions/${id}/resolution`, { key: s.keys.ops, body: { action, note: 'decided' } });
const cogsOf = async (shipmentId: string) =>
  Number(
    (await s
      .db('journal_lines as l')
      .join('journal_entries as e', 'e.id', 'l.entry_id')
      .where('e.source_id', shipmentId)
      .where('l.account_code', '5000')
      .select(s.db.raw('COALESCE(SUM(l.debit - l.credit), 0)::int AS n'))
      .first())!.n,
  );

test('a parcel shipped after its order was cancelled is never ignored: its stock leaves, the order its unit was promised to re-plans, and charging invoices it', async () => {
  const sku = await stockedSku(s.db, { EAST: 1 }, 400);
  const a = await cancelledBeforePicking(sku);
  const b = await place(s, [{ sku, quantity: 1, unitPrice: 1000 }]); // the unit back on the shelf is promised again
  await waitFor(s, b.orderId, 'fulfilling');

  const late = await event(s, a.shipmentId, 'shipped', { carrier: 'DHL', trackingNumber: 'LATE-1' });
  expect(late.status).toBe(200); // was 409 "Shipment is already cancelled": 1 unit on a truck, on the books as on the shelf
  expect(late.body).toMatchObject({
    applied: true,
    shipmentStatus: 'shipped_after_cancel',
    workflowId: `shipped-after-cancel-${a.shipmentId}`,
  });
  remember(late.body.workflowId);
  const c = await caseFor(a.shipmentId); // opened after the stock was booked out
  expect(c.queue).toBe('logistics');
  expect(await stockOf(sku)).toMatchObject({ onHand: 0, reserved: 0 });
  expect(await cogsOf(a.shipmentId)).toBe(400);
  await waitFor(s, b.orderId, 'backordered'); // its unit left with the cancelled parcel
  expect(
    (await event(s, a.shipmentId, 'shipped', { carrier: 'DHL', trackingNumber: 'LATE-1' })).body.shipmentStatus,
  ).toBe('shipped_after_cancel'); // a repeat, the same answer

  expect((await resolve(c.id, 'charge')).status).toBe(200);
  const invoice = await eventually(
    async () => s.db('invoices').where({ shipment_id: a.shipmentId }).first(),
    30000,
    'the invoice',
  );
  expect(invoice.total).toBe(Math.round(1000 * 1.19) + Math.round(500 * 1.19));
  await eventually(
    async () => (await s.client.workflow.getHandle(late.body.workflowId).describe()).status.name === 'COMPLETED',
    30000,
    'the process to end',
  );
  expect(await s.client.workflow.getHandle(late.body.workflowId).result()).toEqual({ outcome: 'charge', units: 1 });
});

test('intercepted: the parcel comes back, its units and their cost return to stock', async () => {
  const sku = await stockedSku(s.db, { EAST: 2 }, 400);
  const { shipmentId } = await cancelledBeforePicking(sku);
  const late = await event(s, shipmentId, 'shipped');
  remember(late.body.workflowId);
  await eventually(async () => (await stockOf(sku)).onHand === 1, 30000, 'the parcel booked out'); // its process books it
  expect((await resolve((await caseFor(shipmentId)).id, 'intercept')).status).toBe(200);
  await eventually(async () => (await stockOf(sku)).onHand === 2, 30000, 'the units back in stock');
  expect(await cogsOf(shipmentId)).toBe(0);
  expect(await s.db('shipments').where({ id: shipmentId }).first('status')).toEqual({ status: 'cancelled' });
});

test('100 orders reserving while counts and short picks land on the same SKU: no unit promised twice, never more reserved than on hand, the books hold', async () => {
  const sku = await stockedSku(s.db, { EAST: 60, WEST: 40 }, 200);
  const placed: string[] = [];
  const placing = (async () => {
    for (let i = 0; i < 100; i += 20)
      placed.push(
        ...(await Promise.all(Array.from({ length: 20 }, () => place(s, [{ sku, quantity: 1 }])))).map(
          (o) => o.orderId,
        ),
      );
  })();
  const counting = (async () => {
    for (const counted of [55, 48, 52, 40]) {
      expect((await count(sku, 'EAST', counted)).status).toBe(201);
      await new Promise((r) => setTimeout(r, 150));
    }
  })();
  const picking = (async () => {
    let shorts = 0;
    for (let round = 0; round < 100 && shorts < 5; round++) {
      const pending = await s
        .db('shipments as sh')
        .join('shipment_lines as sl', 'sl.shipment_id', 'sh.id')
        .join('sales_order_lines as l', 'l.id', 'sl.order_line_id')
        .join('products as p', 'p.id', 'l.product_id')
        .where({ 'p.sku': sku, 'sh.status': 'pending' })
        .limit(2)
        .select('sh.id');
      for (const sh of pending) {
        const r = await event(s, sh.id, 'picked', { lines: [{ sku, quantity: 0 }] });
        if (r.status === 200) shorts++;
        else if (r.status !== 409) throw new Error(`short pick answered ${r.status} ${JSON.stringify(r.body)}`); // 409: cancelled by a count meanwhile
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return shorts;
  })();
  const [, , shorts] = await Promise.all([placing, counting, picking]);
  expect(shorts).toBeGreaterThan(0);
  // Every order settles: reserved and on a shipment, or backordered.
  await eventually(
    async () => {
      const open = await s
        .db('sales_orders')
        .whereIn('id', placed)
        .whereNotIn('status', ['fulfilling', 'backordered', 'cancelled'])
        .count({ n: '*' })
        .first();
      return Number(open!.n) === 0;
    },
    60000,
    'every order settled',
  );

  const promised = await s
    .db('reservations as r')
    .join('sales_order_lines as l', 'l.id', 'r.order_line_id')
    .whereIn('r.order_id', placed)
    .whereNot('r.state', 'released')
    .groupBy('l.id', 'l.quantity')
    .select('l.quantity', s.db.raw('SUM(r.line_units)::int AS units'));
  for (const p of promised) expect(p.units).toBeLessThanOrEqual(p.quantity); // no unit promised twice
  const quants = await s
    .db('quants as q')
    .join('products as p', 'p.id', 'q.product_id')
    .where('p.sku', sku)
    .select('q.on_hand', 'q.reserved');
  for (const q of quants) expect(q.reserved).toBeLessThanOrEqual(q.on_hand);
  const { checkInvariants } = await import('../../db/invariants');
  expect((await checkInvariants(s.db)).filter((r) => !r.ok)).toEqual([]);
  const lost = await s
    .db('stock_moves as m')
    .join('products as p', 'p.id', 'm.product_id')
    .join('locations as l', 'l.id', 'm.to_location_id')
    .where({ 'p.sku': sku, 'l.type': 'inventory_loss' })
    .sum({ n: 'm.quantity' })
    .first();
  console.log(
    `100 orders racing 4 counts and ${shorts} short picks: ${lost!.n} unit(s) written off, ${quants.map((q) => `${q.on_hand}/${q.reserved}`).join(' ')} on hand/reserved`,
  );
}, 240000);
