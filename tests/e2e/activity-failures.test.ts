/**
 * A step that fails for good (a non-retryable business error) becomes an
 * `activity_failed` case the process waits on: retry runs the step again,
 * give_up fails the process with the original error. The provider here is
 * the sandbox with captures refused for the orders the test names.
 */
import { sandboxPaymentProvider } from '../../activities/payments/sandbox';
import { stockedSku } from '../helpers/fixtures';
import { place, recordHistories, remember, shipAll, waitFor } from '../helpers/orders';
import { eventually, startStack, Stack } from '../helpers/stack';

const refuseCaptureOf = new Set<string>();
let s: Stack;
beforeAll(async () => {
  s = await startStack({ EXCEPTION_SLA: '1h', EXCEPTION_SECOND_SLA: '2h' }, (db) => {
    const sandbox = sandboxPaymentProvider(db);
    return {
      payments: {
        ...sandbox,
        name: sandbox.name,
        async capture(input) {
          const orderId = input.idempotencyKey.split(':')[0];
          return refuseCaptureOf.has(orderId)
            ? { approved: false, providerRef: 'none', reason: 'authorisation expired at the bank' }
            : sandbox.capture(input);
        },
      },
    };
  });
});
afterAll(async () => {
  try {
    await recordHistories(s, 'activity-failures');
  } finally {
    await s?.stop();
  }
});

async function refusedOrder() {
  const sku = await stockedSku(s.db, { EAST: 2 }, 500, 'AFC');
  const { orderId, workflowId } = await place(s, [{ sku, quantity: 1 }]);
  refuseCaptureOf.add(orderId);
  await shipAll(s, await waitFor(s, orderId, 'fulfilling'));
  const c = await eventually(
    () => s.db('exceptions').where({ type: 'activity_failed', subject_id: workflowId }).first(),
    30000,
    'an activity_failed case',
  );
  return { orderId, workflowId, c };
}

test('a refused capture opens an activity_failed case; once the cause is fixed, retry completes the order with one capture', async () => {
  const { orderId, workflowId, c } = await refusedOrder();
  expect(c).toMatchObject({ queue: 'engineering', status: 'open', workflow_id: workflowId });
  expect(c.summary).toMatch(/capturePayment failed for good in orderToCash .*authorisation expired at the bank/);
  const view = (await s.call('GET', `/v1/exceptions/${c.id}`, { key: s.keys.ops })).body;
  expect(view.allowedActions.map((a: { action: string }) => a.action)).toEqual(['retry', 'give_up']);
  expect(view.details).toMatchObject({ activityType: 'capturePayment', failureType: 'CaptureRefused' });
  expect(view.context.process).toMatchObject({ stage: 'fulfilling' });
  refuseCaptureOf.delete(orderId); // the cause is fixed (a new authorisation, in real life)
  expect(
    (
      await s.call('POST', `/v1/exceptions/${c.id}/resolution`, {
        key: s.keys.ops,
        body: { action: 'retry', note: 'bank fixed it' },
      })
    ).status,
  ).toBe(200);
  const done = await waitFor(s, orderId, 'completed', undefined, 30000);
  expect(done.payments.filter((p: { kind: string }) => p.kind === 'capture')).toHaveLength(1);
  // The status row says completed a moment before the process returns.
  await eventually(
    async () => (await s.client.workflow.getHandle(workflowId).describe()).status.name === 'COMPLETED',
    10_000,
    'the order process to complete',
  );
});

test('give_up lets the process fail with the original error, visible in Temporal', async () => {
  const { workflowId, c } = await refusedOrder();
  expect(
    (
      await s.call('POST', `/v1/exceptions/${c.id}/resolution`, {
        key: s.keys.ops,
        body: { action: 'give_up', note: 'refund the customer by hand' },
      })
    ).status,
  ).toBe(200);
  await expect(s.client.workflow.getHandle(workflowId).result()).rejects.toThrow(/failed/i);
  expect((await s.client.workflow.getHandle(workflowId).describe()).status.name).toBe('FAILED');
  remember(workflowId);
});
