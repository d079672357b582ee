/**
 * Replenishment planning: one run on a schedule (and on demand), id
 * `replenishment-<runId>`. The plan is computed and its draft purchase orders
 * written in one activity; each order then gets its own procure-to-pay process,
 * which outlives the run.
 */
import { startChild, uuid4 } from '@temporalio/workflow';
import { activitiesOf, ACTIVITY_PROFILES } from './process-kit';
import type { PlanResult } from '../activities/purchasing/planner';
import { procureToPay } from './procure-to-pay';
import type { ReplenishmentInput } from '../contracts/purchase-types';
import { purchaseWorkflowId } from '../contracts/workflow-ids';

const act = activitiesOf<'planReplenishment'>(ACTIVITY_PROFILES.batch); // a whole catalogue in one transaction

export async function replenishmentPlanning(input: ReplenishmentInput): Promise<PlanResult> {
  const plan = await act.planReplenishment({ runId: input.runId ?? uuid4(), trigger: input.trigger });
  for (const po of plan.purchaseOrders) {
    await startChild(procureToPay, {
      workflowId: purchaseWorkflowId(po.number),
      parentClosePolicy: 'ABANDON',
      args: [{ poId: po.poId, number: po.number, policy: input.policy }],
    });
  }
  return plan;
}
