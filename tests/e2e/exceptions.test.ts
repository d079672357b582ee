/** Exception cases: raised by the order process, worked through the queue, escalated, self-closing. */
import { stockedSku } from '../helpers/fixtures';
import { event, getOrder, place, recordHistories, shipAll, waitFor } from '../helpers/orders';
import { eventually, startStack, Stack } from '../helpers/stack';

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
const resolve = (id: string, body: object) =>
  s.call('POST', `/v1/exceptions/${id}/resolution`, { key: s.keys.ops, body });

test('an undeliverable address holds the order; ops correct it through the queue and the order goes on', async () => {
  const { orderId, held, exceptionId } = await heldOrder();
  expect(held.process.waitingFor).toBe('a deliverable address (exception case)');
  expect(held.reservations).toEqual([]);
  const listed = (
    await s.call('GET', '/v1/exceptions?type=invalid_address&queue=customer_service', { key: s.keys.ops })
  ).body.exceptions;
  expect(listed.map((e: any) => e.exceptionId)).toContain(exceptionId);
  const c = await getCase(exceptionId);
  expect(c).toMatchObject({
    type: 'invalid_address',
    status: 'open',
    subjectType: 'order',
    subjectId: orderId,
    summary: expect.stringMatching(/postal code 00000 is not deliverable/),
  });
  expect(c.allowedActions.map((a: any) => a.action)).toEqual(['correct_address', 'cancel']);
  expect(c.context.order).toMatchObject({ orderId, status: 'on_hold' });
  expect(c.context.process).toMatchObject({ stage: 'on_hold', waitingFor: 'a deliverable address (exception case)' });

  const wrong = await resolve(exceptionId, { action: 'reship', note: 'nope' });
  expect(wrong.status).toBe(409);
  expect(wrong.body.error.message).toMatch(/allowed: correct_address, cancel/);
  expect(wrong.body.error.details.map((a: any) => a.action)).toEqual(['correct_address', 'cancel']);
  expect((await resolve(exceptionId, { action: 'correct_address', note: 'called the customer' })).status).toBe(400);

  expect((await s.call('POST', `/v1/exceptions/${exceptionId}/claim`, { key: s.keys.ops })).body.claimedBy).toMatch(
    /^test ops/,
  );
  expect((await s.call('POST', `/v1/exceptions/${exceptionId}/claim`, { key: s.keys.admin })).status).toBe(409);
  expect(
    (
      await resolve(exceptionId, {
        action: 'correct_address',
        note: 'called the customer',
        data: { address: goodAddress },
      })
    ).status,
  ).toBe(200);
  const o = await waitFor(s, orderId, 'fulfilling');
  expect(o.shippingAddress.postalCode).toBe('10115');
  expect(o.exceptions).toEqual([]);
  expect(o.process.timeline.map((t: any) => t.step)).toEqual(
    expect.arrayContaining(['address invalid: postal code 00000 is not deliverable', 'address corrected by ops']),
  );
  const done = await eventually(
    async () => ((await getCase(exceptionId)).status === 'resolved' ? getCase(exceptionId) : undefined),
    10000,
    'resolution',
  );
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
  const stillBad = await s.call('PUT', `/v1/orders/${orderId}/shipping-address`, {
    key: s.keys.storefront,
    body: { ...badAddress, line1: 'Elsewhere 2' },
  });
  expect(stillBad.status).toBe(200); // saved, but still undeliverable: the case stays open
  await new Promise((r) => setTimeout(r, 500));
  expect((await getCase(exceptionId)).status).toBe('open');
  expect(
    (await s.call('PUT', `/v1/orders/${orderId}/shipping-address`, { key: s.keys.storefront, body: goodAddress }))
      .status,
  ).toBe(200);
  await waitFor(s, orderId, 'fulfilling');
  const closed = await eventually(
    async () => {
      const c = await getCase(exceptionId);
      return c.status === 'closed' ? c : undefined;
    },
    10000,
    'self-closing',
  );
  expect(closed.resolution).toBe('closed by itself: the address was corrected on the order');
});

