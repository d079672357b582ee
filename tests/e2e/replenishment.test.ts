/**
 * Replenishment planning: the arithmetic on known numbers (forecast, safety
 * stock, reorder point, rounding, ABC), then a planner run over real shipped
 * history in Postgres through the API and Temporal: proposals, grouping into
 * draft purchase orders per supplier, no second proposal while a purchase is
 * open, and stockout risks in the operations report.
 */
import { createActivities, sandboxDeps } from '../../activities';
import { inTransaction } from '../../db';
import { applyMove, virtualLocation } from '../../db/inventory';
import { postEntry } from '../../db/ledger';
import { classifyAbc, forecast, propose, roundToSupply, zScore } from '../../activities/purchasing/planning';
import { netOfCreditNote, threeWayMatch } from '../../activities/purchasing/matching';
import { stockedSku, unique } from '../helpers/fixtures';
import { recordHistories, remember } from '../helpers/orders';
import { startStack, Stack } from '../helpers/stack';

const TWO_THEN_FOUR = [...new Array(14).fill(2), ...new Array(14).fill(4)];

describe('the arithmetic', () => {
  test('forecast: moving average with a trend, and the spread of demand', () => {
    expect(forecast(TWO_THEN_FOUR, 4)).toEqual({ recent: 4, prior: 2, trendPerDay: 0.14, ratePerDay: 5.29, sigma: 1 });
    expect(forecast(new Array(28).fill(0), 4)).toMatchObject({ ratePerDay: 0, sigma: 0 });
    // A falling trend never forecasts negative demand.
    expect(forecast([...new Array(14).fill(10), ...new Array(14).fill(0)], 30).ratePerDay).toBe(0);
  });

  test('service level to z', () => {
    expect(zScore(0.5)).toBe(0);
    expect(zScore(0.9)).toBeCloseTo(1.2816, 2);
    expect(zScore(0.95)).toBeCloseTo(1.6449, 2);
    expect(zScore(0.98)).toBeCloseTo(2.0537, 2);
  });

  test('rounding to the minimum order quantity and whole packs', () => {
    expect(roundToSupply(0, 50, 12)).toBe(0);
    expect(roundToSupply(7, 50, 12)).toBe(60);
    expect(roundToSupply(69, 50, 12)).toBe(72);
    expect(roundToSupply(55, 1, 1)).toBe(55);
  });

  test('ABC by cumulative share of margin', () => {
    const abc = classifyAbc([
      { key: 'a', value: 700 },
      { key: 'b', value: 200 },
      { key: 'c', value: 60 },
      { key: 'd', value: 40 },
      { key: 'e', value: 0 },
    ]);
    expect(Object.fromEntries(abc)).toEqual({ a: 'A', b: 'A', c: 'B', d: 'C', e: 'C' });
  });

  test('reorder point, safety stock and the proposal, with the reason', () => {
    const p = propose(
      TWO_THEN_FOUR,
      { method: 'reorder_point', serviceLevel: 0.95, coverDays: 10 },
      'B',
      { onHand: 10, reserved: 0, backordered: 0, incoming: 0 },
      { moq: 50, packSize: 12, leadTimeDays: 4 },
    );
    // safety = ceil(1.645 × 1 × √4) = 4; ROP = ceil(5.29 × 4 + 4) = 26; up to 26 + ceil(5.29 × 10) = 79; 79 − 10 = 69 → 72 (MOQ 50, packs of 12)
    expect(p).toMatchObject({
      safetyStock: 4,
      reorderPoint: 26,
      orderUpTo: 79,
      projected: 10,
      shortfall: 69,
      quantity: 72,
      stockoutRisk: true,
      daysOfCover: 1.89,
    });
    expect(p.reason).toMatch(/below the reorder point 26/);
    // Backorders and reservations lower the projection; what is on order raises it, and covers the need.
    expect(
      propose(
        TWO_THEN_FOUR,
        { method: 'reorder_point', serviceLevel: 0.95, coverDays: 10 },
        'B',
        { onHand: 10, reserved: 3, backordered: 5, incoming: 80 },
        { moq: 50, packSize: 12, leadTimeDays: 4 },
      ),
    ).toMatchObject({ projected: 82, quantity: 0, reason: expect.stringMatching(/^covered/) });
    // The class sets the service level when the rule does not: A is tighter than C.
    const a = propose(
      TWO_THEN_FOUR,
      { method: 'reorder_point' },
      'A',
      { onHand: 100, reserved: 0, backordered: 0, incoming: 0 },
      { moq: 1, packSize: 1, leadTimeDays: 4 },
    );
    const c = propose(
      TWO_THEN_FOUR,
      { method: 'reorder_point' },
      'C',
      { onHand: 100, reserved: 0, backordered: 0, incoming: 0 },
      { moq: 1, packSize: 1, leadTimeDays: 4 },
    );
    expect(a.serviceLevel).toBe(0.98);
    expect(c.serviceLevel).toBe(0.9);
    expect(a.safetyStock).toBeGreaterThan(c.safetyStock);
    // Min/max uses its own levels.
    expect(
      propose(
        [],
        { method: 'min_max', minQty: 20, maxQty: 60 },
        'C',
        { onHand: 5, reserved: 0, backordered: 0, incoming: 0 },
        { moq: 1, packSize: 1, leadTimeDays: 3 },
      ),
    ).toMatchObject({ reorderPoint: 20, orderUpTo: 60, quantity: 55 });
  });

  test('three-way match and credit notes', () => {
    const ordered = [{ sku: 'A', ordered: 10, received: 8, billedBefore: 0, orderPrice: 1000 }];
    expect(
      threeWayMatch(ordered, [{ sku: 'A', quantity: 8, unitPrice: 1015 }], { qtyPct: 0, pricePct: 2 }).matched,
    ).toBe(true);
    expect(
      threeWayMatch(ordered, [{ sku: 'A', quantity: 9, unitPrice: 1000 }], { qtyPct: 0, pricePct: 2 }).lines[0],
    ).toMatchObject({ quantityOk: false, billable: 8 });
    expect(
      threeWayMatch(ordered, [{ sku: 'A', quantity: 8, unitPrice: 1030 }], { qtyPct: 0, pricePct: 2 }).lines[0],
    ).toMatchObject({ priceOk: false });
    expect(threeWayMatch(ordered, [{ sku: 'B', quantity: 1, unitPrice: 1 }], { qtyPct: 0, pricePct: 2 }).matched).toBe(
      false,
    );
    // A credit line at the billed price takes units back; at another price it corrects the price.
    expect(
      netOfCreditNote([{ sku: 'A', quantity: 10, unitPrice: 1200 }], [{ sku: 'A', quantity: 2, unitPrice: 1200 }]),
    ).toEqual([{ sku: 'A', quantity: 8, unitPrice: 1200 }]);
    expect(
      netOfCreditNote([{ sku: 'A', quantity: 10, unitPrice: 1200 }], [{ sku: 'A', quantity: 10, unitPrice: 200 }]),
    ).toEqual([{ sku: 'A', quantity: 10, unitPrice: 1000 }]);
  });
});

