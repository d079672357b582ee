/**
 * Reservation in one statement (`reserve_order`, migration 039; bench:hot-sku): its locks are held for that
 * statement only. These are the races it must still win: many orders for the last units, a channel's promise over
 * two warehouses, kits sharing a component, two attempts of one order at once, and a write beyond the stock.
 * Called directly, as the worker calls them, many at a time on a real Postgres.
 */
import { createActivities, sandboxDeps } from '../../activities';
import { createDb, Db, inTransaction } from '../../db';
import { upsertChannels } from '../../db/channels';
import { demandOf, holdStock } from '../../db/inventory';
import { recordOrder } from '../../db/sales';
import { closeProcessless, kitSku, orderBody, stockedSku, unique } from '../helpers/fixtures';

let db: Db;
let act: ReturnType<typeof createActivities>;
const placed: string[] = [];
beforeAll(() => {
  db = createDb(process.env.DATABASE_URL!, 20);
  act = createActivities(sandboxDeps(db));
});
afterAll(async () => {
  if (db) await closeProcessless(db, placed); // no process drove them: closed as the sweep would
  await db?.destroy();
});

async function newOrder(lines: { sku: string; quantity: number }[], channel = 'web') {
  const { orderId } = await recordOrder(db, orderBody(lines, { channel }), 'EUR');
  placed.push(orderId);
  return orderId;
}

/** On hand and reserved of a SKU over every warehouse, and what its active reservations hold. */
async function position(sku: string) {
  const q = await db('quants as q')
    .join('products as p', 'p.id', 'q.product_id')
    .join('locations as l', 'l.id', 'q.location_id')
    .where({ 'p.sku': sku, 'l.type': 'stock' })
    .select(db.raw('SUM(q.on_hand)::int AS on_hand, SUM(q.reserved)::int AS reserved'))
    .first();
  const r = await db('reservations as r')
    .join('products as p', 'p.id', 'r.product_id')
    .where({ 'p.sku': sku, 'r.state': 'active' })
    .select(db.raw('COALESCE(SUM(r.quantity), 0)::int AS held'))
    .first();
  return { onHand: q.on_hand as number, reserved: q.reserved as number, held: r.held as number };
}

test('300 orders at once for 40 units over two warehouses: exactly 40 served, the books match', async () => {
  const sku = await stockedSku(db, { EAST: 25, WEST: 15 });
  const orders = await Promise.all(Array.from({ length: 300 }, () => newOrder([{ sku, quantity: 1 }])));
  const results = await Promise.all(orders.map((orderId) => act.reserveStock({ orderId, allowPartial: false })));
  expect(results.filter((r) => r.readyToShip === 1 && r.shortUnits === 0)).toHaveLength(40);
  expect(results.filter((r) => r.readyToShip === 0 && r.shortUnits === 1)).toHaveLength(260);
  expect(await position(sku)).toEqual({ onHand: 40, reserved: 40, held: 40 });
});

test("a channel's buffer holds under a race over two warehouses: it never takes more than it may promise", async () => {
  const sku = await stockedSku(db, { EAST: 12, WEST: 8 });
  const channel = unique('guard').toLowerCase();
  // Pool 20, buffer max(3, 20 % of pool): the channel may take 16 of the 20, less as the pool shrinks.
  await inTransaction(db, (tx) =>
    upsertChannels(tx, [
      {
        code: channel,
        name: 'Guarded',
        kind: 'marketplace',
        warehouseIds: null,
        bufferUnits: 3,
        bufferPct: 20,
        cap: null,
        connection: null,
      },
    ]),
  );
  const orders = await Promise.all(Array.from({ length: 60 }, () => newOrder([{ sku, quantity: 1 }], channel)));
  const results = await Promise.all(orders.map((orderId) => act.reserveStock({ orderId, allowPartial: false })));
  // Each unit taken is checked against the pool left at that moment: promise(pool) >= 1 while the pool is 4
  // or more (5 - max(3, ceil(1)) = 2; 4 - 3 = 1; 3 - 3 = 0), so it stops with 3 units left: 17 served.
  const served = results.filter((r) => r.readyToShip === 1).length;
  expect(served).toBe(17);
  expect(await position(sku)).toEqual({ onHand: 20, reserved: 17, held: 17 });
});