test('an unresolved case escalates twice (severity, queue, notification) and is never dropped', async () => {
  const { orderId, exceptionId } = await heldOrder();
  const first = await eventually(
    async () => {
      const c = await getCase(exceptionId);
      return c.escalationLevel >= 1 ? c : undefined;
    },
    15000,
    'first escalation',
  );
  expect(first).toMatchObject({ queue: 'supervisors', severity: 'high' });
  const second = await eventually(
    async () => {
      const c = await getCase(exceptionId);
      return c.escalationLevel === 2 ? c : undefined;
    },
    15000,
    'second escalation',
  );
  expect(second).toMatchObject({ queue: 'management', severity: 'critical', status: 'open', slaBreached: true });
  expect(second.context.case).toMatchObject({
    status: 'open',
    escalationLevel: 2,
    waitingFor: 'a person (escalated, level 2)',
  });
  const notes = await s
    .db('notifications')
    .where({ subject_type: 'exception', subject_id: exceptionId })
    .orderBy('created_at')
    .pluck('recipient');
  expect(notes).toEqual(['supervisors@ops', 'management@ops']);
  expect(
    (await s.call('GET', '/v1/exceptions?queue=management&slaBreached=true', { key: s.keys.ops })).body.exceptions.map(
      (e: any) => e.exceptionId,
    ),
  ).toContain(exceptionId);
  expect((await getOrder(s, orderId)).status).toBe('on_hold');
  expect((await resolve(exceptionId, { action: 'cancel', note: 'finally' })).status).toBe(200);
  await waitFor(s, orderId, 'cancelled');
});

test('a case raised without a process of its own is resolved in the queue; roles apply', async () => {
  const { raiseException } = await import('../../db/exceptions');
  const id = await raiseException(s.db as never, {
    key: `test-overdue-${Date.now()}`,
    type: 'approval_overdue',
    subjectType: 'approval',
    subjectId: 'x',
    summary: 'test case',
    severity: 'high',
    queue: 'supervisors',
  });
  expect((await s.call('GET', '/v1/exceptions', { key: s.keys.storefront })).status).toBe(403);
  expect(
    (
      await s.call('POST', `/v1/exceptions/${id}/resolution`, {
        key: s.keys.approver,
        body: { action: 'acknowledge', note: 'x' },
      })
    ).status,
  ).toBe(403);
  expect((await resolve(id, { action: 'cancel', note: 'x' })).status).toBe(409);
  expect((await resolve(id, { action: 'acknowledge', note: 'decided in the inbox' })).status).toBe(200);
  expect(await getCase(id)).toMatchObject({ status: 'resolved', resolution: 'acknowledge: decided in the inbox' });
  expect(await s.db('audit_log').where({ action: 'exception.resolve', target: id })).toHaveLength(1);
});

