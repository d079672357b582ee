/**
 * Checkout holds: all or nothing within what the channel may promise, lowering its availability at once;
 * released by the storefront or expired by a durable timer exactly once (also across a worker outage);
 * taken over by the order placed with it, never counted twice; double use refused.
 */
import { kitSku, orderBody, stockedSku, unique } from '../helpers/fixtures';
import { recordHistories, remember, waitFor } from '../helpers/orders';
import { eventually, startStack, Stack } from '../helpers/stack';

let s: Stack;
beforeAll(async () => {
  s = await startStack({ BACKORDER_WAIT_TIMEOUT: '10m', BACKORDER_RECHECK_INTERVAL: '10m' });
});
afterAll(async () => {
  await recordHistories(s, 'holds');
  await s?.stop();
});

const hold = (lines: { sku: string; quantity: number }[], ttlSeconds = 600, channel = 'web') =>
  s.call('POST', '/v1/holds', { key: s.keys.storefront, body: { channel, lines, ttlSeconds } });
const available = async (sku: string, channel = 'web') =>
  (await s.call('GET', `/v1/availability?channel=${channel}&sku=${sku}`)).body.items[0].available as number;
const quant = async (sku: string) =>
  s
    .db('quants as q')
    .join('products as p', 'p.id', 'q.product_id')
    .where('p.sku', sku)
    .sum({ onHand: 'q.on_hand', reserved: 'q.reserved' })
    .first();

test('a hold lowers availability at once; short is a 409 with what is short and nothing held; release gives it back once', async () => {
  const [a, b] = [await stockedSku(s.db, { EAST: 5 }), await stockedSku(s.db, { WEST: 2 })];
  const held = await hold([
    { sku: a, quantity: 4 },
    { sku: b, quantity: 2 },
  ]);
  expect(held.status).toBe(201);
  expect(held.body).toMatchObject({
    channel: 'web',
    status: 'active',
    lines: [
      { sku: a, quantity: 4 },
      { sku: b, quantity: 2 },
    ],
  });
  remember(`hold-${held.body.holdId}`);
  expect([await available(a), await available(b)]).toEqual([1, 0]);

  const short = await hold([
    { sku: a, quantity: 1 },
    { sku: b, quantity: 1 },
  ]);
  expect(short.status).toBe(409);
  expect(short.body.error.details).toEqual([{ path: 'lines', sku: b, requested: 1, available: 0 }]);
  expect(await available(a)).toBe(1); // the line that fitted was not held either

  const released = await s.call('DELETE', `/v1/holds/${held.body.holdId}`, { key: s.keys.storefront });
  expect(released).toMatchObject({ status: 200, body: { status: 'released' } });
  expect([await available(a), await available(b)]).toEqual([5, 2]);
  expect((await s.call('DELETE', `/v1/holds/${held.body.holdId}`, { key: s.keys.storefront })).status).toBe(409);
  expect(await quant(a)).toEqual({ onHand: 5, reserved: 0 });
});

test('a hold expires by itself at its deadline, exactly once, even when no worker ran at that moment', async () => {
  const sku = await stockedSku(s.db, { EAST: 3 });
  const held = await hold([{ sku, quantity: 3 }], 10);
  expect(held.status).toBe(201);
  remember(`hold-${held.body.holdId}`);
  await s.stopWorker(); // the deadline passes with nobody to run the timer
  await new Promise((r) => setTimeout(r, 11_000));
  expect(await available(sku)).toBe(0); // still held: nothing releases it but the process
  await s.startWorker();
  await eventually(
    async () => (await s.call('GET', `/v1/holds/${held.body.holdId}`)).body.status === 'expired',
    30_000,
  );
  expect(await available(sku)).toBe(3);
  expect(await quant(sku)).toEqual({ onHand: 3, reserved: 0 });
  const result = await s.client.workflow.getHandle(`hold-${held.body.holdId}`).result();
  expect(result).toEqual({ expired: true });
});

test('an order placed with its hold takes the held units over: counted once; a second use is refused', async () => {
  const sku = await stockedSku(s.db, { EAST: 2, WEST: 1 });
  const held = await hold([{ sku, quantity: 3 }]);
  remember(`hold-${held.body.holdId}`);
  expect(await available(sku)).toBe(0);
  const order = await s.call('POST', '/v1/orders', {
    key: s.keys.storefront,
    body: orderBody([{ sku, quantity: 3 }], { holdId: held.body.holdId, backorderPolicy: 'cancel' }),
  });
  expect(order.status).toBe(201);
  await waitFor(s, order.body.orderId, 'fulfilling');
  expect((await s.call('GET', `/v1/holds/${held.body.holdId}`)).body).toMatchObject({
    status: 'consumed',
    orderId: order.body.orderId,
  });
  expect(await quant(sku)).toEqual({ onHand: 3, reserved: 3 }); // not 6
  expect(await available(sku)).toBe(0);

  const twice = await s.call('POST', '/v1/orders', {
    key: s.keys.storefront,
    body: orderBody([{ sku, quantity: 1 }], { holdId: held.body.holdId }),
  });
  expect(twice.status).toBe(409);
  expect(twice.body.error.details).toEqual([{ path: 'holdId', message: 'already used by another order' }]);
  await s.call('POST', `/v1/orders/${order.body.orderId}/cancel`, { key: s.keys.ops, body: { reason: 'test over' } });
  await waitFor(s, order.body.orderId, 'cancelled');
  expect(await quant(sku)).toEqual({ onHand: 3, reserved: 0 });
});

