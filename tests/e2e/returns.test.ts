/** Return-to-refund, every branch, on the real Temporal dev server and Postgres. */
import { createActivities, sandboxDeps } from '../../activities';
import { requestReturn } from '../../db/returns';
import { dropSchedules, ensureSchedules, returnScanScheduleId } from '../../workers/schedules';
import { closeProcessless, stockedSku } from '../helpers/fixtures';
import {
  deliveredOrder,
  getOrder,
  recordHistories,
  remember,
  shipAll,
  waitFor as waitForOrder,
} from '../helpers/orders';
import { eventually, startStack, Stack } from '../helpers/stack';

let s: Stack;
beforeAll(async () => {
  s = await startStack({
    RETURN_RECEIPT_TIMEOUT: '8s',
    REFUND_APPROVAL_SLA: '3s',
    RETURN_INSPECTION_SLA: '1m',
    REFUND_AUTO_APPROVE_LIMIT: '5000',
  });
});
afterAll(async () => {
  try {
    await recordHistories(s, 'returns');
  } finally {
    await s?.stop();
  }
});

async function requestOk(
  orderId: string,
  lines: { sku: string; quantity: number; reason?: string }[],
  resolution: 'refund' | 'replacement' = 'refund',
) {
  const r = await s.call('POST', '/v1/returns', {
    key: s.keys.storefront,
    body: { orderId, resolution, lines: lines.map((l) => ({ reason: 'changed my mind', ...l })) },
  });
  if (r.status !== 201) throw new Error(`return refused: ${r.status} ${JSON.stringify(r.body)}`);
  remember(r.body.workflowId);
  return r.body.returnId as string;
}
const getReturn = async (id: string) => (await s.call('GET', `/v1/returns/${id}`, { key: s.keys.ops })).body;
const waitForReturn = (id: string, status: string, timeoutMs = 30000) =>
  eventually(
    async () => {
      const r = await getReturn(id);
      return r.status === status ? r : undefined;
    },
    timeoutMs,
    `return ${id} to be ${status}`,
  );
async function receive(id: string, lines: { sku: string; quantity: number }[]) {
  await waitForReturn(id, 'authorised');
  const r = await s.call('POST', `/v1/returns/${id}/receipt`, { key: s.keys.warehouse, body: { lines } });
  expect(r.status).toBe(200);
  return r.body;
}
async function inspect(id: string, lines: { sku: string; quantity: number; condition: string }[]) {
  const r = await s.call('POST', `/v1/returns/${id}/inspection`, { key: s.keys.warehouse, body: { lines } });
  expect(r.status).toBe(200);
  return r.body.lines as { sku: string; disposition: string }[];
}
const decide = (id: string, body: object, key = s.keys.approver) =>
  s.call('POST', `/v1/returns/${id}/decision`, { key, body });
const quant = async (sku: string, type: string) =>
  (
    await s
      .db('quants as q')
      .join('locations as l', 'l.id', 'q.location_id')
      .join('products as p', 'p.id', 'q.product_id')
      .where({ 'p.sku': sku, 'l.type': type, 'l.code': `EAST/${type.toUpperCase()}` })
      .first('q.on_hand')
  )?.on_hand ?? 0;
const entryLines = async (sourceType: string, sourceId: string) =>
  Object.fromEntries(
    (
      await s
        .db('journal_entries as e')
        .join('journal_lines as l', 'l.entry_id', 'e.id')
        .where({ 'e.source_type': sourceType, 'e.source_id': sourceId })
        .groupBy('l.account_code')
        .select('l.account_code', s.db.raw('SUM(l.debit - l.credit)::bigint AS net'))
    ).map((r) => [r.account_code, r.net]),
  );

