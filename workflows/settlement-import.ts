/**
 * Scheduled: asks the payment provider for its payouts, and each connected marketplace for its statements,
 * and starts a settlement process for each one not imported yet. The settlement's workflow id is the payout's, so a payout also announced by the provider's
 * webhook is still settled once.
 */
import { startChild } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { activitiesOf } from './process-kit';
import { settlement, type SettlementInput } from './settlement';
import { settlementWorkflowId } from '../contracts/workflow-ids';

const act = activitiesOf<'payoutsToImport'>();

export async function settlementImport(input: Omit<SettlementInput, 'payoutId'> = {}): Promise<{ started: string[] }> {
  const started: string[] = [];
  for (const { payoutId, channel } of await act.payoutsToImport()) {
    try {
      await startChild(settlement, {
        workflowId: settlementWorkflowId(payoutId, channel),
        parentClosePolicy: 'ABANDON', // a payout's cases outlive this run
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY', // settled once; a run that failed is tried again
        args: [{ payoutId, channel, recheckAfter: input.recheckAfter, caseTimings: input.caseTimings }],
      });
      started.push(payoutId);
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err; // announced by the webhook first
    }
  }
  return { started };
}
