/** Exception cases: raised by the order process, worked through the queue, escalated, self-closing. */
import { stockedSku } from './helpers/fixtures';
import { getOrder, place, recordHistories, waitFor } from './helpers/orders';
import { eventually, startStack, Stack } from './helpers/stack';

let s: Stack;
beforeAll(async () => {
  s = await startStack({ EXCEPTION_SLA: '2s', EXCEPTION_SECOND_SLA: '4s' });
});
afterAll(async () => {
  try {
    await recordHistories(s, 'exceptions');
  } finally {
    await s?.stop();
  }
});

const badAddress = { name: 'Ada', line1: 'Nowhere 1', city: 'Berlin', postalCode: '00000', country: 'DE' };
const goodAddress = { name: 'Ada', line1: 'Hauptstr. 9', city: 'Berlin', postalCode: '10115', country: 'DE' };

async function heldOrder() {
  const sku = await stockedSku(s.db, { EAST: 3 });
  const { orderId } = await place(s, [{ sku, quantity: 1 }], { shippingAddress: badAddress });
  const held = await waitFor(s, orderId, 'on_hold', (o) => o.exceptions.length === 1);
  return { sku, orderId, held, exceptionId: held.exceptions[0].exceptionId as string };
}
const getCase = async (id: string) => (await s.call('GET', `/v1/exceptions/${id}`, { key: s.keys.ops })).body;
const resolve = (id: string, body: object) => s.call('POST', `/v1/exceptions/${id}/resolution`, { key: s.keys.ops, body });

test('an undeliverable address holds the order; ops correct it through the queue and the order goes on', async () => {
  const { orderId, held, exceptionId } = await heldOrder();
  expect(held.process.waitingFor).toBe('a deliverable address (exception case)');
  expect(held.reservations).toEqual([]);
  const listed = (await s.call('GET', '/v1/exceptions?type=invalid_address&queue=customer_service', { key: s.keys.ops })).body.exceptions;
  expect(listed.map((e: any) => e.exceptionId)).toContain(exceptionId);
  const c = await getCase(exceptionId);
  expect(c).toMatchObject({ type: 'invalid_address', status: 'open', subjectType: 'order', subjectId: orderId, summary: expect.stringMatching(/postal code 00000 is not deliverable/) });
  expect(c.allowedActions.map((a: any) => a.action)).toEqual(['correct_address', 'cancel']);
  expect(c.context.order).toMatchObject({ orderId, status: 'on_hold' });
  expect(c.context.process).toMatchObject({ stage: 'on_hold', waitingFor: 'a deliverable address (exception case)' });

  const wrong = await resolve(exceptionId, { action: 'reship', note: 'nope' });
  expect(wrong.status).toBe(409);
  expect(wrong.body.error.message).toMatch(/allowed: correct_address, cancel/);
  expect(wrong.body.error.details.map((a: any) => a.action)).toEqual(['correct_address', 'cancel']);
  expect((await resolve(exceptionId, { action: 'correct_address', note: 'called the customer' })).status).toBe(400);

  expect((await s.call('POST', `/v1/exceptions/${exceptionId}/claim`, { key: s.keys.ops })).body.claimedBy).toMatch(/^test ops/);
  expect((await s.call('POST', `/v1/exceptions/${exceptionId}/claim`, { key: s.keys.admin })).status).toBe(409);
  expect((await resolve(exceptionId, { action: 'correct_address', note: 'called the customer', data: { address: goodAddress } })).status).toBe(200);
  const o = await waitFor(s, orderId, 'fulfilling');
  expect(o.shippingAddress.postalCode).toBe('10115');
  expect(o.exceptions).toEqual([]);
  expect(o.process.timeline.map((t: any) => t.step)).toEqual(expect.arrayContaining(['address invalid: postal code 00000 is not deliverable', 'address corrected by ops']));
  const done = await eventually(async () => ((await getCase(exceptionId)).status === 'resolved' ? getCase(exceptionId) : undefined), 10000, 'resolution');
  expect(done.resolution).toBe('correct_address: called the customer');
  expect((await resolve(exceptionId, { action: 'cancel', note: 'too late' })).status).toBe(409);
});