test('an ordinary small return is refunded automatically, with credit note, restock and every ledger line', async () => {
  const sku = await stockedSku(s.db, { EAST: 3 }, 400, 'RET', 'apparel');
  const order = await deliveredOrder(s, [{ sku, quantity: 2, unitPrice: 1000 }]);
  const returnId = await requestOk(order.orderId, [{ sku, quantity: 1 }]);
  const authorised = await waitForReturn(returnId, 'authorised');
  expect(authorised.rmaNumber).toMatch(/^RMA-\d{6}$/);
  expect(authorised.label).toMatchObject({ carrier: 'DHL', trackingNumber: expect.stringMatching(/^RET/) });
  expect(await receive(returnId, [{ sku, quantity: 1 }])).toMatchObject({ received: 1, expected: 1 });
  expect(await quant(sku, 'returns')).toBe(1);
  expect(await inspect(returnId, [{ sku, quantity: 1, condition: 'new' }])).toEqual([
    { sku, quantity: 1, condition: 'new', disposition: 'restock' },
  ]);
  expect(await quant(sku, 'returns')).toBe(0);
  expect(await quant(sku, 'stock')).toBe(2); // 3 - 2 shipped + 1 restocked: available to promise at once

  const done = await waitForReturn(returnId, 'refunded');
  expect(done.creditNote).toMatchObject({ net: 1000, tax: 190, total: 1190, number: expect.stringMatching(/^CN-/) });
  expect(done.refunds).toEqual([expect.objectContaining({ amount: 1190, status: 'succeeded' })]);
  expect(done.process.timeline.map((t: any) => t.step)).toEqual(
    expect.arrayContaining(['refund of 1190 approved automatically', 'refunded 1190']),
  );
  expect(await entryLines('credit_note', done.creditNote.creditNoteId)).toEqual({
    '4000': 1000,
    '2100': 190,
    '1200': -1190,
  });
  const receipt = await s.db('return_receipts').where({ return_id: returnId }).first('id');
  expect(await entryLines('return_receipt', receipt.id)).toEqual({ '1300': 400, '5000': -400 });
  const provider = await s.db('sandbox_payment_ledger').where('idempotency_key', 'like', `return:${returnId}:refund:%`);
  expect(provider.map((p) => [p.operation, p.amount, p.outcome])).toEqual([['refund', 1190, 'approved']]);
  const templates = await s.db('notifications').where({ subject_id: returnId }).orderBy('created_at').pluck('template');
  expect(templates).toEqual(['return_authorised', 'refund_issued']);
  const view = await getOrder(s, order.orderId);
  expect(view.returns).toEqual([expect.objectContaining({ returnId, status: 'refunded', refundAmount: 1190 })]);
  expect(view.payments.filter((p: any) => p.kind === 'refund')).toEqual([
    expect.objectContaining({ amount: 1190, status: 'succeeded', returnId }),
  ]);
});

test('a damaged unit goes to repair and waits for an approver, who approves once (a repeat is harmless)', async () => {
  const sku = await stockedSku(s.db, { EAST: 2 }, 400, 'RET', 'apparel');
  const order = await deliveredOrder(s, [{ sku, quantity: 1 }]);
  const returnId = await requestOk(order.orderId, [{ sku, quantity: 1, reason: 'arrived torn' }]);
  await receive(returnId, [{ sku, quantity: 1 }]);
  expect((await inspect(returnId, [{ sku, quantity: 1, condition: 'damaged' }]))[0].disposition).toBe('repair');
  expect(await quant(sku, 'repair')).toBe(1);
  const waiting = await waitForReturn(returnId, 'awaiting_decision');
  expect(waiting.process.waitingFor).toBe('refund decision (approver)');
  const inbox = (await s.call('GET', '/v1/approvals?status=pending', { key: s.keys.approver })).body.approvals;
  expect(inbox.find((a: any) => a.subjectId === returnId)).toMatchObject({
    kind: 'refund',
    amount: 1190,
    reason: 'a unit was graded damaged',
    priority: 'normal',
    slaDueAt: expect.any(String),
  });
  expect((await s.call('GET', '/v1/approvals', { key: s.keys.storefront })).status).toBe(403);
  expect((await decide(returnId, { decision: 'approve', note: 'ok' }, s.keys.storefront)).status).toBe(403);
  expect((await decide(returnId, { decision: 'approve', note: 'customer is right' })).body).toMatchObject({
    repeat: false,
  });
  await waitForReturn(returnId, 'refunded');
  expect((await decide(returnId, { decision: 'approve', note: 'again' })).body).toMatchObject({ repeat: true });
  expect((await decide(returnId, { decision: 'reject', note: 'changed my mind' })).status).toBe(409);
  expect(await s.db('payments').where({ return_id: returnId, kind: 'refund' })).toHaveLength(1);
  expect((await s.db('approvals').where({ subject_id: returnId }).first()).status).toBe('approved');
});

