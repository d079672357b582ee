/**
 * Channels as managed data and what each may promise: the buffer (units or percent of the pool), the cap and
 * the warehouses that serve a channel shape its availability, reservation never takes beyond it (also when
 * two channels race for the last units), and the change feed tells a polling storefront what moved.
 */
import { kitSku, orderBody, stockedSku, unique } from '../helpers/fixtures';
import { waitFor } from '../helpers/orders';
import { eventually, startStack, Stack } from '../helpers/stack';

let s: Stack;
beforeAll(async () => {
  s = await startStack({ BACKORDER_WAIT_TIMEOUT: '10m', BACKORDER_RECHECK_INTERVAL: '10m' });
});
afterAll(async () => s?.stop());

const code = () => unique('ch').toLowerCase();
const upsert = (channels: object[], key = s.keys.ops) => s.call('POST', '/v1/channels', { key, body: { channels } });
const available = async (channel: string, ...skus: string[]) => {
  const res = await s.call('GET', `/v1/availability?channel=${channel}&${skus.map((k) => `sku=${k}`).join('&')}`);
  expect(res.status).toBe(200);
  return Object.fromEntries(res.body.items.map((i: { sku: string; available: number }) => [i.sku, i.available]));
};

test('channels are managed data: bulk upsert all or nothing, read back with their rules', async () => {
  const [shop, till] = [code(), code()];
  const res = await upsert([
    { code: shop, name: 'Shop', kind: 'webshop', bufferUnits: 2, bufferPct: 10 },
    { code: till, name: 'Till', kind: 'pos', warehouses: ['EAST'], cap: 5 },
  ]);
  expect(res).toMatchObject({ status: 200, body: { written: 2 } });
  expect((await s.call('GET', `/v1/channels/${till}`)).body).toEqual({
    code: till,
    name: 'Till',
    kind: 'pos',
    warehouses: ['EAST'],
    bufferUnits: 0,
    bufferPct: 0,
    cap: 5,
    connection: null,
  });
  const list = (await s.call('GET', '/v1/channels')).body.channels;
  expect(list.find((c: { code: string }) => c.code === shop)).toMatchObject({
    warehouses: 'all',
    bufferUnits: 2,
    bufferPct: 10,
  });

  // One bad row: nothing written, each problem listed.
  const other = code();
  const bad = await upsert([
    { code: other, name: 'Other', kind: 'webshop' },
    { code: shop, name: 'Shop renamed', kind: 'webshop', warehouses: ['NOWHERE'] },
  ]);
  expect(bad.status).toBe(422);
  expect(bad.body.error.details).toEqual([{ index: 1, code: shop, message: 'unknown warehouse NOWHERE' }]);
  expect((await s.call('GET', `/v1/channels/${other}`)).status).toBe(404);
  expect((await s.call('GET', `/v1/channels/${shop}`)).body.name).toBe('Shop');

  for (const wrong of [{ bufferUnits: -1 }, { bufferPct: 101 }, { cap: -3 }, { kind: 'fax' }, { code: 'Has Space' }]) {
    expect((await upsert([{ code: code(), name: 'X', kind: 'webshop', ...wrong }])).status).toBe(400);
  }
  expect((await upsert([{ code: code(), name: 'X', kind: 'webshop' }], s.keys.storefront)).status).toBe(403);
});

test('availability per channel: buffer in units or percent of the pool, cap, warehouses; kits from components', async () => {
  const sku = await stockedSku(s.db, { EAST: 12, WEST: 8 }); // pool 20
  const part = await stockedSku(s.db, { EAST: 7 });
  const kit = await kitSku(s.db, [{ sku: part, quantity: 2 }]);
  const [plain, units, pct, capped, east] = [code(), code(), code(), code(), code()];
  expect(
    (
      await upsert([
        { code: plain, name: 'Plain', kind: 'webshop' },
        { code: units, name: 'Units', kind: 'webshop', bufferUnits: 3 },
        { code: pct, name: 'Percent', kind: 'marketplace', bufferPct: 25, bufferUnits: 1 },
        { code: capped, name: 'Capped', kind: 'pos', cap: 4 },
        { code: east, name: 'East only', kind: 'pos', warehouses: ['EAST'] },
      ])
    ).status,
  ).toBe(200);
  expect(await available(plain, sku, kit)).toEqual({ [sku]: 20, [kit]: 3 });
  expect(await available(units, sku)).toEqual({ [sku]: 17 });
  expect(await available(pct, sku)).toEqual({ [sku]: 15 }); // max(1, 25% of 20)
  expect(await available(capped, sku)).toEqual({ [sku]: 4 });
  expect(await available(east, sku)).toEqual({ [sku]: 12 });

  const unknown = await s.call('GET', `/v1/availability?channel=${plain}&sku=${sku}&sku=NOPE-${unique('x')}`);
  expect(unknown.status).toBe(422);
  expect((await s.call('GET', `/v1/availability?channel=nope-${Date.now()}&sku=${sku}`)).status).toBe(404);
  expect((await s.call('GET', `/v1/availability?channel=${plain}`)).status).toBe(400);
  // 1,000 SKUs fit in one read (about 20 KiB of URL): the long query string is taken and checked.
  const thousand = Array.from({ length: 999 }, (_, i) => `sku=NOT-A-REAL-SKU-${i}`).join('&');
  const big = await s.call('GET', `/v1/availability?channel=${plain}&sku=${sku}&${thousand}`);
  expect(big.status).toBe(422);
  expect(big.body.error.details).toHaveLength(999);
  const many = Array.from({ length: 1001 }, (_, i) => `sku=S${i}`).join('&');
  expect((await s.call('GET', `/v1/availability?channel=${plain}&${many}`)).status).toBe(400);
});

