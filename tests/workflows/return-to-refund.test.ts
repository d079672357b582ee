/** Branches of return-to-refund with stubbed activities (fast layer; tests/e2e runs the real ones). */
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { returnToRefund } from '../../workflows/return-to-refund';
import { decideUpdate, inspectUpdate, receiveUpdate, returnProcessQuery } from '../../contracts/return-messages';
import type { ReturnInput } from '../../contracts/return-types';
import { caseStubs, queryUntil, startHarness, type Harness, type Stubs } from './harness';

let h: Harness;
beforeAll(async () => (h = await startHarness()));
afterAll(async () => h?.stop());

const input = (resolution: ReturnInput['resolution'] = 'refund'): ReturnInput => ({
  returnId: randomUUID(),
  orderId: randomUUID(),
  resolution,
  policy: {
    receiptTimeout: '1h',
    inspectionSla: '1h',
    approvalSla: '1h',
    autoApproveLimit: 1000,
    baseCurrency: 'EUR',
    orderTimings: {
      riskReviewTimeout: '1s',
      backorderWaitTimeout: '1s',
      backorderRecheckInterval: '200ms',
      fulfilmentTimeout: '1h',
    },
  },
});

function stubs(quote: { amount: number; ordinary: boolean }, over: Stubs = {}): Stubs {
  return {
    ...caseStubs(),
    authorizeReturn: () => ({ expected: 2, rmaNumber: 'RMA-1', carrier: 'DHL', trackingNumber: 'L1' }),
    setReturnStatus: () => undefined,
    receiveReturn: (i: { lines: { quantity: number }[] }) => ({
      received: i.lines.reduce((s, l) => s + l.quantity, 0),
      expected: 2,
    }),
    inspectReturn: (i: { lines: { sku: string; quantity: number; condition: string }[] }) => ({
      lines: i.lines.map((l) => ({ ...l, disposition: 'restock' })),
    }),
    quoteRefund: () => ({ ...quote, currency: 'EUR', why: quote.ordinary ? [] : ['damaged'] }),
    requestApproval: () => ({ approvalId: 'ap-1' }),
    escalateApproval: () => undefined,
    recordDecision: () => undefined,
    refundReturn: (i: { amount: number }) => ({ refunded: i.amount, capped: false }),
    openException: () => undefined,
    ...over,
  };
}

async function receiveAndInspect(handle: Awaited<ReturnType<typeof h.start<[ReturnInput], unknown>>>) {
  await queryUntil(
    () => handle.query(returnProcessQuery),
    (s) => s.stage === 'authorised',
  );
  await handle.executeUpdate(receiveUpdate, { args: [[{ sku: 'A', quantity: 2 }]] });
  await expect(
    handle.executeUpdate(inspectUpdate, { args: [[{ sku: 'A', quantity: 3, condition: 'new' }]] }),
  ).rejects.toThrow(WorkflowUpdateFailedError);
  await handle.executeUpdate(inspectUpdate, { args: [[{ sku: 'A', quantity: 2, condition: 'new' }]] });
}

test('an ordinary refund under the limit is approved automatically', async () => {
  h.use(stubs({ amount: 500, ordinary: true }));
  const handle = await h.start(returnToRefund, [input()]);
  await receiveAndInspect(handle);
  expect(await handle.result()).toEqual({ status: 'refunded', refunded: 500 });
  expect(h.called('requestApproval')).toEqual([]);
});

test("an approver's partial refund above the quote is refused (the process keeps waiting); a valid one is paid", async () => {
  h.use(stubs({ amount: 500, ordinary: false }));
  const handle = await h.start(returnToRefund, [input()]);
  await receiveAndInspect(handle);
  await queryUntil(
    () => handle.query(returnProcessQuery),
    (s) => s.stage === 'awaiting_decision',
  );
  await expect(
    handle.executeUpdate(decideUpdate, { args: [{ decision: 'partial', amount: 900, note: 'typo' }] }),
  ).rejects.toMatchObject({ cause: { message: expect.stringMatching(/more than the refund quote/) } });
  await handle.executeUpdate(decideUpdate, { args: [{ decision: 'partial', amount: 300, note: 'scuffed' }] });
  expect(await handle.result()).toEqual({ status: 'refunded', refunded: 300 });
});

test('an approver rejects: nothing is refunded', async () => {
  h.use(stubs({ amount: 5000, ordinary: true }));
  const handle = await h.start(returnToRefund, [input()]);
  await receiveAndInspect(handle);
  await queryUntil(
    () => handle.query(returnProcessQuery),
    (s) => s.stage === 'awaiting_decision',
  );
  await handle.executeUpdate(decideUpdate, { args: [{ decision: 'reject', note: 'worn' }] });
  expect(await handle.result()).toEqual({ status: 'rejected' });
  expect(h.called('refundReturn')).toEqual([]);
});

test('nothing arrives within the return window: expired', async () => {
  h.use(stubs({ amount: 500, ordinary: true }));
  const handle = await h.start(returnToRefund, [
    { ...input(), policy: { ...input().policy, receiptTimeout: '500ms' } },
  ]);
  expect(await handle.result()).toEqual({ status: 'expired' });
  expect(h.called('setReturnStatus').at(-1)).toMatchObject({ status: 'expired' });
});

test('inspection past its SLA raises an inspection_overdue exception and keeps waiting', async () => {
  h.use(stubs({ amount: 500, ordinary: true }));
  const handle = await h.start(returnToRefund, [{ ...input(), policy: { ...input().policy, inspectionSla: '300ms' } }]);
  await queryUntil(
    () => handle.query(returnProcessQuery),
    (s) => s.stage === 'authorised',
  );
  await handle.executeUpdate(receiveUpdate, { args: [[{ sku: 'A', quantity: 2 }]] });
  await queryUntil(
    () => handle.query(returnProcessQuery),
    (s) => s.waitingFor === 'inspection of the received goods (warehouse) (escalated)',
  );
  expect(h.called('openException')).toEqual([expect.objectContaining({ type: 'inspection_overdue' })]);
  await handle.executeUpdate(inspectUpdate, { args: [[{ sku: 'A', quantity: 2, condition: 'new' }]] });
  expect(await handle.result()).toEqual({ status: 'refunded', refunded: 500 });
});
