/**
 * Calculations: the allocation strategy and a channel's promise (database functions, migration 039, called on
 * the test database as the reservation calls them) and money rounding.
 */
import { createDb, type Db } from '../../db';
import { promise } from '../../db/channels';
import { allocate as allocateIn, type DemandLine, type WarehouseStock } from '../../db/inventory';
import { formatMoney, shareOf, taxOn } from '../../lib/money';

let db: Db;
beforeAll(() => {
  db = createDb(process.env.DATABASE_URL!, 2);
});
afterAll(async () => db?.destroy());
const allocate = (lines: DemandLine[], warehouses: WarehouseStock[], budget?: Map<number, number>) =>
  allocateIn(db, lines, warehouses, budget);

const wh = (warehouseId: number, priority: number, stock: Record<number, number>): WarehouseStock => ({
  warehouseId,
  locationId: warehouseId * 10,
  priority,
  available: new Map(Object.entries(stock).map(([k, v]) => [Number(k), v])),
});
const line = (lineId: number, remaining: number, components: [number, number][]) => ({
  lineId,
  remaining,
  components: components.map(([productId, perUnit]) => ({ productId, perUnit })),
});

describe('allocate: fewest shipments first, then warehouse priority', () => {
  test('one warehouse with everything wins, the higher priority among several', async () => {
    const r = await allocate([line(1, 2, [[7, 1]])], [wh(2, 20, { 7: 5 }), wh(1, 10, { 7: 5 })]);
    expect(r).toEqual({
      allocations: [{ warehouseId: 1, locationId: 10, lines: [{ lineId: 1, units: 2 }] }],
      shortUnits: 0,
    });
  });

  test('a lower-priority warehouse that can ship everything beats a split', async () => {
    const r = await allocate(
      [line(1, 2, [[7, 1]]), line(2, 1, [[8, 1]])],
      [wh(1, 10, { 7: 2 }), wh(2, 20, { 7: 2, 8: 1 })],
    );
    expect(r.allocations.map((a) => a.warehouseId)).toEqual([2]);
  });

  test('a split takes the warehouse covering most units first', async () => {
    const r = await allocate([line(1, 5, [[7, 1]])], [wh(1, 10, { 7: 2 }), wh(2, 20, { 7: 3 })]);
    expect(r.allocations.map((a) => [a.warehouseId, a.lines[0].units])).toEqual([
      [2, 3],
      [1, 2],
    ]);
    expect(r.shortUnits).toBe(0);
  });

  test('shared kit components are counted once across lines', async () => {
    // Line 1: 2 kits of (A x1, B x1); line 2: 1 A. 2 A in stock: one line cannot be covered.
    const r = await allocate(
      [
        line(1, 2, [
          [1, 1],
          [2, 1],
        ]),
        line(2, 1, [[1, 1]]),
      ],
      [wh(1, 10, { 1: 2, 2: 5 })],
    );
    expect(r.allocations[0].lines).toEqual([{ lineId: 1, units: 2 }]);
    expect(r.shortUnits).toBe(1);
  });

  test('kits with several units of a component', async () => {
    const r = await allocate([line(1, 3, [[1, 3]])], [wh(1, 10, { 1: 7 })]);
    expect(r.allocations[0].lines).toEqual([{ lineId: 1, units: 2 }]);
    expect(r.shortUnits).toBe(1);
  });

  test('nothing anywhere: no allocation, all short', async () => {
    expect(await allocate([line(1, 4, [[1, 1]])], [wh(1, 10, {}), wh(2, 20, { 1: 0 })])).toEqual({
      allocations: [],
      shortUnits: 4,
    });
  });

  test("the channel's budget is over all warehouses: a split never takes more than it in all", async () => {
    const r = await allocate(
      [line(1, 6, [[7, 1]]), line(2, 2, [[8, 1]])],
      [wh(1, 10, { 7: 4, 8: 2 }), wh(2, 20, { 7: 4 })],
      new Map([
        [7, 5],
        [8, 2],
      ]),
    );
    expect(r).toEqual({
      allocations: [
        {
          warehouseId: 1,
          locationId: 10,
          lines: [
            { lineId: 1, units: 4 },
            { lineId: 2, units: 2 },
          ],
        },
        { warehouseId: 2, locationId: 20, lines: [{ lineId: 1, units: 1 }] },
      ],
      shortUnits: 1,
    });
  });

  test('ties go to priority, then to the lower warehouse id', async () => {
    const r = await allocate([line(1, 4, [[7, 1]])], [wh(3, 10, { 7: 2 }), wh(2, 10, { 7: 2 }), wh(1, 5, { 7: 1 })]);
    expect(r.allocations.map((a) => a.warehouseId)).toEqual([2, 3]);
    expect(r.shortUnits).toBe(0);
  });
});

test("a channel's promise is the same number in the database as in the availability feeds", async () => {
  const cases: [number, number, number, number | null][] = [];
  for (const pool of [-3, 0, 1, 4, 7, 20, 99, 1000, 1250])
    for (const units of [0, 3])
      for (const pct of [0, 0.07, 0.56, 7, 10, 12.5, 33.33, 99.99, 100])
        for (const cap of [null, 0, 5]) cases.push([pool, units, pct, cap]);
  const { rows } = await db.raw(
    `SELECT channel_promise((c->>'pool')::int, (c->>'units')::int, (c->>'pct')::numeric, (c->>'cap')::int) AS p
       FROM jsonb_array_elements(?::jsonb) WITH ORDINALITY AS x(c, i) ORDER BY i`,
    [JSON.stringify(cases.map(([pool, units, pct, cap]) => ({ pool, units, pct, cap })))],
  );
  expect(rows.map((r: { p: number }) => r.p)).toEqual(
    cases.map(([pool, bufferUnits, bufferPct, cap]) => promise(pool, { bufferUnits, bufferPct, cap })),
  );
});

describe('money', () => {
  test('minor units formatted for people', () => {
    expect(formatMoney(439776, 'EUR')).toBe('4397.76 EUR');
    expect(formatMoney(5, 'EUR')).toBe('0.05 EUR');
    expect(formatMoney(-1250, 'USD')).toBe('-12.50 USD');
  });
  test('tax rounds half to even', () => {
    expect(taxOn(1000, 1900)).toBe(190);
    expect(taxOn(50, 1000)).toBe(5);
    expect(taxOn(25, 1000)).toBe(2); // 2.5 -> 2
    expect(taxOn(35, 1000)).toBe(4); // 3.5 -> 4
    expect(taxOn(0, 2000)).toBe(0);
  });

  test('proportional shares add up exactly to the whole', () => {
    const tax = 190; // over 3 units
    const first = shareOf(tax, 1, 3, 0, 0);
    const second = shareOf(tax, 1, 3, first, 1);
    const third = shareOf(tax, 1, 3, first + second, 2);
    expect(first + second + third).toBe(tax);
    expect([first, second, third]).toEqual([63, 64, 63]);
    expect(shareOf(100, 3, 3, 0, 0)).toBe(100);
  });
});