test('rejected: a chipped mug is scrapped with its loss booked, and nothing is refunded', async () => {
  const sku = await stockedSku(s.db, { EAST: 1 }, 300, 'MUG', 'homeware');
  const order = await deliveredOrder(s, [{ sku, quantity: 1 }]);
  const returnId = await requestOk(order.orderId, [{ sku, quantity: 1 }]);
  await receive(returnId, [{ sku, quantity: 1 }]);
  expect((await inspect(returnId, [{ sku, quantity: 1, condition: 'damaged' }]))[0].disposition).toBe('scrap');
  const scrapped = await s
    .db('stock_moves as m')
    .join('locations as l', 'l.id', 'm.to_location_id')
    .where({ 'm.source_id': returnId, 'l.type': 'scrap' })
    .first('m.quantity');
  expect(scrapped.quantity).toBe(1);
  expect(await entryLines('return_inspection', returnId)).toEqual({ '5100': 300, '1300': -300 });
  await waitForReturn(returnId, 'awaiting_decision');
  expect((await decide(returnId, { decision: 'reject', note: 'damage caused by the customer' })).status).toBe(200);
  const r = await waitForReturn(returnId, 'rejected');
  expect(r.creditNote).toBeUndefined();
  expect(r.refunds).toEqual([]);
});

test('partial: a defective unit is quarantined and part of its price refunded, tax split by the order rate', async () => {
  const sku = await stockedSku(s.db, { EAST: 1 }, 400, 'RET', 'apparel');
  const order = await deliveredOrder(s, [{ sku, quantity: 1 }]);
  const returnId = await requestOk(order.orderId, [{ sku, quantity: 1, reason: 'stopped working' }]);
  await receive(returnId, [{ sku, quantity: 1 }]);
  expect((await inspect(returnId, [{ sku, quantity: 1, condition: 'defective' }]))[0].disposition).toBe('quarantine');
  expect(await quant(sku, 'quarantine')).toBe(1);
  await waitForReturn(returnId, 'awaiting_decision');
  expect((await decide(returnId, { decision: 'partial', note: 'goodwill' })).status).toBe(400); // partial needs an amount
  expect((await decide(returnId, { decision: 'partial', amount: 500, note: 'half, goodwill' })).status).toBe(200);
  const r = await waitForReturn(returnId, 'refunded');
  expect(r.creditNote).toMatchObject({ net: 420, tax: 80, total: 500 });
  expect(r.refunds).toEqual([expect.objectContaining({ amount: 500 })]);
});

test('SLA: an undecided refund escalates (exception, high priority) and still waits for a person', async () => {
  const sku = await stockedSku(s.db, { EAST: 5 }, 400, 'RET', 'apparel');
  const order = await deliveredOrder(s, [{ sku, quantity: 5 }]);
  const returnId = await requestOk(order.orderId, [{ sku, quantity: 5 }]);
  await receive(returnId, [{ sku, quantity: 5 }]);
  await inspect(returnId, [{ sku, quantity: 5, condition: 'new' }]);
  const waiting = await waitForReturn(returnId, 'awaiting_decision');
  expect(waiting.approvals[0].reason).toBe('amount 5950 is over 5000');
  const escalated = await eventually(
    async () => {
      const a = await s.db('approvals').where({ subject_id: returnId }).first();
      return a.priority === 'high' && a.escalated_at ? a : undefined;
    },
    20000,
    'escalation',
  );
  const exception = await s.db('exceptions').where({ type: 'approval_overdue', subject_id: escalated.id }).first();
  expect(exception).toMatchObject({ status: 'open', severity: 'high', queue: 'supervisors' });
  await new Promise((r) => setTimeout(r, 1500));
  const still = await getReturn(returnId);
  expect(still.status).toBe('awaiting_decision'); // never refunds by itself
  expect(still.process.waitingFor).toBe('refund decision (approver) (escalated)');
  expect(still.refunds).toEqual([]);
  const inbox = (await s.call('GET', '/v1/approvals', { key: s.keys.approver })).body.approvals.find(
    (a: any) => a.subjectId === returnId,
  );
  expect(inbox).toMatchObject({ priority: 'high', slaBreached: true });
  await decide(returnId, { decision: 'approve', note: 'late but fine' });
  expect((await waitForReturn(returnId, 'refunded')).refunds[0].amount).toBe(5950);
});

