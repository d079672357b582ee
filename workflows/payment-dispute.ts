/**
 * One chargeback, id `dispute-<disputeId>`, started by the provider's signed `dispute.created`
 * webhook.
 *
 *   record it and book the withdrawal (clearing → disputed payments)
 *   a payment_dispute case for finance, raced against the evidence deadline (a durable timer):
 *     ├─ submit_evidence: the note goes to the provider; its decision comes back at once or later
 *     │                   (the `dispute.closed` webhook → disputeClosed signal)
 *     ├─ accept: the chargeback is accepted, lost
 *     └─ the deadline passes unanswered: accepted for us, lost (the case closes itself and says why)
 *   the outcome is booked: won → back to clearing; lost → chargeback loss
 */
import { condition, setHandler } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { activitiesOf } from './process-kit';
import { openCase } from './cases';
import { disputeClosedSignal, type DisputeOutcome } from '../contracts/settlement-types';

const act = activitiesOf<'recordDispute' | 'respondToDispute' | 'closeDispute'>();

export interface PaymentDisputeInput {
  providerDisputeId: string;
  caseTimings?: { sla?: Duration; secondSla?: Duration };
}

export interface PaymentDisputeResult {
  disputeId: string;
  outcome: DisputeOutcome;
  how: 'evidence' | 'accepted' | 'deadline' | 'provider';
}

export async function paymentDispute(input: PaymentDisputeInput): Promise<PaymentDisputeResult> {
  let decided: DisputeOutcome | undefined;
  setHandler(disputeClosedSignal, (outcome) => void (decided ??= outcome));
  const d = await act.recordDispute({ providerDisputeId: input.providerDisputeId });
  const finish = async (outcome: DisputeOutcome, how: PaymentDisputeResult['how'], by?: string) => {
    await act.closeDispute({ disputeId: d.disputeId, outcome, by });
    return { disputeId: d.disputeId, outcome, how };
  };
  if (d.status === 'won' || d.status === 'lost') return { disputeId: d.disputeId, outcome: d.status, how: 'provider' };

  const c = await openCase({
    type: 'payment_dispute',
    key: `payment_dispute:${d.disputeId}`,
    subjectType: 'order',
    subjectId: d.orderId,
    summary: `Chargeback of ${(d.amount / 100).toFixed(2)} ${d.currency} (${d.reason}); evidence due by ${d.evidenceDueBy}`,
    details: { disputeId: d.disputeId, providerDisputeId: input.providerDisputeId, evidenceDueBy: d.evidenceDueBy },
    ...input.caseTimings,
  });
  const untilDeadline = Math.max(1, Date.parse(d.evidenceDueBy) - Date.now()); // workflow time: deterministic
  await condition(() => c.outcome() !== undefined || decided !== undefined, untilDeadline);
  if (decided) {
    await c.causeGone(`the provider decided the dispute: ${decided}`);
    return finish(decided, 'provider');
  }
  if (!c.outcome()) {
    // The deadline passed. A person may have answered in the same instant: the case ends either way (resolved,
    // or closed by this), and a person's answer is followed.
    await c.causeGone('the evidence deadline passed without an answer: the chargeback stands');
    await condition(() => c.outcome() !== undefined);
  }
  const o = c.outcome()!;
  const respond = async (r: { evidence?: string; accept?: boolean }, by?: string): Promise<DisputeOutcome | null> => {
    const standing = await act.respondToDispute({
      disputeId: d.disputeId,
      providerDisputeId: input.providerDisputeId,
      by,
      ...r,
    });
    return standing.status === 'won' || standing.status === 'lost' ? standing.status : null;
  };
  // The provider's standing is what is booked: it may have decided already (its word came after we stopped listening).
  if (o.outcome !== 'resolved') return finish(decided ?? (await respond({ accept: true })) ?? 'lost', 'deadline');
  const by = o.resolution.resolvedBy;
  if (o.resolution.action === 'accept')
    return finish(decided ?? (await respond({ accept: true }, by)) ?? 'lost', 'accepted', by);
  const answer = await respond({ evidence: o.resolution.note }, by);
  if (!answer) await condition(() => decided !== undefined);
  return finish(decided ?? answer!, 'evidence', by);
}