test('resolving with cancel cancels the order and holds nothing', async () => {
  const { orderId, exceptionId } = await heldOrder();
  expect((await resolve(exceptionId, { action: 'cancel', note: 'customer unreachable' })).status).toBe(200);
  const o = await waitFor(s, orderId, 'cancelled');
  expect(o.cancelReason).toBe('undeliverable address: customer unreachable');
  expect(o.payments).toEqual([]);
});

test('the customer corrects the address on the order: the case closes itself and says why', async () => {
  const { orderId, exceptionId } = await heldOrder();
  const stillBad = await s.call('PUT', `/v1/orders/${orderId}/shipping-address`, { key: s.keys.storefront, body: { ...badAddress, line1: 'Elsewhere 2' } });
  expect(stillBad.status).toBe(200); // saved, but still undeliverable: the case stays open
  await new Promise((r) => setTimeout(r, 500));
  expect((await getCase(exceptionId)).status).toBe('open');
  expect((await s.call('PUT', `/v1/orders/${orderId}/shipping-address`, { key: s.keys.storefront, body: goodAddress })).status).toBe(200);
  await waitFor(s, orderId, 'fulfilling');
  const closed = await eventually(async () => {
    const c = await getCase(exceptionId);
    return c.status === 'closed' ? c : undefined;
  }, 10000, 'self-closing');
  expect(closed.resolution).toBe('closed by itself: the address was corrected on the order');
});

test('an unresolved case escalates twice (severity, queue, notification) and is never dropped', async () => {
  const { orderId, exceptionId } = await heldOrder();
  const first = await eventually(async () => {
    const c = await getCase(exceptionId);
    return c.escalationLevel >= 1 ? c : undefined;
  }, 15000, 'first escalation');
  expect(first).toMatchObject({ queue: 'supervisors', severity: 'high' });
  const second = await eventually(async () => {
    const c = await getCase(exceptionId);
    return c.escalationLevel === 2 ? c : undefined;
  }, 15000, 'second escalation');
  expect(second).toMatchObject({ queue: 'management', severity: 'critical', status: 'open', slaBreached: true });
  expect(second.context.case).toMatchObject({ status: 'open', escalationLevel: 2, waitingFor: 'a person (escalated, level 2)' });
  const notes = await s.db('notifications').where({ subject_type: 'exception', subject_id: exceptionId }).orderBy('created_at').pluck('recipient');
  expect(notes).toEqual(['supervisors@ops', 'management@ops']);
  expect((await s.call('GET', '/v1/exceptions?queue=management&slaBreached=true', { key: s.keys.ops })).body.exceptions.map((e: any) => e.exceptionId)).toContain(exceptionId);
  expect((await getOrder(s, orderId)).status).toBe('on_hold');
  expect((await resolve(exceptionId, { action: 'cancel', note: 'finally' })).status).toBe(200);
  await waitFor(s, orderId, 'cancelled');
});

test('a case raised without a process of its own is resolved in the queue; roles apply', async () => {
  const { raiseException } = await import('../db/outbox');
  const id = await raiseException(s.db as never, { key: `test-overdue-${Date.now()}`, type: 'approval_overdue', subjectType: 'approval', subjectId: 'x', summary: 'test case', severity: 'high', queue: 'supervisors' });
  expect((await s.call('GET', '/v1/exceptions', { key: s.keys.storefront })).status).toBe(403);
  expect((await s.call('POST', `/v1/exceptions/${id}/resolution`, { key: s.keys.approver, body: { action: 'acknowledge', note: 'x' } })).status).toBe(403);
  expect((await resolve(id, { action: 'cancel', note: 'x' })).status).toBe(409);
  expect((await resolve(id, { action: 'acknowledge', note: 'decided in the inbox' })).status).toBe(200);
  expect((await getCase(id))).toMatchObject({ status: 'resolved', resolution: 'acknowledge: decided in the inbox' });
  expect(await s.db('audit_log').where({ action: 'exception.resolve', target: id })).toHaveLength(1);
});