test('expiry: nothing arrives in time, the return expires and the customer is told', async () => {
  const sku = await stockedSku(s.db, { EAST: 1 }, 400, 'RET', 'apparel');
  const order = await deliveredOrder(s, [{ sku, quantity: 1 }]);
  const returnId = await requestOk(order.orderId, [{ sku, quantity: 1 }]);
  const r = await waitForReturn(returnId, 'expired', 30000);
  expect(r.outcomeReason).toBe('nothing arrived within the return window');
  expect(await s.db('notifications').where({ subject_id: returnId, template: 'return_expired' })).toHaveLength(1);
  expect(await s.db('stock_moves').where('idempotency_key', 'like', `return:${returnId}%`)).toHaveLength(0);
  // Expired units can be returned again.
  expect(
    (
      await s.call('POST', '/v1/returns', {
        key: s.keys.storefront,
        body: { orderId: order.orderId, resolution: 'refund', lines: [{ sku, quantity: 1, reason: 'retry' }] },
      })
    ).status,
  ).toBe(201);
});

test('partial receipt: the process goes on with what arrived and refunds only that', async () => {
  const sku = await stockedSku(s.db, { EAST: 2 }, 400, 'RET', 'apparel');
  const order = await deliveredOrder(s, [{ sku, quantity: 2 }]);
  const returnId = await requestOk(order.orderId, [{ sku, quantity: 2 }]);
  expect(await receive(returnId, [{ sku, quantity: 1 }])).toMatchObject({ received: 1, expected: 2 });
  expect((await getReturn(returnId)).status).toBe('partially_received');
  await inspect(returnId, [{ sku, quantity: 1, condition: 'new' }]);
  const r = await waitForReturn(returnId, 'refunded', 30000);
  expect(r.lines[0]).toMatchObject({ quantity: 2, quantityReceived: 1, quantityInspected: 1 });
  expect(r.refunds[0].amount).toBe(1190);
  expect(r.process.timeline.map((t: any) => t.step)).toContain('going on with 1 of 2 received');
});

test('replacement with stock: a zero-price child order reserves fresh stock and ships', async () => {
  const sku = await stockedSku(s.db, { EAST: 3 }, 400, 'RET', 'apparel');
  const order = await deliveredOrder(s, [{ sku, quantity: 1 }]);
  const returnId = await requestOk(order.orderId, [{ sku, quantity: 1, reason: 'wrong size' }], 'replacement');
  await receive(returnId, [{ sku, quantity: 1 }]);
  await inspect(returnId, [{ sku, quantity: 1, condition: 'opened' }]);
  const ordered = await waitForReturn(returnId, 'replacement_ordered');
  const replacement = await waitForOrder(s, ordered.replacementOrderId, 'fulfilling');
  expect(replacement.totals).toEqual({ subtotal: 0, shipping: 0, tax: 0, total: 0 });
  expect(replacement.reservations).toEqual([expect.objectContaining({ sku, quantity: 1, state: 'active' })]);
  await shipAll(s, replacement);
  const r = await waitForReturn(returnId, 'replaced');
  expect(r.refunds).toEqual([]);
  expect((await getOrder(s, ordered.replacementOrderId)).status).toBe('completed');
});

test('replacement without stock falls back to a refund once the approver agrees', async () => {
  const sku = await stockedSku(s.db, { EAST: 1 }, 400, 'RET', 'apparel');
  const order = await deliveredOrder(s, [{ sku, quantity: 1 }]);
  const returnId = await requestOk(order.orderId, [{ sku, quantity: 1, reason: 'broken' }], 'replacement');
  await receive(returnId, [{ sku, quantity: 1 }]);
  await inspect(returnId, [{ sku, quantity: 1, condition: 'defective' }]); // quarantined: no sellable stock left
  const waiting = await waitForReturn(returnId, 'awaiting_decision');
  expect(waiting.approvals[0].reason).toMatch(/replacement could not be filled \(out of stock\)/);
  expect((await getOrder(s, waiting.replacementOrderId)).status).toBe('cancelled');
  await decide(returnId, { decision: 'approve', note: 'refund instead' });
  expect((await waitForReturn(returnId, 'refunded')).refunds[0].amount).toBe(1190);
});

