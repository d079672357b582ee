/** What one purchase order's process knows while it runs, and the work it runs beside its main line. */
import { getExternalWorkflowHandle } from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common/lib/time';
import { stockAvailableSignal } from '../../contracts/order-messages';
import type { PurchaseDecision, PurchaseInput, PurchaseStage } from '../../contracts/purchase-types';
import { activitiesOf, Timeline, Waits } from '../process-kit';

/** The activities procure-to-pay calls, and only those. */
export const act = activitiesOf<
  | 'submitPurchaseOrder'
  | 'requestApproval'
  | 'escalateApproval'
  | 'recordDecision'
  | 'decidePurchaseOrder'
  | 'sendPurchaseOrder'
  | 'receivePurchase'
  | 'settleOverReceipt'
  | 'closeShort'
  | 'recordBill'
  | 'settleBill'
  | 'payBill'
  | 'closePurchaseOrder'
>();

export const TAKES_GOODS: PurchaseStage[] = ['sent', 'partially_received', 'received'];

export class PurchaseProcess {
  stage: PurchaseStage = 'awaiting_approval';
  readonly timeline = new Timeline();
  readonly waits = new Waits();
  readonly day: number; // a supplier day in ms: short in tests
  readonly tolerances: { qtyPct: number; pricePct: number };
  readonly caseTimings: {
    sla: PurchaseInput['policy']['exceptionSla'];
    secondSla: PurchaseInput['policy']['exceptionSecondSla'];
  };
  decision = null as PurchaseDecision | null;
  awaitingDecision = false;
  skus: string[] = [];
  ordered = 0;
  received = 0;
  billedUnits = 0;
  paymentTermsDays = 0;
  readonly unpaid = new Set<string>(); // posted bills whose terms have not fallen due
  readonly awaitingCredit = new Map<string, string>(); // supplier invoice ref → held bill id
  readonly billRefs = new Map<string, string>(); // bill id → supplier invoice ref
  readonly mismatchRounds = new Map<string, number>(); // bill id → the round of its next mismatch case
  private running = 0; // cases and payments in progress beside the main line
  private failure: unknown = null;

  constructor(readonly input: PurchaseInput) {
    const { policy } = input;
    this.day = msToNumber(policy.supplierDay);
    this.tolerances = { qtyPct: policy.matchQtyTolerancePct, pricePct: policy.matchPriceTolerancePct };
    this.caseTimings = { sla: policy.exceptionSla, secondSla: policy.exceptionSecondSla };
  }

  get poId(): string {
    return this.input.poId;
  }

  mark(step: string): void {
    this.timeline.mark(step);
  }

  /** Nothing runs beside the main line any more. */
  get settled(): boolean {
    return this.running === 0;
  }

  /** Work beside the main line (a case, a payment); a failure of it fails the process instead of vanishing. */
  beside(what: string, work: () => Promise<void>): void {
    this.running++;
    this.waits.add(what);
    void work()
      .catch((err) => void (this.failure ??= err))
      .finally(() => {
        this.running--;
        this.waits.remove(what);
      });
  }

  /** Waits on the main line; work beside it that failed fails the process here. */
  async until(what: string, ready: () => boolean, timeoutMs?: number): Promise<boolean> {
    const ok = await this.waits.for(what, () => ready() || this.failure !== null, timeoutMs);
    if (this.failure) throw this.failure;
    return ok;
  }
}

/** Backorders waiting for these SKUs re-try their reservation now, not at their next timer. */
export async function notifyWaitingOrders(workflowIds: string[]): Promise<void> {
  await Promise.all(
    workflowIds.map((id) =>
      getExternalWorkflowHandle(id)
        .signal(stockAvailableSignal)
        .catch(() => undefined),
    ),
  );
}