test('kits sharing a component with a plain order line: no component oversold, every kit whole', async () => {
  const part = await stockedSku(db, { EAST: 10, WEST: 5 }, 200, 'PART');
  const box = await stockedSku(db, { EAST: 100 }, 100, 'BOX');
  const kit = await kitSku(db, [
    { sku: part, quantity: 2 },
    { sku: box, quantity: 1 },
  ]);
  const orders = await Promise.all(
    Array.from({ length: 40 }, (_, i) => newOrder(i % 2 ? [{ sku: kit, quantity: 1 }] : [{ sku: part, quantity: 1 }])),
  );
  await Promise.all(orders.map((orderId) => act.reserveStock({ orderId, allowPartial: false })));
  const parts = await position(part);
  expect(parts.reserved).toBe(parts.held);
  expect(parts.reserved).toBeLessThanOrEqual(15);
  expect(parts.reserved).toBeGreaterThanOrEqual(14); // at most one unit can be left that no kit fits
  // A kit's reservations are whole: two parts and one box per kit reserved.
  const kits = await db('reservations as r')
    .join('sales_order_lines as l', 'l.id', 'r.order_line_id')
    .join('products as p', 'p.id', 'l.product_id')
    .where({ 'p.sku': kit, 'r.state': 'active' })
    .groupBy('r.allocation_id')
    .select(db.raw('array_agg(r.quantity ORDER BY r.quantity) AS q'));
  expect(kits.length).toBeGreaterThan(0);
  for (const k of kits) expect(k.q).toEqual([1, 2]);
  expect((await position(box)).reserved).toBe(kits.length);
});

test('the same order reserved by ten attempts at once is reserved once', async () => {
  const sku = await stockedSku(db, { EAST: 50 });
  const orderId = await newOrder([{ sku, quantity: 3 }]);
  const results = await Promise.all(
    Array.from({ length: 10 }, () => act.reserveStock({ orderId, allowPartial: false })),
  );
  for (const r of results) expect(r).toEqual({ readyToShip: 3, shortUnits: 0, warehouses: ['EAST'] });
  expect(await position(sku)).toEqual({ onHand: 50, reserved: 3, held: 3 });
});

test('a write beyond the stock is refused whole, even from a caller that took no lock', async () => {
  const sku = await stockedSku(db, { EAST: 5 });
  const orderId = await newOrder([{ sku, quantity: 6 }]);
  const demand = await demandOf(db, orderId);
  const east = await db('locations as l')
    .join('warehouses as w', 'w.id', 'l.warehouse_id')
    .where({ 'w.code': 'EAST', 'l.type': 'stock' })
    .first('w.id as warehouseId', 'l.id as locationId');
  const allocation = [{ ...east, lines: [{ lineId: demand[0].lineId, units: 6 }] }];
  await expect(inTransaction(db, (tx) => holdStock(tx, { orderId }, demand, allocation))).rejects.toThrow(
    /not enough stock of product \d+ at location \d+ to reserve 6/,
  );
  expect(await db('reservations').where({ order_id: orderId }).count({ n: '*' }).first()).toEqual({ n: 0 });
  expect(await position(sku)).toEqual({ onHand: 5, reserved: 0, held: 0 });
  // Partial allowed: the 5 there are reserved, 1 short, in one statement.
  expect(await act.reserveStock({ orderId, allowPartial: true })).toEqual({
    readyToShip: 5,
    shortUnits: 1,
    warehouses: ['EAST'],
  });
  expect(await position(sku)).toEqual({ onHand: 5, reserved: 5, held: 5 });
});

test('an order needing more units than an int can count is answered short, not failed', async () => {
  const part = await stockedSku(db, { EAST: 10 }, 100, 'BIG');
  const crate = await kitSku(db, [{ sku: part, quantity: 100_000 }]);
  const orderId = await newOrder([{ sku: crate, quantity: 1_000_000 }]); // 10^11 parts
  expect(await act.reserveStock({ orderId, allowPartial: false })).toEqual({
    readyToShip: 0,
    shortUnits: 1_000_000,
    warehouses: [],
  });
  expect(await act.reserveStock({ orderId, allowPartial: true })).toEqual({
    readyToShip: 0,
    shortUnits: 1_000_000,
    warehouses: [],
  });
  expect(await position(part)).toEqual({ onHand: 10, reserved: 0, held: 0 });
});

test('the status a step writes tells what it tells (a backorder mails the customer once) and never moves back', async () => {
  const sku = await stockedSku(db, { EAST: 1 });
  const orderId = await newOrder([{ sku, quantity: 2 }]);
  const status = { whenReserved: 'reserved', whenShort: 'backordered' } as const;
  for (let i = 0; i < 2; i++)
    expect(await act.reserveStock({ orderId, allowPartial: false, status })).toMatchObject({ shortUnits: 2 });
  const order = () => db('sales_orders').where({ id: orderId }).first('status');
  expect(await order()).toEqual({ status: 'backordered' });
  expect(await db('notifications').where({ subject_id: orderId, template: 'order_delayed' })).toHaveLength(1);

  // A late attempt of a step the order has moved past writes nothing back.
  await act.setOrderStatus({ orderId, status: 'shipped' });
  await act.reserveStock({ orderId, allowPartial: false, status });
  await act.voidAuthorization({ orderId, status: 'completed' });
  expect(await order()).toEqual({ status: 'completed' });
  await act.reserveStock({ orderId, allowPartial: true, status });
  expect(await order()).toEqual({ status: 'completed' });
  expect(await position(sku)).toEqual({ onHand: 1, reserved: 1, held: 1 }); // the stock step itself still ran
});