describe('carrier failure', () => {
  async function failedInTransit(stock: { EAST?: number; WEST?: number }, quantity = 1) {
    const sku = await stockedSku(s.db, stock);
    const { orderId } = await place(s, [{ sku, quantity }]);
    const o = await waitFor(s, orderId, 'fulfilling');
    const shipmentId = o.shipments[0].shipmentId;
    await shipAll(s, o, 'shipped');
    await waitFor(s, orderId, 'shipped');
    expect((await event(s, shipmentId, 'failed', { note: 'parcel lost' })).status).toBe(200);
    const c = await eventually(
      () => s.db('exceptions').where({ type: 'carrier_failure', subject_id: shipmentId }).first(),
      15000,
      'carrier failure case',
    );
    return { sku, orderId, shipmentId, exceptionId: c.id as string };
  }

  test('reship: fresh stock goes out at no charge, and the order completes', async () => {
    const { sku, orderId, exceptionId } = await failedInTransit({ EAST: 2 });
    const c = await getCase(exceptionId);
    expect(c.allowedActions.map((a: any) => a.action)).toEqual(['reship', 'refund', 'cancel_rest']);
    expect(c.context.process.waitingFor).toMatch(/carrier failure/);
    expect((await resolve(exceptionId, { action: 'reship', note: 'send another' })).status).toBe(200);
    const o = await waitFor(s, orderId, 'fulfilling', (x) => x.shipments.some((sh: any) => sh.status === 'pending'));
    const reship = o.shipments.find((sh: any) => sh.status === 'pending');
    await shipAll(s, { shipments: [reship] });
    const done = await waitFor(s, orderId, 'completed');
    expect(done.invoices).toHaveLength(1); // charged once
    expect(done.payments.filter((p: any) => p.kind === 'capture')).toHaveLength(1);
    expect(done.lines[0]).toMatchObject({ quantity: 1, quantityShipped: 1, quantityCancelled: 0 });
    const moved = await s
      .db('stock_moves as m')
      .join('products as p', 'p.id', 'm.product_id')
      .where({ 'p.sku': sku, 'm.source_type': 'shipment' })
      .sum({ q: 'm.quantity' })
      .first();
    expect(moved!.q).toBe(2); // the lost unit and its replacement both left the warehouse
    expect(done.process.timeline.map((t: any) => t.step)).toContain('reship from EAST at no charge');
  });

  test('refund: the failed shipment is credited and refunded in full', async () => {
    const { orderId, shipmentId, exceptionId } = await failedInTransit({ EAST: 1 });
    expect((await resolve(exceptionId, { action: 'refund', note: 'customer prefers money back' })).status).toBe(200);
    const done = await waitFor(s, orderId, 'completed');
    const refund = done.payments.filter((p: any) => p.kind === 'refund');
    expect(refund.reduce((t: number, p: any) => t + p.amount, 0)).toBe(done.invoices[0].total);
    const cn = await s.db('credit_notes').where({ shipment_id: shipmentId }).first();
    expect(cn.total).toBe(done.invoices[0].total);
  });

  test('cancel the rest: what has not shipped is cancelled and its stock released', async () => {
    const sku = await stockedSku(s.db, { EAST: 1, WEST: 1 });
    const { orderId } = await place(s, [{ sku, quantity: 2 }]);
    const o = await waitFor(s, orderId, 'fulfilling', (x) => x.shipments.length === 2);
    await shipAll(s, { shipments: [o.shipments[0]] }, 'shipped');
    await waitFor(s, orderId, 'fulfilling', (x) => x.invoices.length === 1);
    await event(s, o.shipments[0].shipmentId, 'failed', { note: 'damaged in transit' });
    const c = await eventually(
      () => s.db('exceptions').where({ type: 'carrier_failure', subject_id: o.shipments[0].shipmentId }).first(),
      15000,
      'case',
    );
    expect((await resolve(c.id, { action: 'cancel_rest', note: 'stop' })).status).toBe(200);
    const done = await waitFor(s, orderId, 'completed', (x) => x.payments.some((p: any) => p.kind === 'void'));
    expect(done.shipments.map((sh: any) => sh.status).sort()).toEqual(['cancelled', 'failed']);
    const stock = (await s.call('GET', `/v1/inventory/${sku}`, { key: s.keys.ops })).body.total;
    expect(stock).toMatchObject({ reserved: 0, onHand: 1 });
    expect(done.payments.map((p: any) => p.kind)).toEqual(['authorization', 'capture', 'void']);
  });

  test('the carrier delivers after all: the case closes itself and the order completes', async () => {
    const { orderId, shipmentId, exceptionId } = await failedInTransit({ EAST: 1 });
    expect((await event(s, shipmentId, 'delivered')).status).toBe(200);
    await waitFor(s, orderId, 'completed');
    const closed = await eventually(
      async () => ((await getCase(exceptionId)).status === 'closed' ? getCase(exceptionId) : undefined),
      10000,
      'self-close',
    );
    expect(closed.resolution).toBe('closed by itself: the carrier delivered the parcel after all');
  });
});

