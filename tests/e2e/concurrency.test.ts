/**
 * Overselling under load: 200 orders placed at once, over two channels, for a
 * SKU with 50 units in two warehouses. Exactly 50 units may be reserved and
 * shipped; the rest are backordered or cancelled as each order's policy says.
 */
import { stockedSku } from '../helpers/fixtures';
import { getOrder, shipAll } from '../helpers/orders';
import { orderBody } from '../helpers/fixtures';
import { eventually, startStack, Stack } from '../helpers/stack';

let s: Stack;
beforeAll(async () => {
  // Backorders wait longer than this test, so nothing times out mid-assertion.
  s = await startStack({ BACKORDER_WAIT_TIMEOUT: '10m', BACKORDER_RECHECK_INTERVAL: '10m' });
});
afterAll(async () => s?.stop());

const N = 200;

test(`${N} simultaneous orders for 50 units: exactly 50 reserved and shipped, nothing negative`, async () => {
  const sku = await stockedSku(s.db, { EAST: 30, WEST: 20 });
  const bodies = Array.from({ length: N }, (_, i) =>
    orderBody([{ sku, quantity: 1 }], {
      channel: i % 2 ? 'web' : 'marketplace',
      backorderPolicy: i % 4 === 0 ? 'cancel' : 'ship_available',
    }),
  );
  const placed = await Promise.all(
    bodies.map((body) => s.call('POST', '/v1/orders', { key: s.keys.storefront, body })),
  );
  expect(placed.map((p) => p.status)).toEqual(Array(N).fill(201));
  const ids = placed.map((p) => p.body.orderId as string);

  // Every order settles: reserved with a shipment, backordered, or cancelled (policy cancel).
  const settled = await eventually(
    async () => {
      const rows = await s.db('sales_orders').whereIn('id', ids).select('id', 'status', 'backorder_policy');
      return rows.every((r) => ['fulfilling', 'backordered', 'cancelled'].includes(r.status)) ? rows : undefined;
    },
    180000,
    'all orders to settle',
  );
  const reserved = await s
    .db('reservations as r')
    .join('products as p', 'p.id', 'r.product_id')
    .where('p.sku', sku)
    .where('r.state', 'active')
    .sum({ q: 'r.quantity' })
    .first();
  expect(reserved!.q).toBe(50);
  const fulfilling = settled.filter((r) => r.status === 'fulfilling');
  expect(fulfilling).toHaveLength(50);
  expect(settled.filter((r) => r.status === 'cancelled').every((r) => r.backorder_policy === 'cancel')).toBe(true);
  expect(settled.filter((r) => r.status === 'backordered').every((r) => r.backorder_policy === 'ship_available')).toBe(
    true,
  );
  expect(
    settled.filter((r) => r.status === 'backordered').length + settled.filter((r) => r.status === 'cancelled').length,
  ).toBe(N - 50);

  // Ship the 50 and check the quants.
  for (const r of fulfilling) await shipAll(s, await getOrder(s, r.id), 'shipped');
  await eventually(
    async () => {
      const n = await s
        .db('shipments')
        .whereIn(
          'order_id',
          fulfilling.map((f) => f.id),
        )
        .where('status', 'shipped')
        .count({ n: '*' })
        .first();
      return Number(n!.n) === 50;
    },
    120000,
    '50 shipments to ship',
  );
  const quants = await s
    .db('quants as q')
    .join('products as p', 'p.id', 'q.product_id')
    .where('p.sku', sku)
    .select('q.on_hand', 'q.reserved');
  expect(quants.map((q) => q.on_hand)).toEqual([0, 0]);
  expect(quants.map((q) => q.reserved)).toEqual([0, 0]);
  const shippedUnits = await s
    .db('stock_moves as m')
    .join('products as p', 'p.id', 'm.product_id')
    .where({ 'p.sku': sku, 'm.source_type': 'shipment' })
    .sum({ q: 'm.quantity' })
    .first();
  expect(shippedUnits!.q).toBe(50);

  // Leave no process running: cancel the backorders.
  const open = await s.db('sales_orders').whereIn('id', ids).where('status', 'backordered').pluck('id');
  for (const id of open)
    expect(
      (await s.call('POST', `/v1/orders/${id}/cancel`, { key: s.keys.ops, body: { reason: 'test over' } })).status,
    ).toBe(202);
}, 600000);

test('the same order posted 5 times at once creates one order and one workflow', async () => {
  const sku = await stockedSku(s.db, { EAST: 5 });
  const body = orderBody([{ sku, quantity: 1 }]);
  const answers = await Promise.all(
    Array.from({ length: 5 }, () => s.call('POST', '/v1/orders', { key: s.keys.storefront, body })),
  );
  expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 201]);
  expect(new Set(answers.map((a) => a.body.orderId)).size).toBe(1);
  const rows = await s
    .db('sales_orders as o')
    .join('channels as c', 'c.id', 'o.channel_id')
    .where({ 'c.code': 'web', 'o.external_ref': body.externalRef });
  expect(rows).toHaveLength(1);
  const runs: string[] = [];
  await eventually(
    async () => {
      runs.length = 0;
      for await (const w of s.client.workflow.list({ query: `WorkflowId = '${answers[0].body.workflowId}'` }))
        runs.push(w.runId);
      return runs.length > 0;
    },
    20000,
    'visibility',
  );
  expect(runs).toHaveLength(1);
  expect(await s.db('audit_log').where({ action: 'order.place', target: answers[0].body.orderId })).toHaveLength(5);
});
