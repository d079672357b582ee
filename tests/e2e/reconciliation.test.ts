/** Stock reconciliation: drift between quants and moves becomes an exception with the numbers, never a silent fix. */
import { stockedSku } from '../helpers/fixtures';
import { eventually, startStack, Stack } from '../helpers/stack';
import { dropSchedules, ensureSchedules, reconciliationScheduleId } from '../../workers/schedules';
import { recordHistories } from '../helpers/orders';

let s: Stack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(async () => {
  try {
    await recordHistories(s, 'reconciliation');
  } finally {
    await s?.stop();
  }
});

test('a quant that drifted from its moves is reported with the numbers and left for a person', async () => {
  const sku = await stockedSku(s.db, { EAST: 5 });
  const quant = s.db('quants as q').join('products as p', 'p.id', 'q.product_id').where('p.sku', sku);
  const { location_id, product_id } = await quant.clone().first('q.location_id', 'q.product_id');
  await s.db('quants').where({ location_id, product_id }).increment('on_hand', 2); // someone "fixed" stock by hand
  try {
    await ensureSchedules(s.client, s.config);
    await s.client.schedule.getHandle(reconciliationScheduleId(s.taskQueue)).trigger();
    const drift = await eventually(
      () => s.db('exceptions').where({ type: 'stock_drift', subject_id: sku }).first(),
      30000,
      'the reconciliation',
    );
    expect(drift.summary).toBe(
      `${sku} at EAST/STOCK: on hand 7 but moves sum to 5; reserved 0 but active reservations hold 0`,
    );
    expect(drift.details).toMatchObject({ onHand: 7, fromMoves: 5, location: 'EAST/STOCK' });
    expect((await s.db('quants').where({ location_id, product_id }).first('on_hand')).on_hand).toBe(7); // not corrected silently
    const resolved = await s.call('POST', `/v1/exceptions/${drift.id}/resolution`, {
      key: s.keys.ops,
      body: { action: 'acknowledge', note: 'manual edit found and reverted' },
    });
    expect(resolved.status).toBe(200);
  } finally {
    await s.db('quants').where({ location_id, product_id }).decrement('on_hand', 2);
    await dropSchedules(s.client, s.taskQueue);
  }
});