describe('payment review', () => {
  async function heldForReview() {
    const sku = await stockedSku(s.db, { EAST: 2 });
    const { orderId } = await place(s, [{ sku, quantity: 1 }], { payment: { method: 'card', token: 'tok_review' } });
    await waitFor(s, orderId, 'on_hold', (o) => o.exceptions.length === 1);
    const c = await s.db('exceptions').where({ type: 'payment_review', subject_id: orderId }).first();
    return { orderId, exceptionId: c.id as string };
  }

  test('released from the exception queue, the order continues', async () => {
    const { orderId, exceptionId } = await heldForReview();
    expect((await getCase(exceptionId)).allowedActions.map((a: any) => a.action)).toEqual(['release', 'cancel']);
    expect((await resolve(exceptionId, { action: 'release', note: 'known customer' })).status).toBe(200);
    await waitFor(s, orderId, 'fulfilling');
  });

  test('cancelled from the exception queue, nothing is charged', async () => {
    const { orderId, exceptionId } = await heldForReview();
    expect((await resolve(exceptionId, { action: 'cancel', note: 'stolen card' })).status).toBe(200);
    const o = await waitFor(s, orderId, 'cancelled');
    expect(o.cancelReason).toBe('rejected in payment review');
    expect(o.payments).toEqual([]);
  });

  test('decided through the review endpoint: the case closes itself', async () => {
    const { orderId, exceptionId } = await heldForReview();
    expect(
      (await s.call('POST', `/v1/orders/${orderId}/review`, { key: s.keys.ops, body: { decision: 'release' } })).status,
    ).toBe(200);
    await waitFor(s, orderId, 'fulfilling');
    const closed = await eventually(
      async () => ((await getCase(exceptionId)).status === 'closed' ? getCase(exceptionId) : undefined),
      10000,
      'self-close',
    );
    expect(closed.resolution).toBe('closed by itself: decided through the review endpoint');
  });
});

test('a case with no process of its own escalates at both thresholds through the scheduled sweep', async () => {
  const { raiseException } = await import('../../db/exceptions');
  const { dropSchedules, ensureSchedules, sweepScheduleId } = await import('../../workers/schedules');
  const id = await raiseException(s.db as never, {
    key: `sweep-${Date.now()}`,
    type: 'unusual_return_pattern',
    subjectType: 'sku',
    subjectId: 'SWEEP',
    summary: 'test pattern',
  });
  const fresh = await getCase(id);
  expect(new Date(fresh.slaDueAt).getTime() - new Date(fresh.openedAt).getTime()).toBe(72 * 3600 * 1000); // the catalogue's 72h
  await s
    .db('exceptions')
    .where({ id })
    .update({ opened_at: s.db.raw(`now() - interval '4 days'`) }); // past the first (72h), not the second (7d)
  await ensureSchedules(s.client, s.config);
  try {
    const sweep = s.client.schedule.getHandle(sweepScheduleId(s.taskQueue));
    await sweep.trigger('ALLOW_ALL');
    const first = await eventually(
      async () => ((await getCase(id)).escalationLevel === 1 ? getCase(id) : undefined),
      20000,
      'first escalation',
    );
    expect(first).toMatchObject({ queue: 'supervisors', severity: 'high', status: 'open' });
    await s
      .db('exceptions')
      .where({ id })
      .update({ opened_at: s.db.raw(`now() - interval '8 days'`) });
    // A scheduled run's workflow id ends in the second it started: a second trigger within the same second collides with the first and is dropped.
    await new Promise((r) => setTimeout(r, 1100));
    await sweep.trigger('ALLOW_ALL');
    const second = await eventually(
      async () => ((await getCase(id)).escalationLevel === 2 ? getCase(id) : undefined),
      20000,
      'second escalation',
    );
    expect(second).toMatchObject({ queue: 'management', severity: 'critical', status: 'open' });
    expect(await s.db('notifications').where({ subject_id: id, template: 'exception_escalated' })).toHaveLength(2);
  } finally {
    await dropSchedules(s.client, s.taskQueue);
  }
});
