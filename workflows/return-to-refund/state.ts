/** What one return's process knows while it runs, and how it records its stage and its end. */
import { allHandlersFinished, condition } from '@temporalio/workflow';
import type { RefundDecision, ReturnInput, ReturnStatus } from '../../contracts/return-types';
import { activitiesOf, Timeline, Waits } from '../process-kit';

/** The activities return-to-refund calls, and only those. */
export const act = activitiesOf<
  | 'authorizeReturn'
  | 'setReturnStatus'
  | 'receiveReturn'
  | 'inspectReturn'
  | 'openException'
  | 'quoteRefund'
  | 'requestApproval'
  | 'escalateApproval'
  | 'recordDecision'
  | 'refundReturn'
  | 'createReplacementOrder'
>();

export type ReturnOutcome = { status: ReturnStatus; refunded?: number };

export class ReturnProcess {
  stage: ReturnStatus = 'requested';
  readonly timeline = new Timeline();
  readonly waits = new Waits();
  expected = 0;
  received = 0;
  inspected = 0;
  decision = null as RefundDecision | null;
  // What an approver is asked, set before the approval becomes visible in the inbox, so that anyone who
  // sees it can decide at once; the quote bounds a partial refund.
  awaited = null as { amount: number; currency: string } | null;

  constructor(readonly input: ReturnInput) {}

  get returnId(): string {
    return this.input.returnId;
  }

  mark(step: string): void {
    this.timeline.mark(step);
  }

  /** The stage people see, with the reason when it ends otherwise than expected. */
  async enter(next: ReturnStatus, reason?: string): Promise<void> {
    this.stage = next;
    await act.setReturnStatus({ returnId: this.returnId, status: next, reason });
  }

  async finish(status: ReturnStatus, refunded?: number): Promise<ReturnOutcome> {
    this.waits.clear();
    this.mark(status);
    await condition(allHandlersFinished);
    return { status, refunded };
  }
}
