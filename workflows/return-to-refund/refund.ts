/**
 * The refund: decided automatically when it is ordinary and under the limit, else by an approver with an SLA
 * that escalates. A refund cannot be undone, so it is never compensation: it runs once, last, after a
 * decision, capped by what the order captured.
 */
import { msToNumber } from '@temporalio/common/lib/time';
import type { RefundDecision } from '../../contracts/return-types';
import { returnWorkflowId } from '../../contracts/workflow-ids';
import { act, type ReturnOutcome, type ReturnProcess } from './state';

/** `reasonForPerson`: always ask an approver, and why (a replacement that could not be filled). */
export async function decideAndRefund(r: ReturnProcess, reasonForPerson?: string): Promise<ReturnOutcome> {
  const { policy } = r.input;
  const quote = await act.quoteRefund({ returnId: r.returnId });
  if (quote.amount === 0) {
    await r.enter('closed', 'nothing to refund');
    return r.finish('closed');
  }
  const automatic = !reasonForPerson && quote.ordinary && quote.amount <= policy.autoApproveLimit;
  if (automatic) {
    r.mark(`refund of ${quote.amount} approved automatically`);
    return refund(r, quote.amount);
  }
  const why =
    reasonForPerson ??
    [
      ...quote.why,
      ...(quote.amount > policy.autoApproveLimit ? [`amount ${quote.amount} is over ${policy.autoApproveLimit}`] : []),
    ].join('; ');
  const d = await askApprover(
    r,
    { amount: quote.amount, currency: quote.currency },
    why,
    reasonForPerson ? 'fallback-refund' : 'refund',
  );
  if (d.decision === 'reject') {
    await r.enter('rejected', d.note);
    return r.finish('rejected');
  }
  return refund(r, d.decision === 'partial' ? d.amount! : quote.amount);
}

/** Asks an approver; returns the decision (the inbox shows the SLA; a lapse escalates). */
async function askApprover(
  r: ReturnProcess,
  quote: { amount: number; currency: string },
  reason: string,
  round: string,
): Promise<RefundDecision> {
  const { policy } = r.input;
  r.decision = null;
  r.awaited = quote;
  const { approvalId } = await act.requestApproval({
    key: `return:${r.returnId}:${round}`,
    kind: 'refund',
    subjectType: 'return',
    subjectId: r.returnId,
    workflowId: returnWorkflowId(r.returnId),
    ...quote,
    reason,
    slaMs: msToNumber(policy.approvalSla),
  });
  await r.enter('awaiting_decision');
  r.mark(`waiting for an approver: ${reason}`);
  await r.waits.withSla(
    'refund decision (approver)',
    () => r.decision !== null,
    policy.approvalSla,
    () => act.escalateApproval({ approvalId }),
    (note) => r.mark(note),
  );
  r.awaited = null;
  const d = r.decision!; // the validator bounded a partial amount by the quote
  await act.recordDecision({ approvalId, ...d });
  return d;
}

async function refund(r: ReturnProcess, amount: number): Promise<ReturnOutcome> {
  await r.enter('refunding');
  const done = await act.refundReturn({ returnId: r.returnId, amount });
  if (done.capped) r.mark(`refund capped at ${done.refunded}: the order's captures were already refunded`);
  await r.enter('refunded', done.capped ? 'capped by what the order captured' : undefined);
  r.mark(`refunded ${done.refunded}`);
  return r.finish('refunded', done.refunded);
}