test('two returns of one order refunding at the same moment can never exceed what was captured', async () => {
  const sku = await stockedSku(s.db, { EAST: 2 }, 400, 'RET', 'apparel');
  const order = await deliveredOrder(s, [{ sku, quantity: 2 }], { shippingPrice: 0 }); // captured: 2380
  const a = await requestReturn(s.db, {
    orderId: order.orderId,
    resolution: 'refund',
    lines: [{ sku, quantity: 1, reason: 'x' }],
  });
  const b = await requestReturn(s.db, {
    orderId: order.orderId,
    resolution: 'refund',
    lines: [{ sku, quantity: 1, reason: 'y' }],
  });
  const act = createActivities(sandboxDeps(s.db));
  // Both ask for 2000: together 4000 against 2380 captured.
  const [ra, rb] = await Promise.all([
    act.refundReturn({ returnId: a.returnId, amount: 2000 }),
    act.refundReturn({ returnId: b.returnId, amount: 2000 }),
  ]);
  expect(ra.refunded + rb.refunded).toBe(2380);
  expect([ra.capped, rb.capped].sort()).toEqual([false, true]);
  const refunds = await s
    .db('payments')
    .where({ order_id: order.orderId, kind: 'refund' })
    .sum({ s: 'amount' })
    .first();
  expect(refunds!.s).toBe(2380);
  const provider = await s
    .db('sandbox_payment_ledger')
    .where('idempotency_key', 'like', 'return:%')
    .whereIn('parent_ref', s.db('payments').where({ order_id: order.orderId, kind: 'capture' }).select('provider_ref'))
    .sum({ s: 'amount' })
    .first();
  expect(provider!.s).toBe(2380);
  // Retried, nothing changes.
  expect(await act.refundReturn({ returnId: a.returnId, amount: 2000 })).toEqual(ra);
  expect(await closeProcessless(s.db, [a.returnId, b.returnId])).toBe(2); // requested without a process: closed as the sweep would
});

test('two approvals of one order decided at once both refund, within the captured total', async () => {
  const sku = await stockedSku(s.db, { EAST: 2 }, 400, 'RET', 'apparel');
  const order = await deliveredOrder(s, [{ sku, quantity: 2 }], { shippingPrice: 0 });
  const ids = [
    await requestOk(order.orderId, [{ sku, quantity: 1 }]),
    await requestOk(order.orderId, [{ sku, quantity: 1 }]),
  ];
  for (const id of ids) {
    await receive(id, [{ sku, quantity: 1 }]);
    await inspect(id, [{ sku, quantity: 1, condition: 'opened' }]);
    await waitForReturn(id, 'awaiting_decision');
  }
  await Promise.all(ids.map((id) => decide(id, { decision: 'approve', note: 'both fine' })));
  const refunded = await Promise.all(ids.map((id) => waitForReturn(id, 'refunded')));
  expect(refunded.reduce((t, r) => t + r.refunds[0].amount, 0)).toBe(2380);
});

