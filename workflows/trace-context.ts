/**
 * Carries the caller's trace into every step of a process, without tracing inside the workflow.
 *
 * The Temporal client (lib/tracing.ts) puts the active trace context in a header of each start, signal and
 * update. This interceptor keeps the newest such header it was given and puts it on every activity, local
 * step and child process it schedules; the activity interceptor on the worker then runs the activity in a span
 * under it. So `POST /v1/orders` → start → each activity → its SQL is one trace, and a step scheduled after an
 * approver's decision belongs to that decision's request.
 *
 * Why not OpenTelemetry's own workflow interceptors: they create spans inside the workflow, and span ids come
 * from the workflow's deterministic random numbers, which our processes also draw on (case ids). Running
 * processes recorded without them would draw different numbers on replay and fail (the replay test showed
 * exactly that). Copying a header draws nothing and adds no command.
 */
import type { Payload } from '@temporalio/common';
import type {
  ActivityInput,
  LocalActivityInput,
  Next,
  SignalInput,
  StartChildWorkflowExecutionInput,
  UpdateInput,
  WorkflowExecuteInput,
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptors,
  WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';

/** The header @temporalio/interceptors-opentelemetry reads and writes (its TRACE_HEADER; a test holds them equal). */
export const TRACE_HEADER = '_tracer-data';

export function traceContextInterceptors(): WorkflowInterceptors {
  let current: Payload | undefined;
  const take = (headers: Record<string, Payload>) => {
    if (headers[TRACE_HEADER]) current = headers[TRACE_HEADER];
  };
  const give = <T extends { headers: Record<string, Payload> }>(input: T): T =>
    current ? { ...input, headers: { ...input.headers, [TRACE_HEADER]: current } } : input;

  const inbound: WorkflowInboundCallsInterceptor = {
    execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>) {
      take(input.headers);
      return next(input);
    },
    handleSignal(input: SignalInput, next: Next<WorkflowInboundCallsInterceptor, 'handleSignal'>) {
      take(input.headers);
      return next(input);
    },
    handleUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'handleUpdate'>) {
      take(input.headers);
      return next(input);
    },
  };
  const outbound: WorkflowOutboundCallsInterceptor = {
    scheduleActivity: (input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>) =>
      next(give(input)),
    scheduleLocalActivity: (
      input: LocalActivityInput,
      next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>,
    ) => next(give(input)),
    startChildWorkflowExecution: (
      input: StartChildWorkflowExecutionInput,
      next: Next<WorkflowOutboundCallsInterceptor, 'startChildWorkflowExecution'>,
    ) => next(give(input)),
  };
  return { inbound: [inbound], outbound: [outbound] };
}
