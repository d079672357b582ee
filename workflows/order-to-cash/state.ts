/** What one order's process knows while it runs: the state its handlers change and its chapters read. */
import { patched, upsertSearchAttributes } from '@temporalio/workflow';
import type { OrderStatus, OrderToCashInput, ShipmentEvent, ShipmentEventAnswer } from '../../contracts/order-types';
import { OrderStageKey } from '../../contracts/search-attributes';
import { openCase, type OpenedCase } from '../cases';
import { activitiesOf, REMOTE_STEPS_AGAIN, Timeline, Waits } from '../process-kit';

/**
 * One marker for everything a new execution does (this file's and its siblings' patches, the database steps run
 * locally, a report answered without a timer, one overdue timer): each `patched()` also writes the
 * TemporalChangeVersion search attribute, so nine markers cost an order nine history events and nine visibility
 * writes more than one. An execution without this marker (started before it) asks each patch as it did.
 */
export const ORDER_PROCESS_2026_12 = 'order-process-2026-12';

/** Set once per execution by OrderProcess (workflow modules are per execution, so this is too). */
let current = false;

/**
 * Whether this execution takes `patch`: always when it runs ORDER_PROCESS_2026_12, else as its history says.
 * Only for patches released with or before that marker; a later patch is asked with `patched()` itself (an
 * execution with the marker may have started before the later patch existed).
 */
export function takes(patch: string): boolean {
  return current || patched(patch);
}

/**
 * Patch: the status people see moves with the step that decides it (reserveStock, createShipments,
 * capturePayment, voidAuthorization write it in their own step), instead of a setOrderStatus step after it:
 * four round trips through the server fewer per order. The process moves its stage with `settle`.
 */
export const STATUS_WITH_STEP = 'status-with-step';

/** The activities order-to-cash calls, and only those. */
export const act = activitiesOf<
  | 'assessRisk'
  | 'validateAddress'
  | 'changeShippingAddress'
  | 'setOrderStatus'
  | 'reserveStock'
  | 'cancelUnallocated'
  | 'authorizePayment'
  | 'voidAuthorization'
  | 'cancelOrder'
  | 'refuseCancel'
  | 'createShipments'
  | 'recordShipmentProgress'
  | 'recordShortPick'
  | 'dispatchShipment'
  | 'shipmentStatuses'
  | 'invoiceShipment'
  | 'capturePayment'
  | 'reshipShipment'
  | 'refundShipment'
>(undefined, {
  // One transaction each on our own database: local steps. The payment provider, the address service and
  // the rare steps (reship, refund, an address change) stay activities, retried by the server. Executions from
  // between REMOTE_STEPS_AGAIN and ORDER_PROCESS_2026_12 ran every step through the server (see process-kit).
  local: [
    'setOrderStatus',
    'reserveStock',
    'cancelUnallocated',
    'cancelOrder',
    'refuseCancel',
    'createShipments',
    'recordShipmentProgress',
    'recordShortPick',
    'dispatchShipment',
    'shipmentStatuses',
    'invoiceShipment',
  ],
  when: () => current || (patched('order-local-steps') && !patched(REMOTE_STEPS_AGAIN)),
});

export const RANK: Record<string, number> = { pending: 0, picked: 1, packed: 2, shipped: 3, delivered: 4 };
export const TERMINAL = new Set(['delivered', 'failed', 'cancelled']);

/** Thrown by a chapter when the order ends cancelled; caught once, where the compensation runs. */
export class OrderCancelled extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'OrderCancelled';
  }
}

export interface Shipment {
  warehouse: string;
  status: string;
  free?: boolean; // a reship at no charge: not invoiced
}

export class OrderProcess {
  stage: OrderStatus = 'received';
  readonly timeline = new Timeline();
  readonly waits = new Waits();
  readonly shipments = new Map<string, Shipment>();
  readonly failures = new Map<string, OpenedCase & { attempt: number }>(); // carrier failures, by shipment
  readonly events: { e: ShipmentEvent; seq?: number }[] = []; // seq: reported by update, which waits for its answer
  readonly answers = new Map<number, ShipmentEventAnswer>();
  readonly awaiting = new Set<number>(); // reports whose caller still waits for the answer
  eventSeq = 0;
  cancelRequest = null as { reason: string } | null; // set by the cancel update
  cancelAsked = null as { reason: string } | null; // a cancel the warehouse must answer (it is picking)
  closing = false; // the process is ending: no more events are taken
  review = null as 'release' | 'cancel' | null; // set by the review update
  reviewAwaited = false; // the payment review waits for ops
  addressChanged = false; // set by the address update; an open address case may close itself
  stockArrived = false;
  stockLost = false; // a count released some of this order's reservations
  anyShipped = false;
  backordered = false;
  backorderDeadline = 0;
  wave = 0;
  authorisationLeft: number | undefined; // what the last capture left of the authorisation

  constructor(readonly input: OrderToCashInput) {
    current = patched(ORDER_PROCESS_2026_12); // first, before any other patch is asked
  }

  get orderId(): string {
    return this.input.orderId;
  }

  mark(step: string): void {
    this.timeline.mark(step);
  }

  finished(): boolean {
    return this.stage === 'completed' || this.stage === 'cancelled';
  }

  /** The stage people see: the order's status row and the search attribute in the Temporal UI. */
  async enter(next: OrderStatus): Promise<void> {
    if (this.stage === next) return;
    this.stage = next;
    upsertSearchAttributes([{ key: OrderStageKey, value: next }]);
    await act.setOrderStatus({ orderId: this.orderId, status: next });
  }

  /** A stage without a status write: the activity that ended the order, or the step that led here, wrote it. */
  settle(last: OrderStatus): void {
    this.stage = last;
    upsertSearchAttributes([{ key: OrderStageKey, value: last }]);
  }

  /** A cancel asked while the process was busy ends the order here. */
  stopIfCancelled(): void {
    if (this.cancelRequest) throw new OrderCancelled(this.cancelRequest.reason);
  }

  /** Opens an exception case (a child process) keyed to this order; the outcome comes back as its result. */
  openCase(
    type: string,
    subjectId: string,
    summary: string,
    attempt: number,
    subjectType = 'order',
  ): Promise<OpenedCase> {
    return openCase({
      type,
      key: `${type}:${subjectType === 'order' ? this.orderId : subjectId}:${attempt}`,
      subjectType,
      subjectId,
      summary,
      sla: this.input.timings.exceptionSla,
      secondSla: this.input.timings.exceptionSecondSla,
    });
  }

  /** Answers every report still queued: the process ends before it could apply them. */
  refuseQueued(reason: string): void {
    this.closing = true;
    for (const { e, seq } of this.events.splice(0)) {
      if (seq !== undefined && this.awaiting.has(seq)) this.answers.set(seq, this.answer(e.shipmentId, reason));
    }
  }

  /** The answer to one report: applied, or refused with the reason. */
  answer(shipmentId: string, refused?: string): ShipmentEventAnswer {
    return {
      shipmentId,
      applied: !refused,
      shipmentStatus: this.shipments.get(shipmentId)?.status ?? 'unknown',
      orderStage: this.stage,
      ...(refused ? { reason: refused } : {}),
    };
  }
}