test('eligibility and bad input: 422 with the reason, 404, 403, 409, 400; nothing written', async () => {
  const sku = await stockedSku(s.db, { EAST: 3 }, 400, 'RET', 'apparel');
  const other = await stockedSku(s.db, { EAST: 1 });
  const order = await deliveredOrder(s, [{ sku, quantity: 2 }]);
  const post = (body: object, key = s.keys.storefront) => s.call('POST', '/v1/returns', { key, body });
  const before = await s.db('returns').where({ order_id: order.orderId }).count({ n: '*' }).first();

  const tooMany = await post({
    orderId: order.orderId,
    resolution: 'refund',
    lines: [{ sku, quantity: 3, reason: 'x' }],
  });
  expect(tooMany.status).toBe(422);
  expect(tooMany.body.error.details[0].message).toMatch(/only 2 of .* can be returned/);
  expect(
    (await post({ orderId: order.orderId, resolution: 'refund', lines: [{ sku: other, quantity: 1, reason: 'x' }] }))
      .status,
  ).toBe(422);
  expect(
    (
      await post({
        orderId: '00000000-0000-0000-0000-000000000000',
        resolution: 'refund',
        lines: [{ sku, quantity: 1, reason: 'x' }],
      })
    ).status,
  ).toBe(404);
  expect(
    (
      await post(
        { orderId: order.orderId, resolution: 'refund', lines: [{ sku, quantity: 1, reason: 'x' }] },
        s.keys.warehouse,
      )
    ).status,
  ).toBe(403);
  expect(
    (await post({ orderId: order.orderId, resolution: 'swap', lines: [{ sku, quantity: 1, reason: 'x' }] })).status,
  ).toBe(400);
  expect(
    (await post({ orderId: order.orderId, resolution: 'refund', lines: [{ sku, quantity: -1, reason: 'x' }] })).status,
  ).toBe(400);
  await s
    .db('shipments')
    .where({ order_id: order.orderId })
    .update({ delivered_at: s.db.raw(`now() - interval '40 days'`) });
  const late = await post({ orderId: order.orderId, resolution: 'refund', lines: [{ sku, quantity: 1, reason: 'x' }] });
  expect(late.status).toBe(422);
  expect(late.body.error.message).toMatch(/return window of 30 days closed/);
  expect(await s.db('returns').where({ order_id: order.orderId }).count({ n: '*' }).first()).toEqual(before);

  // A placed but unshipped order has nothing to return.
  const { orderId: unshipped } = (
    await s.call('POST', '/v1/orders', {
      key: s.keys.storefront,
      body: (await import('../helpers/fixtures')).orderBody([{ sku, quantity: 1 }]),
    })
  ).body;
  await waitForOrder(s, unshipped, 'fulfilling');
  expect(
    (await post({ orderId: unshipped, resolution: 'refund', lines: [{ sku, quantity: 1, reason: 'x' }] })).status,
  ).toBe(422);

  // Over-receipt and a decision nobody asked for are state conflicts.
  await s.db('shipments').where({ order_id: order.orderId }).update({ delivered_at: s.db.fn.now() });
  const returnId = await requestOk(order.orderId, [{ sku, quantity: 1 }]);
  await waitForReturn(returnId, 'authorised');
  expect(
    (
      await s.call('POST', `/v1/returns/${returnId}/receipt`, {
        key: s.keys.warehouse,
        body: { lines: [{ sku, quantity: 2 }] },
      })
    ).status,
  ).toBe(409);
  expect((await decide(returnId, { decision: 'approve', note: 'early' })).status).toBe(409);
  expect(
    (
      await s.call('POST', `/v1/returns/${returnId}/inspection`, {
        key: s.keys.warehouse,
        body: { lines: [{ sku, quantity: 1, condition: 'new' }] },
      })
    ).status,
  ).toBe(409);
  expect(
    (
      await s.call('POST', `/v1/returns/${returnId}/receipt`, {
        key: s.keys.storefront,
        body: { lines: [{ sku, quantity: 1 }] },
      })
    ).status,
  ).toBe(403);
  expect(await s.db('return_receipts').where({ return_id: returnId })).toHaveLength(0);
});

test('the return-rate scan runs on a schedule and flags a SKU returned far above the norm', async () => {
  const sku = await stockedSku(s.db, { EAST: 6 }, 400, 'RET', 'apparel');
  const filler = await stockedSku(s.db, { EAST: 200 }, 100, 'FILL', 'apparel');
  await deliveredOrder(s, [{ sku: filler, quantity: 200, unitPrice: 10 }]); // ordinary volume that nobody returns
  const order = await deliveredOrder(s, [{ sku, quantity: 6 }]);
  const returnId = await requestOk(order.orderId, [{ sku, quantity: 6 }]);
  await receive(returnId, [{ sku, quantity: 6 }]);
  await ensureSchedules(s.client, s.config);
  await ensureSchedules(s.client, s.config); // a second worker start updates, it does not fail
  const schedule = s.client.schedule.getHandle(returnScanScheduleId(s.taskQueue));
  expect((await schedule.describe()).action).toMatchObject({ workflowType: 'returnRateScan' });
  await schedule.trigger();
  const flagged = await eventually(
    () => s.db('exceptions').where({ type: 'unusual_return_pattern', subject_type: 'sku', subject_id: sku }).first(),
    30000,
    'the scan',
  );
  expect(flagged.summary).toMatch(new RegExp(`SKU ${sku} returned 6 of 6 units \\(100 %\\) against`));
  expect(await s.db('exceptions').where({ type: 'unusual_return_pattern', subject_id: filler })).toHaveLength(0);
  await dropSchedules(s.client, s.taskQueue);
});
