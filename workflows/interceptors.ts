/**
 * Workflow interceptors, bundled with every workflow.
 *
 * An activity that fails for good (a non-retryable business error: the
 * provider refused a capture, a refund that cannot reconcile) does not just
 * fail its process: it opens an `activity_failed` case in the engineering
 * queue with what failed and why, and the process waits on it. `retry` runs
 * the step again (after someone fixed the cause); `give_up` lets the process
 * fail with the original error, as before.
 *
 * Refusals that answer a caller's update (an address change after shipping, a
 * receipt for a closed purchase order) are outcomes, not failures: they pass.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  patched,
  workflowInfo,
  type ActivityInput,
  type LocalActivityInput,
  type Next,
  type WorkflowInterceptorsFactory,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { openCase } from './cases';
import { traceContextInterceptors } from './trace-context';

const ANSWERS_TO_A_CALLER = new Set(['AddressLocked', 'PurchaseRefused', 'ReturnRefused']);
const CASE_PATCH = 'activity-failed-case';

function failedForGood(err: unknown): ApplicationFailure | undefined {
  // An activity's failure arrives wrapped in ActivityFailure; a local activity's arrives as the failure itself.
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (!(cause instanceof ApplicationFailure) || !cause.nonRetryable || ANSWERS_TO_A_CALLER.has(cause.type ?? ''))
    return undefined;
  return cause;
}

class ActivityFailureCases implements WorkflowOutboundCallsInterceptor {
  scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>) {
    return untilDecided(input, () => next(input));
  }

  // Local steps (order-to-cash's database steps) fail for good the same way and get the same case.
  scheduleLocalActivity(
    input: LocalActivityInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>,
  ) {
    return untilDecided(input, () => next(input));
  }
}

/** Runs the step; when it fails for good, opens a case and waits: `retry` runs it again, anything else fails. */
async function untilDecided(input: { seq: number; activityType: string }, run: () => Promise<unknown>) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const cause = failedForGood(err);
      const { workflowId, runId, workflowType } = workflowInfo();
      // A case's own steps failing cannot open another case; histories from before this existed replay unchanged.
      if (!cause || workflowType === 'exceptionCase' || !patched(CASE_PATCH)) throw err;
      const c = await openCase({
        type: 'activity_failed',
        key: `activity_failed:${workflowId}:${runId}:${input.seq}:${attempt}`, // a re-run's failures are cases of their own
        subjectType: 'workflow',
        subjectId: workflowId,
        summary: `${input.activityType} failed for good in ${workflowType} ${workflowId}: ${cause.message}`,
        details: {
          activityType: input.activityType,
          failureType: cause.type ?? null,
          message: cause.message,
          attempt,
        },
      });
      await condition(() => c.outcome() !== undefined);
      const o = c.outcome()!;
      if (o.outcome === 'resolved' && o.resolution.action === 'retry') continue;
      throw err;
    }
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => {
  const trace = traceContextInterceptors(); // outermost: the case a failure opens carries the trace too
  return { inbound: trace.inbound, outbound: [...(trace.outbound ?? []), new ActivityFailureCases()] };
};
