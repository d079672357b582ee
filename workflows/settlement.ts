/**
 * One payout of the payment provider, id `settlement-<payoutId>`, started by the settlement
 * schedule (settlementImport) or by the provider's signed `payout.paid` webhook, whichever comes first; or
 * one statement of a marketplace channel, id `settlement-<channel>-<statementId>`, started by the schedule.
 *
 *   import the payout once: lines matched to our captures, refunds and dispute movements; net to the bank,
 *   fees to expense, differences to suspense (one balanced entry)
 *     └─ for each difference, in parallel: a settlement_mismatch case
 *          ├─ accept: booked as a payment fee        ├─ write_off: booked as a write-off
 *          └─ wait: held, matched again after `recheckAfter`; still different → a new case
 */
import { condition, sleep } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { activitiesOf, ACTIVITY_PROFILES } from './process-kit';
import { openCase } from './cases';
import type { MismatchAction, SettlementMismatch } from '../contracts/settlement-types';

const act = activitiesOf<'importSettlement' | 'decideSettlementMismatch' | 'rematchSettlementMismatch'>(
  ACTIVITY_PROFILES.batch, // a payout can settle thousands of lines in its one transaction
);

export interface SettlementInput {
  payoutId: string;
  channel?: string; // a marketplace channel's statement; absent: the payment provider's payout
  recheckAfter?: Duration; // how long "wait" holds a difference before matching it again
  caseTimings?: { sla?: Duration; secondSla?: Duration };
}

export interface SettlementResult {
  settlementId: string;
  imported: boolean;
  mismatches: { mismatchId: string; outcome: string }[];
}

export async function settlement(input: SettlementInput): Promise<SettlementResult> {
  const s = await act.importSettlement(
    input.channel ? { payoutId: input.payoutId, channel: input.channel } : { payoutId: input.payoutId },
  );
  const outcomes = await Promise.all(s.mismatches.map((m) => decide(input, s.settlementId, m, 1)));
  return {
    settlementId: s.settlementId,
    imported: s.imported,
    mismatches: s.mismatches.map((m, i) => ({ mismatchId: m.mismatchId, outcome: outcomes[i] })),
  };
}

const money = (minor: number) => (minor / 100).toFixed(2);

function describe(payoutId: string, m: SettlementMismatch): string {
  if (m.kind === 'unknown_reference')
    return `Payout ${payoutId}: ${m.ref} (${money(-m.amount)}) matches nothing of ours`;
  if (m.kind === 'amount_differs') return `Payout ${payoutId}: ${m.ref} differs from our record by ${money(-m.amount)}`;
  return `Payout ${payoutId}: the net paid is ${money(m.amount)} ${m.amount > 0 ? 'short of' : 'over'} what its lines add up to`;
}

async function decide(
  input: SettlementInput,
  settlementId: string,
  m: SettlementMismatch,
  round: number,
): Promise<string> {
  const c = await openCase({
    type: 'settlement_mismatch',
    key: `settlement_mismatch:${m.mismatchId}:${round}`,
    subjectType: 'settlement',
    subjectId: settlementId,
    summary: describe(input.payoutId, m),
    details: { payoutId: input.payoutId, mismatchId: m.mismatchId, kind: m.kind, ref: m.ref, amount: m.amount },
    ...input.caseTimings,
  });
  await condition(() => c.outcome() !== undefined);
  const o = c.outcome()!;
  if (o.outcome !== 'resolved') return 'closed';
  const action = o.resolution.action as MismatchAction; // the case's catalogue allows only these
  if (action !== 'wait')
    return (await act.decideSettlementMismatch({ mismatchId: m.mismatchId, action, by: o.resolution.resolvedBy }))
      .status;
  await sleep(input.recheckAfter ?? '1 day');
  const again = await act.rematchSettlementMismatch({ mismatchId: m.mismatchId });
  if (!again.open) return 'matched';
  return decide(input, settlementId, { ...m, kind: again.kind, amount: again.amount }, round + 1);
}