test('a reservation never takes more than its channel may promise: the buffer is left for the others', async () => {
  const sku = await stockedSku(s.db, { EAST: 5, WEST: 5 }); // pool 10
  const [guarded, open] = [code(), code()];
  await upsert([
    { code: guarded, name: 'Guarded', kind: 'marketplace', bufferUnits: 4 },
    { code: open, name: 'Open', kind: 'webshop' },
  ]);
  const tooMuch = await s.call('POST', '/v1/orders', {
    key: s.keys.storefront,
    body: orderBody([{ sku, quantity: 7 }], { channel: guarded, backorderPolicy: 'cancel' }),
  });
  expect(tooMuch.status).toBe(201);
  await waitFor(s, tooMuch.body.orderId, 'cancelled');
  const fits = await s.call('POST', '/v1/orders', {
    key: s.keys.storefront,
    body: orderBody([{ sku, quantity: 6 }], { channel: guarded, backorderPolicy: 'cancel' }),
  });
  await waitFor(s, fits.body.orderId, 'fulfilling');
  expect(await available(guarded, sku)).toEqual({ [sku]: 0 });
  expect(await available(open, sku)).toEqual({ [sku]: 4 }); // what the buffer kept
  const rest = await s.call('POST', '/v1/orders', {
    key: s.keys.storefront,
    body: orderBody([{ sku, quantity: 4 }], { channel: open, backorderPolicy: 'cancel' }),
  });
  await waitFor(s, rest.body.orderId, 'fulfilling');
  for (const id of [fits.body.orderId, rest.body.orderId])
    await s.call('POST', `/v1/orders/${id}/cancel`, { key: s.keys.ops, body: { reason: 'test over' } });
});

test('two channels racing for the last units: neither takes beyond its promise, nothing is oversold', async () => {
  const sku = await stockedSku(s.db, { EAST: 10, WEST: 10 }); // pool 20
  const [guarded, open] = [code(), code()];
  await upsert([
    { code: guarded, name: 'Guarded', kind: 'marketplace', bufferUnits: 8 }, // never takes the last 8 units
    { code: open, name: 'Open', kind: 'webshop' },
  ]);
  const bodies = Array.from({ length: 40 }, (_, i) =>
    orderBody([{ sku, quantity: 1 }], { channel: i % 2 ? guarded : open, backorderPolicy: 'cancel' }),
  );
  const placed = await Promise.all(
    bodies.map((body) => s.call('POST', '/v1/orders', { key: s.keys.storefront, body })),
  );
  expect(placed.every((p) => p.status === 201)).toBe(true);
  const ids = placed.map((p) => p.body.orderId as string);
  const rows = await eventually(async () => {
    const r = await s
      .db('sales_orders as o')
      .join('channels as c', 'c.id', 'o.channel_id')
      .whereIn('o.id', ids)
      .select('o.status', 'c.code');
    return r.every((x) => ['fulfilling', 'cancelled'].includes(x.status)) ? r : undefined;
  }, 120000);
  const won = (ch: string) => rows.filter((r) => r.code === ch && r.status === 'fulfilling').length;
  expect(won(guarded) + won(open)).toBe(20); // every unit sold once
  // The guarded channel sold only while more than its buffer was left: the last 8 went to the open channel.
  expect(won(guarded)).toBeLessThanOrEqual(12);
  expect(won(open)).toBeGreaterThanOrEqual(8);
  const quants = await s
    .db('quants as q')
    .join('products as p', 'p.id', 'q.product_id')
    .where('p.sku', sku)
    .select('q.on_hand', 'q.reserved');
  for (const q of quants) expect(q.reserved).toBeLessThanOrEqual(q.on_hand);
  for (const id of ids)
    await s.call('POST', `/v1/orders/${id}/cancel`, { key: s.keys.ops, body: { reason: 'test over' } });
});

test('the change feed: what moved since a cursor, with its number now, and a cursor that moves on', async () => {
  const sku = await stockedSku(s.db, { EAST: 6 });
  const kit = await kitSku(s.db, [{ sku, quantity: 2 }]); // moves when its component does
  const ch = code();
  await upsert([{ code: ch, name: 'Feed', kind: 'webshop', bufferUnits: 1 }]);
  // Catch up to now (the upsert noted every SKU for this channel).
  let cursor = 0;
  for (;;) {
    const page = await s.call('GET', `/v1/availability/changes?channel=${ch}&after=${cursor}&limit=1000`);
    expect(page.status).toBe(200);
    if (page.body.next === cursor) break;
    cursor = page.body.next;
  }
  const order = await s.call('POST', '/v1/orders', {
    key: s.keys.storefront,
    body: orderBody([{ sku, quantity: 2 }], { channel: ch }),
  });
  await waitFor(s, order.body.orderId, 'fulfilling');
  const page = await eventually(async () => {
    const p = await s.call('GET', `/v1/availability/changes?channel=${ch}&after=${cursor}&limit=1000`);
    return p.body.changes.some((c: { sku: string }) => c.sku === sku) ? p.body : undefined;
  });
  expect(page.changes.filter((c: { sku: string }) => c.sku === sku)).toEqual([
    { sku, available: 3, seq: expect.any(Number) },
  ]);
  expect(page.changes.filter((c: { sku: string }) => c.sku === kit)).toEqual([
    { sku: kit, available: 1, seq: expect.any(Number) },
  ]);
  expect(page.next).toBeGreaterThan(cursor);
  const again = await s.call('GET', `/v1/availability/changes?channel=${ch}&after=${page.next}&limit=1000`);
  expect(again.body.changes.filter((c: { sku: string }) => c.sku === sku)).toEqual([]);
  await s.call('POST', `/v1/orders/${order.body.orderId}/cancel`, { key: s.keys.ops, body: { reason: 'test over' } });
});
