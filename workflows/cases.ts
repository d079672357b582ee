/** Opening an exception case from a process: the case is a child workflow whose result is the person's resolution. */
import { startChild, uuid4, workflowInfo } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { exceptionCase } from './exception-case';
import { causeGoneSignal } from '../contracts/exception-messages';
import type { CaseOutcome } from '../contracts/exception-types';
import { caseWorkflowId } from '../contracts/workflow-ids';

export interface OpenedCase {
  exceptionId: string;
  /** The resolution (or closing) once it happened, undefined while the case is open. */
  outcome(): CaseOutcome | undefined;
  /** Tells the case its cause went away; a case that already ended ignores it. */
  causeGone(reason: string): Promise<void>;
}

export async function openCase(c: {
  type: string;
  key: string;
  subjectType: string;
  subjectId: string;
  summary: string;
  details?: Record<string, unknown>;
  sla?: Duration;
  secondSla?: Duration;
}): Promise<OpenedCase> {
  const exceptionId = uuid4();
  const child = await startChild(exceptionCase, {
    workflowId: caseWorkflowId(exceptionId),
    parentClosePolicy: 'ABANDON', // a case is its own record: it outlives the process that opened it
    args: [{ exceptionId, ...c, waitingWorkflowId: workflowInfo().workflowId }],
  });
  let outcome: CaseOutcome | undefined;
  // A case process that ended without a decision (terminated by an engineer) still ends the wait, as closed.
  void child.result().then(
    (o) => (outcome = o),
    () => (outcome = { outcome: 'closed', reason: 'the case process ended without a decision' }),
  );
  return {
    exceptionId,
    outcome: () => outcome,
    causeGone: (reason) => child.signal(causeGoneSignal, reason).catch(() => undefined),
  };
}
