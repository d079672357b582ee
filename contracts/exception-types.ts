/** Plain types of exception cases, shared by the case workflow, the processes that raise cases, and the API. */
import type { Duration } from '@temporalio/common';

export interface ExceptionCaseInput {
  exceptionId: string;
  key: string; // one case per cause
  type: string; // a type of the catalogue (exception_types)
  subjectType: string;
  subjectId: string;
  summary: string;
  details?: Record<string, unknown>;
  waitingWorkflowId?: string; // the process that waits for the resolution
  sla?: Duration; // overrides of the catalogue's thresholds (tests, demos)
  secondSla?: Duration;
}

export interface ExceptionResolution {
  action: string;
  note: string;
  data?: Record<string, unknown>;
  resolvedBy?: string;
}

export type CaseOutcome =
  { outcome: 'resolved'; resolution: ExceptionResolution } | { outcome: 'closed'; reason: string };

export interface CaseState {
  status: 'open' | 'resolved' | 'closed';
  escalationLevel: number;
  allowedActions: string[];
  waitingFor: string | null;
}