describe('a planner run', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ PO_AUTO_APPROVE_LIMIT: '100000000', SUPPLIER_DAY: '1s', SUPPLIER_LATE_GRACE: '1h' });
  });
  afterAll(async () => {
    try {
      await recordHistories(s, 'replenishment');
    } finally {
      await s?.stop();
    }
  });

  /** Shipped history: units per day (oldest first, 28 days) from a warehouse's stock to customers, booked at cost. */
  async function shipHistory(sku: string, warehouse: string, daily: number[]) {
    await inTransaction(s.db, async (tx) => {
      const product = await tx('products').where({ sku }).first('id', 'cost');
      const stock = await tx('locations as l')
        .join('warehouses as w', 'w.id', 'l.warehouse_id')
        .where({ 'w.code': warehouse, 'l.type': 'stock' })
        .first('l.id');
      const customer = await virtualLocation(tx, 'customer');
      for (const [i, units] of daily.entries()) {
        if (units === 0) continue;
        const key = `history:${sku}:${i}`;
        await applyMove(tx, {
          productId: product.id,
          fromLocationId: stock.id,
          toLocationId: customer,
          quantity: units,
          unitCost: product.cost,
          sourceType: 'history',
          sourceId: key,
          key,
        });
        await postEntry(tx, {
          key,
          description: `history ${sku}`,
          sourceType: 'history',
          sourceId: key,
          currency: 'EUR',
          lines: [
            { account: '5000', debit: units * product.cost },
            { account: '1300', credit: units * product.cost },
          ],
        });
        await tx('stock_moves')
          .where({ idempotency_key: key })
          .update({ created_at: tx.raw(`current_date - ?::int + interval '12 hours'`, [daily.length - 1 - i]) });
      }
    });
  }

  test('proposals from shipped history, grouped per supplier into draft orders, not proposed twice; risks reported', async () => {
    const [supA, supB] = [unique('SUPA'), unique('SUPB')];
    expect(
      (
        await s.call('POST', '/v1/suppliers', {
          key: s.keys.procurement,
          body: {
            suppliers: [
              { code: supA, name: 'A', currency: 'EUR', leadTimeDays: 4 },
              { code: supB, name: 'B', currency: 'EUR', leadTimeDays: 4 },
            ],
          },
        })
      ).status,
    ).toBe(200);
    const fast = await stockedSku(s.db, { EAST: 10 + 84 }, 200, 'FAST'); // 84 shipped over the history, 10 left
    await shipHistory(fast, 'EAST', TWO_THEN_FOUR);
    const steady = await stockedSku(s.db, { EAST: 5 }, 200, 'STEADY');
    const other = await stockedSku(s.db, {}, 200, 'OTHER');
    const plenty = await stockedSku(s.db, { EAST: 50 }, 200, 'PLENTY');
    expect(
      (
        await s.call('POST', '/v1/supplier-prices', {
          key: s.keys.procurement,
          body: {
            prices: [
              { supplier: supA, sku: fast, unitPrice: 300, moq: 50, packSize: 12, leadTimeDays: 4 },
              { supplier: supB, sku: fast, unitPrice: 350, leadTimeDays: 2 }, // dearer: not chosen
              { supplier: supA, sku: steady, unitPrice: 100 },
              { supplier: supB, sku: other, unitPrice: 100 },
              { supplier: supA, sku: plenty, unitPrice: 100 },
            ],
          },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await s.call('POST', '/v1/reorder-rules', {
          key: s.keys.procurement,
          body: {
            rules: [
              { sku: fast, warehouse: 'EAST', method: 'reorder_point', serviceLevel: 0.95, coverDays: 10 },
              { sku: steady, warehouse: 'EAST', method: 'min_max', minQty: 20, maxQty: 60 },
              { sku: other, warehouse: 'EAST', method: 'min_max', minQty: 10, maxQty: 30 },
              { sku: plenty, warehouse: 'EAST', method: 'min_max', minQty: 5, maxQty: 10 },
            ],
          },
        })
      ).status,
    ).toBe(200);

    const run = await s.call('POST', '/v1/replenishment/runs', { key: s.keys.procurement, body: {} });
    expect(run.status).toBe(201);
    remember(`replenishment-${run.body.runId}`);
    for (const po of run.body.purchaseOrders) remember(`po-${po.number}`);
    const mine = (sku: string) => run.body.proposals.find((p: { sku: string }) => p.sku === sku);
    expect(mine(fast)).toMatchObject({ decision: 'proposed', quantity: 72, supplier: supA, unitPrice: 300 });
    expect(mine(fast).explanation).toMatchObject({
      onHand: 10,
      reserved: 0,
      backordered: 0,
      incoming: 0,
      projected: 10,
      leadTimeDays: 4,
      serviceLevel: 0.95,
      safetyStock: 4,
      reorderPoint: 26,
      orderUpTo: 79,
      moq: 50,
      packSize: 12,
      forecast: { recent: 4, prior: 2, ratePerDay: 5.29, sigma: 1 },
    });
    expect(mine(steady)).toMatchObject({ quantity: 55, supplier: supA });
    expect(mine(other)).toMatchObject({ quantity: 30, supplier: supB });
    expect(mine(plenty)).toBeUndefined();
    const orderOf = (sup: string) => run.body.purchaseOrders.filter((p: { supplier: string }) => p.supplier === sup);
    expect(orderOf(supA)).toHaveLength(1);
    expect(orderOf(supA)[0]).toMatchObject({ warehouse: 'EAST', total: 72 * 300 + 55 * 100 });
    expect(
      orderOf(supA)[0]
        .lines.map((l: { sku: string }) => l.sku)
        .sort(),
    ).toEqual([fast, steady].sort());
    expect(orderOf(supB)[0].lines).toEqual([{ sku: other, quantity: 30, unitPrice: 100 }]);
    expect(run.body.stockoutRisks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ sku: fast, warehouse: 'EAST', projected: 10, leadTimeDays: 4 }),
      ]),
    );
    const report = (await s.call('GET', '/v1/reports/operations', { key: s.keys.ops })).body;
    expect(report.stockoutRisks).toEqual(
      expect.arrayContaining([expect.objectContaining({ source: 'planner', sku: fast, daysOfCover: 1.89 })]),
    );
    const line = await s
      .db('purchase_order_lines as l')
      .join('products as p', 'p.id', 'l.product_id')
      .where('p.sku', fast)
      .first('l.explanation');
    expect(line.explanation.reorderPoint).toBe(26);

    // Each draft order is in its own procure-to-pay process (automatic approval here), and the next run does not order again.
    const [poA] = orderOf(supA);
    const handle = s.client.workflow.getHandle(`po-${poA.number}`);
    expect((await handle.describe()).type).toBe('procureToPay');
    const again = await s.call('POST', '/v1/replenishment/runs', { key: s.keys.procurement, body: {} });
    for (const po of again.body.purchaseOrders) remember(`po-${po.number}`);
    expect(again.body.proposals.filter((p: { sku: string }) => [fast, steady, other].includes(p.sku))).toEqual([]);
    const decisions = await s
      .db('replenishment_lines as rl')
      .join('products as p', 'p.id', 'rl.product_id')
      .where('rl.run_id', again.body.runId)
      .whereIn('p.sku', [fast, steady, other, plenty])
      .select('p.sku', 'rl.decision');
    expect(Object.fromEntries(decisions.map((d) => [d.sku, d.decision]))).toEqual({
      [fast]: 'covered',
      [steady]: 'covered',
      [other]: 'covered',
      [plenty]: 'above_reorder_point',
    });
    // A retried run (same run id) answers with what it already planned and writes nothing more.
    const orders = await s.db('purchase_orders').count({ n: '*' }).first();
    expect(
      await createActivities(sandboxDeps(s.db)).planReplenishment({ runId: again.body.runId, trigger: 'manual' }),
    ).toEqual(again.body);
    expect(await s.db('purchase_orders').count({ n: '*' }).first()).toEqual(orders);
  });
});