test('a hold an order claimed does not expire under it; the order cancelled before reserving gives it back', async () => {
  const sku = await stockedSku(s.db, { EAST: 2 });
  const held = await hold([{ sku, quantity: 2 }], 10);
  remember(`hold-${held.body.holdId}`);
  await s.stopWorker(); // the order is recorded and claims the hold, but nothing reserves it yet
  const order = await s.call('POST', '/v1/orders', {
    key: s.keys.storefront,
    body: orderBody([{ sku, quantity: 2 }], { holdId: held.body.holdId }),
  });
  expect(order.status).toBe(201);
  await new Promise((r) => setTimeout(r, 11_000)); // past the hold's deadline
  await s.startWorker();
  await waitFor(s, order.body.orderId, 'fulfilling');
  expect((await s.call('GET', `/v1/holds/${held.body.holdId}`)).body.status).toBe('consumed');
  expect(await quant(sku)).toEqual({ onHand: 2, reserved: 2 });
  await s.call('POST', `/v1/orders/${order.body.orderId}/cancel`, { key: s.keys.ops, body: { reason: 'test over' } });
  await waitFor(s, order.body.orderId, 'cancelled');
  expect(await quant(sku)).toEqual({ onHand: 2, reserved: 0 });
});

test('an order takes over only what it needs; an unknown hold falls back to normal reservation', async () => {
  const sku = await stockedSku(s.db, { EAST: 4 });
  const held = await hold([{ sku, quantity: 3 }]);
  remember(`hold-${held.body.holdId}`);
  const order = await s.call('POST', '/v1/orders', {
    key: s.keys.storefront,
    body: orderBody([{ sku, quantity: 1 }], { holdId: held.body.holdId }),
  });
  await waitFor(s, order.body.orderId, 'fulfilling');
  expect(await quant(sku)).toEqual({ onHand: 4, reserved: 1 }); // the 2 not needed went back
  const stranger = await s.call('POST', '/v1/orders', {
    key: s.keys.storefront,
    body: orderBody([{ sku, quantity: 2 }], { holdId: '00000000-0000-4000-8000-000000000000' }),
  });
  expect(stranger.status).toBe(201);
  await waitFor(s, stranger.body.orderId, 'fulfilling');
  expect(await quant(sku)).toEqual({ onHand: 4, reserved: 3 });
  for (const id of [order.body.orderId, stranger.body.orderId]) {
    await s.call('POST', `/v1/orders/${id}/cancel`, { key: s.keys.ops, body: { reason: 'test over' } });
  }
});

test('holds and orders racing for the last units: nothing is promised twice', async () => {
  const sku = await stockedSku(s.db, { EAST: 10, WEST: 10 });
  const requests = Array.from({ length: 40 }, (_, i) =>
    i % 2
      ? hold([{ sku, quantity: 1 }])
      : s.call('POST', '/v1/orders', {
          key: s.keys.storefront,
          body: orderBody([{ sku, quantity: 1 }], { backorderPolicy: 'cancel' }),
        }),
  );
  const answers = await Promise.all(requests);
  const holds = answers.filter((a, i) => i % 2 && a.status === 201);
  expect(answers.filter((a, i) => i % 2).every((a) => a.status === 201 || a.status === 409)).toBe(true);
  const orderIds = answers.filter((_, i) => i % 2 === 0).map((a) => a.body.orderId as string);
  const settled = await eventually(async () => {
    const rows = await s.db('sales_orders').whereIn('id', orderIds).select('status');
    return rows.every((r) => ['fulfilling', 'cancelled'].includes(r.status)) ? rows : undefined;
  }, 120_000);
  const reservedOrders = settled.filter((r) => r.status === 'fulfilling').length;
  expect(holds.length + reservedOrders).toBe(20); // every unit promised once: none twice, none left over
  expect(await quant(sku)).toEqual({ onHand: 20, reserved: holds.length + reservedOrders });
  for (const h of holds) await s.call('DELETE', `/v1/holds/${h.body.holdId}`, { key: s.keys.storefront });
  for (const id of orderIds)
    await s.call('POST', `/v1/orders/${id}/cancel`, { key: s.keys.ops, body: { reason: 'test over' } });
});

test('bad input: 4xx with the reason, nothing held', async () => {
  const sku = await stockedSku(s.db, { EAST: 3 });
  const kit = await kitSku(s.db, [{ sku, quantity: 1 }]);
  expect((await hold([{ sku, quantity: 1 }], 5)).status).toBe(400); // ttl below 10 s
  expect((await hold([{ sku, quantity: 1 }], 86_401)).status).toBe(400);
  expect((await hold([{ sku, quantity: -1 }])).status).toBe(400);
  expect((await hold([{ sku, quantity: 1 }], 60, `nope-${Date.now()}`)).status).toBe(422);
  const lines = await hold([
    { sku: `NO-${unique('x')}`, quantity: 1 },
    { sku: kit, quantity: 1 },
    { sku, quantity: 1 },
    { sku, quantity: 1 },
  ]);
  expect(lines.status).toBe(422);
  expect(lines.body.error.details.map((d: { message: string }) => d.message)).toEqual([
    expect.stringMatching(/^unknown SKU/),
    `${kit} is a kit: hold its components`,
    `${sku} appears twice`,
  ]);
  expect(
    (
      await s.call('POST', '/v1/holds', {
        key: s.keys.ops,
        body: { channel: 'web', lines: [{ sku, quantity: 1 }], ttlSeconds: 60 },
      })
    ).status,
  ).toBe(403);
  expect((await s.call('GET', '/v1/holds/not-a-uuid')).status).toBe(400);
  expect(await quant(sku)).toEqual({ onHand: 3, reserved: 0 });
});
