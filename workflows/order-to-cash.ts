/**
 * Order-to-cash: one workflow per sales order, id `order-<channel>-<externalRef>`.
 *
 *   risk check ─► (hold for review) ─► reserve ─► authorise ─► ship per warehouse
 *        └─ each shipment: picked ─► packed ─► shipped (stock out, COGS, invoice, capture) ─► delivered
 *
 * Compensation is explicit: a cancelled or declined order releases its
 * reservations and voids what is left of its authorisation. Every side effect
 * is an idempotent activity; this file only decides.
 */
import {
  allHandlersFinished, ApplicationFailure, condition, log, patched, proxyActivities, setHandler, upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { msToNumber as msOf } from '@temporalio/common/lib/time';
import type { Activities } from '../activities';
import type { OrderOutcome, OrderStatus, OrderToCashInput, ShipmentEvent, ShipmentEventAnswer, ShippingAddress, TimelineStep } from '../contracts/order-types';
import { OrderStageKey } from '../contracts/search-attributes';
import { cancelUpdate, changeAddressUpdate, processQuery, reviewUpdate, shipmentEventSignal, shipmentEventUpdate, stockAvailableSignal, stockLostSignal } from '../contracts/order-messages';
import { openCase as openExceptionCase, type OpenedCase } from './cases';

const act = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const RANK: Record<string, number> = { pending: 0, picked: 1, packed: 2, shipped: 3, delivered: 4 };
const TERMINAL = new Set(['delivered', 'failed', 'cancelled']);
const CANCEL_IS_A_REQUEST = 'cancel-is-a-request';
const EVENT_ANSWER_WITHIN = '10 seconds'; // histories from before it replay the old cancel

export async function orderToCash(input: OrderToCashInput): Promise<OrderOutcome> {
  const { orderId } = input;
  let stage: OrderStatus = 'received';
  let waitingFor: string | null = null;
  const timeline: TimelineStep[] = [];
  const shipments = new Map<string, { warehouse: string; status: string; free?: boolean }>();
  const failures = new Map<string, OpenedCase & { attempt: number }>();
  const events: { e: ShipmentEvent; seq?: number }[] = []; // seq: reported by update, which waits for its answer
  const answers = new Map<number, ShipmentEventAnswer>();
  let eventSeq = 0;
  const awaiting = new Set<number>(); // reports whose caller still waits for the answer
  let cancelRequest = null as { reason: string } | null; // set by the cancel update
  let cancelAsked = null as { reason: string } | null; // a cancel the warehouse must answer (it is picking)
  let closing = false; // the process is ending: no more events are taken
  let review = null as 'release' | 'cancel' | null; // set by the review update
  let stockArrived = false;
  let stockLost = false; // a count released some of this order's reservations
  let anyShipped = false;
  let addressChanged = false; // set by the address update; an open address case may close itself
  let reviewAwaited = false; // the payment review waits for ops

  const mark = (step: string) => timeline.push({ step, at: new Date().toISOString() });
  const finished = () => stage === 'completed' || stage === 'cancelled';
  async function enter(next: OrderStatus) {
    if (stage === next) return;
    stage = next;
    upsertSearchAttributes([{ key: OrderStageKey, value: next }]);
    await act.setOrderStatus({ orderId, status: next });
  }

  setHandler(processQuery, () => ({
    stage, waitingFor, timeline,
    shipments: [...shipments].map(([shipmentId, s]) => ({ shipmentId, warehouse: s.warehouse, status: s.status })),
  }));
  setHandler(shipmentEventSignal, (e) => void events.push({ e }));
  // The warehouse's report waits for the process to apply it, so the warehouse gets a definite answer.
  setHandler(shipmentEventUpdate, async (e) => {
    const seq = ++eventSeq;
    events.push({ e, seq });
    awaiting.add(seq);
    // Most reports are applied within a second. One that arrives while the process waits on something else
    // (a person's decision on a failed step) is queued and applied when the process gets to it: said, not hung.
    await condition(() => answers.has(seq), EVENT_ANSWER_WITHIN);
    awaiting.delete(seq);
    const answer = answers.get(seq);
    answers.delete(seq);
    return answer ?? {
      shipmentId: e.shipmentId, applied: false, queued: true, shipmentStatus: shipments.get(e.shipmentId)?.status ?? 'unknown', orderStage: stage,
      reason: `queued: the process is busy (${waitingFor ?? stage}) and applies it when it gets there`,
    };
  }, {
    validator: (e) => {
      if (finished() || closing) throw new Error(`order is already ${stage}`);
      // An unknown shipment is not refused here: the warehouse can see a new wave before the activity that created it returns.
      if (e.type === 'stopped' && !cancelAsked && !cancelRequest) throw new Error('nothing asked the warehouse to stop this shipment; report picked, packed, shipped or failed');
    },
  });
  setHandler(stockAvailableSignal, () => void (stockArrived = true));
  setHandler(stockLostSignal, () => void (stockLost = true));
  setHandler(cancelUpdate, (req) => {
    cancelRequest = req;
    return { accepted: true };
  }, {
    validator: (_req) => {
      if (finished() || closing) throw new Error(`order is already ${stage}`);
      if (anyShipped) throw new Error('a shipment has already left; cancel is no longer possible (start a return instead)');
    },
  });
  setHandler(changeAddressUpdate, async (address) => {
    try {
      const saved = await act.changeShippingAddress({ orderId, address });
      mark('shipping address changed');
      addressChanged = true;
      return saved;
    } catch (err) {
      throw ApplicationFailure.nonRetryable(`address change refused: ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}`, 'AddressLocked');
    }
  }, {
    validator: (_address) => {
      if (finished()) throw new Error(`order is already ${stage}`);
      if (anyShipped) throw new Error('a shipment has already left; the address can no longer change');
    },
  });
  setHandler(reviewUpdate, (req) => {
    review = req.decision;
    return { decision: req.decision };
  }, {
    validator: (_req) => {
      // Only while the payment review waits: an address hold is on_hold too, and a review decided is decided.
      if (!reviewAwaited || review !== null) throw new Error(`order is not waiting for a payment review (stage: ${stage})`);
    },
  });

  /** Answers every report still queued: the process ends before it could apply them. */
  function refuseQueued(reason: string) {
    closing = true;
    for (const { e, seq } of events.splice(0)) {
      if (seq !== undefined && awaiting.has(seq)) answers.set(seq, { shipmentId: e.shipmentId, applied: false, shipmentStatus: shipments.get(e.shipmentId)?.status ?? 'unknown', orderStage: stage, reason });
    }
  }

  async function cancel(reason: string): Promise<OrderOutcome> {
    closing = true;
    mark(`cancelled: ${reason}`);
    waitingFor = null;
    await act.cancelOrder({ orderId, reason });
    await act.voidAuthorization({ orderId });
    stage = 'cancelled';
    upsertSearchAttributes([{ key: OrderStageKey, value: stage }]);
    refuseQueued(`the order was cancelled (${reason})`);
    await condition(allHandlersFinished);
    return { status: 'cancelled', reason };
  }

  /** Opens an exception case (a child process) keyed to this order; the outcome comes back as its result. */
  function openCase(type: string, subjectId: string, summary: string, attempt: number, subjectType = 'order') {
    return openExceptionCase({
      type, key: `${type}:${subjectType === 'order' ? orderId : subjectId}:${attempt}`, subjectType, subjectId, summary,
      sla: input.timings.exceptionSla, secondSla: input.timings.exceptionSecondSla,
    });
  }

  /** Returns an outcome when the order ends here (cancelled), undefined when the address is good. */
  async function holdForAddress(): Promise<OrderOutcome | undefined> {
    let check = await act.validateAddress({ orderId });
    for (let attempt = 1; !check.valid; attempt++) {
      await enter('on_hold');
      mark(`address invalid: ${check.reason}`);
      const c = await openCase('invalid_address', orderId, `Order ${input.externalRef} (${input.channel}): ${check.reason}`, attempt);
      addressChanged = false;
      for (;;) {
        await waitFor('a deliverable address (exception case)', () => c.outcome() !== undefined || addressChanged || cancelRequest !== null, input.timings.fulfilmentTimeout);
        const outcome = c.outcome();
        if (!outcome && cancelRequest) {
          await c.causeGone('the order was cancelled');
          return cancel(cancelRequest.reason);
        }
        if (!outcome && addressChanged) {
          addressChanged = false;
          check = await act.validateAddress({ orderId });
          if (!check.valid) continue;
          await c.causeGone('the address was corrected on the order');
          mark('address corrected by the customer');
          break;
        }
        if (!outcome) continue;
        if (outcome.outcome === 'resolved' && outcome.resolution.action === 'cancel') return cancel(`undeliverable address: ${outcome.resolution.note}`);
        if (outcome.outcome === 'resolved' && outcome.resolution.action === 'correct_address') {
          await act.changeShippingAddress({ orderId, address: outcome.resolution.data!.address as ShippingAddress });
          mark('address corrected by ops');
        }
        check = await act.validateAddress({ orderId });
        break;
      }
    }
    if (stage === 'on_hold') await enter('received');
    return undefined;
  }

  // Waits until `ready` or until `timeout`; returns false on timeout.
  async function waitFor(what: string, ready: () => boolean, timeout: Duration): Promise<boolean> {
    waitingFor = what;
    const ok = await condition(ready, timeout);
    waitingFor = null;
    return ok;
  }

  mark('received');

  // 1. Risk: a held order waits for an ops decision, and is cancelled when nobody decides in time.
  if ((await act.assessRisk({ orderId, token: input.payment.token })) === 'review') {
    reviewAwaited = true; // before on_hold is visible: a reviewer can decide at once
    await enter('on_hold');
    mark('held for payment review');
    waitingFor = 'payment review decision (ops)';
    // The hold is also a case in the exception queue; deciding it either way closes the other.
    const c = patched('payment-review-exception') ? await openCase('payment_review', orderId, `Order ${input.externalRef} (${input.channel}) held by the payment provider for fraud review`, 1) : undefined;
    const decided = await waitFor('payment review decision (ops)', () => review !== null || cancelRequest !== null || c?.outcome() !== undefined, input.timings.riskReviewTimeout);
    const outcome = c?.outcome();
    if (outcome?.outcome === 'resolved') review = outcome.resolution.action === 'release' ? 'release' : 'cancel';
    if (c && !outcome) {
      await c.causeGone(!decided ? 'the review was not decided in time; the order was cancelled' : cancelRequest ? 'the order was cancelled' : 'decided through the review endpoint');
    }
    reviewAwaited = false;
    if (!decided) return cancel('payment review was not decided in time');
    if (cancelRequest) return cancel(cancelRequest.reason);
    if (review === 'cancel') return cancel('rejected in payment review');
    mark('released from payment review');
  }

  // 1b. Address: an undeliverable address holds the order on an exception case until ops correct it
  // (or cancel), or the customer corrects it (the case then closes itself).
  if (patched('address-validation-exception')) {
    const outcome = await holdForAddress();
    if (outcome) return outcome;
  }

  // 2. Reserve. 'ship_available' takes what there is; 'wait' and 'cancel' want everything at once.
  const allowPartial = input.backorderPolicy === 'ship_available';
  let reservation = await act.reserveStock({ orderId, allowPartial });
  if (reservation.shortUnits > 0 && input.backorderPolicy === 'cancel') return cancel('out of stock');
  if (reservation.shortUnits > 0 && input.backorderPolicy === 'wait') {
    await enter('backordered');
    mark('waiting for stock');
    let deadline = Date.now() + msOf(input.timings.backorderWaitTimeout);
    let shortage: Awaited<ReturnType<typeof openCase>> | undefined; // a person decides once the wait is over
    let shortageCases = 0;
    while (reservation.shortUnits > 0) {
      const left = deadline - Date.now();
      if (left <= 0 && !shortage) {
        if (!patched('stock-shortage-exception')) return cancel('stock did not arrive in time');
        shortage = await openCase('stock_shortage', orderId, `Order ${input.externalRef}: ${reservation.shortUnits} unit(s) still without stock after the wait`, ++shortageCases);
        mark('stock shortage past its wait: exception case opened');
      }
      const open = shortage;
      await waitFor(open ? 'a decision on the stock shortage (exception case), or stock' : 'stock for every line',
        () => stockArrived || cancelRequest !== null || open?.outcome() !== undefined, open ? msOf(input.timings.backorderRecheckInterval) : Math.min(left, msOf(input.timings.backorderRecheckInterval)));
      if (cancelRequest) {
        if (open && !open.outcome()) await open.causeGone('the order was cancelled');
        return cancel(cancelRequest.reason);
      }
      const decided = open?.outcome();
      if (decided?.outcome === 'resolved' && decided.resolution.action === 'cancel') return cancel(`stock did not arrive in time: ${decided.resolution.note}`);
      if (decided) {
        shortage = undefined;
        deadline = Date.now() + msOf(input.timings.backorderWaitTimeout);
        mark('waiting longer for stock');
      }
      stockArrived = false;
      reservation = await act.reserveStock({ orderId, allowPartial: false });
      if (reservation.shortUnits === 0 && shortage) {
        await shortage.causeGone('the stock arrived');
        mark('stock arrived: the shortage case closes itself');
      }
    }
  }
  let backordered = reservation.shortUnits > 0;
  mark(backordered ? `reserved ${reservation.readyToShip}, backordered ${reservation.shortUnits}` : 'reserved');
  await enter(backordered ? 'backordered' : 'reserved');
  if (cancelRequest) return cancel(cancelRequest.reason);

  // 3. Authorise. A decline is compensated: reservations go back to stock.
  const auth = await act.authorizePayment({ orderId, token: input.payment.token });
  if (!auth.approved) return cancel(`payment declined: ${auth.reason ?? 'no reason given'}`);
  mark('payment authorised');

  // 4. Fulfil: one shipment per warehouse; backorders get later waves as stock arrives.
  let wave = 0;
  async function shipWhatIsReserved() {
    wave += 1;
    for (const s of await act.createShipments({ orderId, wave })) {
      if (!shipments.has(s.shipmentId)) shipments.set(s.shipmentId, { warehouse: s.warehouse, status: 'pending' });
      mark(`shipment created at ${s.warehouse}`);
    }
  }
  if (reservation.readyToShip > 0) await shipWhatIsReserved();
  if (shipments.size > 0) await enter('fulfilling');

  /** Applies one warehouse or carrier report; answers why not when it cannot. */
  async function handle(e: ShipmentEvent, applied: () => void = () => undefined): Promise<string | undefined> {
    const s = shipments.get(e.shipmentId);
    if (!s) return 'not a shipment of this order';
    const failure = failures.get(e.shipmentId);
    if (failure && s.status === 'failed' && e.type === 'delivered') {
      // The carrier found the parcel: the case's cause is gone.
      await act.recordShipmentProgress({ shipmentId: e.shipmentId, type: 'delivered' });
      s.status = 'delivered';
      failures.delete(e.shipmentId);
      await failure.causeGone('the carrier delivered the parcel after all');
      mark(`delivered from ${s.warehouse} after all`);
      return undefined;
    }
    if (TERMINAL.has(s.status)) return `the shipment is already ${s.status}`;
    if (e.type === 'stopped') {
      if (!cancelAsked) return 'nothing asked the warehouse to stop this shipment';
      if (RANK[s.status] >= RANK.shipped) return `the shipment is already ${s.status}`;
      s.status = 'cancelled'; // the stock goes back when the order's cancel completes
      mark(`warehouse stopped the parcel at ${s.warehouse}`);
      return undefined;
    }
    if (e.type === 'failed') {
      await act.recordShipmentProgress({ shipmentId: e.shipmentId, type: 'failed' });
      s.status = 'failed';
      mark(`shipment from ${s.warehouse} failed${e.note ? `: ${e.note}` : ''}`);
      if (patched('carrier-failure-exception')) {
        const c = await openCase('carrier_failure', e.shipmentId, `Order ${input.externalRef}: shipment from ${s.warehouse} failed${e.note ? ` (${e.note})` : ''}`, 1, 'shipment');
        failures.set(e.shipmentId, { ...c, attempt: 1 });
      }
      return undefined;
    }
    if (e.type === 'picked' && e.lines && s.status === 'pending') {
      // A short pick: the shipment goes on with what was picked; the missing units re-plan.
      const short = await act.recordShortPick({ shipmentId: e.shipmentId, picked: e.lines });
      s.status = short.shipmentEmpty ? 'cancelled' : 'picked';
      if (short.missingUnits > 0) backorderLost(`short pick at ${s.warehouse}: ${short.missingUnits} unit(s) not on the shelf, written off; re-planning them`);
      else mark(`picked at ${s.warehouse}`);
      return undefined;
    }
    if (e.type === 'picked' || e.type === 'packed') {
      if (RANK[s.status] < RANK[e.type]) {
        await act.recordShipmentProgress({ shipmentId: e.shipmentId, type: e.type });
        s.status = e.type;
        mark(`${e.type} at ${s.warehouse}`);
      }
      return undefined;
    }
    // 'shipped', or 'delivered' reported before 'shipped': either way the goods left.
    if (RANK[s.status] < RANK.shipped) {
      await act.dispatchShipment({ shipmentId: e.shipmentId, carrier: e.carrier, trackingNumber: e.trackingNumber });
      s.status = 'shipped';
      anyShipped = true;
      mark(`shipped from ${s.warehouse}${e.trackingNumber ? ` (${e.carrier ?? 'carrier'} ${e.trackingNumber})` : ''}`);
      applied(); // the warehouse's part is booked: its answer must not wait for billing (a refused capture waits on a person)
      if (!s.free) {
        const invoice = await act.invoiceShipment({ orderId, shipmentId: e.shipmentId });
        mark(`invoiced ${invoice.number}`);
        await act.capturePayment({ orderId, invoiceId: invoice.invoiceId });
        mark(`payment captured for ${invoice.number}`);
      }
    }
    if (e.type === 'delivered') {
      await act.recordShipmentProgress({ shipmentId: e.shipmentId, type: 'delivered' });
      s.status = 'delivered';
      mark(`delivered from ${s.warehouse}`);
    }
    return undefined;
  }

  async function applyEvents() {
    while (events.length > 0) {
      const { e, seq } = events.shift()!;
      let told = false;
      const tell = (refused?: string) => {
        if (seq === undefined || told || !awaiting.has(seq)) return;
        told = true;
        answers.set(seq, { shipmentId: e.shipmentId, applied: !refused, shipmentStatus: shipments.get(e.shipmentId)?.status ?? 'unknown', orderStage: stage, ...(refused ? { reason: refused } : {}) });
      };
      tell(await handle(e, () => tell()));
    }
  }

  /**
   * A cancel once the warehouse is picking is a request: what the warehouse reported first happened first,
   * so its events are applied before the cancel is weighed. Nothing being picked: cancelled at once.
   * A parcel being picked: the order waits in cancel_requested for the warehouse to stop it or ship it.
   * A parcel that left: the cancel is refused, the requester sees why here, the customer is offered a return.
   * Answers an outcome when the order ends cancelled.
   */
  async function weighCancel(): Promise<OrderOutcome | undefined> {
    if (cancelRequest && !cancelAsked) cancelAsked = cancelRequest;
    cancelRequest = null;
    await applyEvents();
    const asked = cancelAsked;
    if (!asked) return undefined;
    if (anyShipped) {
      cancelAsked = null;
      const reason = 'a parcel had already left before the warehouse could stop it';
      mark(`cancel refused (${asked.reason}): ${reason}; the customer is offered a return`);
      await act.refuseCancel({ orderId, reason });
      return undefined;
    }
    const picking = [...shipments.values()].filter((s) => s.status === 'picked' || s.status === 'packed');
    if (picking.length === 0) return cancel(asked.reason);
    if (stage !== 'cancel_requested') {
      await enter('cancel_requested');
      mark(`cancel requested (${asked.reason}): waiting for the warehouse to stop ${picking.length} parcel(s)`);
    }
    return undefined;
  }

  /** Carries out what ops decided on each carrier failure. */
  async function settleFailures() {
    for (const [shipmentId, f] of [...failures]) {
      const o = f.outcome();
      if (!o) continue;
      failures.delete(shipmentId);
      if (o.outcome === 'closed') continue;
      const action = o.resolution.action;
      if (action === 'reship') {
        wave += 1;
        const refs = await act.reshipShipment({ orderId, failedShipmentId: shipmentId, wave });
        if (refs) {
          for (const r of refs) shipments.set(r.shipmentId, { warehouse: r.warehouse, status: 'pending', free: r.free });
          mark(`reship from ${refs.map((r) => r.warehouse).join(', ')}${refs[0]?.free ? ' at no charge' : ''}`);
        } else {
          mark('reship impossible: out of stock');
          const c = await openCase('carrier_failure', shipmentId, `Order ${input.externalRef}: reship impossible (out of stock); refund or cancel the rest`, f.attempt + 1, 'shipment');
          failures.set(shipmentId, { ...c, attempt: f.attempt + 1 });
        }
      } else if (action === 'refund') {
        const r = await act.refundShipment({ shipmentId });
        mark(`refunded ${r.refunded} for the failed shipment`);
      } else if (action === 'cancel_rest') {
        await act.cancelOrder({ orderId, reason: 'the rest was cancelled after a carrier failure' });
        for (const sh of shipments.values()) if (RANK[sh.status] !== undefined && RANK[sh.status] < RANK.shipped) sh.status = 'cancelled';
        backordered = false;
        mark('rest of the order cancelled after a carrier failure');
      }
    }
  }

  let backorderDeadline = Date.now() + msOf(input.timings.backorderWaitTimeout);

  /**
   * A count released reservations this order held: shipments that lost every unit are cancelled, and the lost
   * units are backordered, re-reserved at once from any warehouse that has them, else per the policy: waited for
   * (a fresh wait) or, with 'cancel', cancelled.
   */
  async function replanLostStock() {
    stockLost = false;
    for (const { shipmentId, status } of await act.shipmentStatuses({ orderId })) {
      const s = shipments.get(shipmentId);
      if (s && status === 'cancelled' && RANK[s.status] !== undefined && RANK[s.status] < RANK.shipped) {
        s.status = 'cancelled';
        mark(`shipment at ${s.warehouse} cancelled: a count found its stock gone`);
      }
    }
    backorderLost('a count found less stock than promised: re-planning');
  }

  /** Units this order counted on are gone: re-reserved at once wherever they are, else per the backorder policy. */
  function backorderLost(why: string) {
    mark(why);
    backordered = true;
    stockArrived = true;
    backorderDeadline = input.backorderPolicy === 'cancel' ? Date.now() : Date.now() + msOf(input.timings.backorderWaitTimeout);
  }
  for (;;) {
    const open = [...shipments.values()].some((s) => !TERMINAL.has(s.status));
    if (!open && !backordered && failures.size === 0) break;
    const timeout = backordered ? Math.max(1, Math.min(backorderDeadline - Date.now(), msOf(input.timings.backorderRecheckInterval))) : input.timings.fulfilmentTimeout;
    const woke = await waitFor(
      cancelAsked ? 'the warehouse to stop the parcel (stopped) or report it shipped' : failures.size > 0 ? 'a decision on a carrier failure (exception case), and warehouse events' : backordered ? 'stock for backordered lines, and warehouse events' : 'warehouse and carrier events',
      () => events.length > 0 || cancelRequest !== null || stockLost || (backordered && stockArrived) || [...failures.values()].some((f) => f.outcome() !== undefined),
      timeout,
    );
    if (patched(CANCEL_IS_A_REQUEST)) {
      const cancelled = await weighCancel();
      if (cancelled) return cancelled;
    } else {
      const wanted = cancelRequest as { reason: string } | null; // the update handler may have set it while we waited
      if (wanted && !anyShipped) return cancel(wanted.reason);
      cancelRequest = null;
      await applyEvents();
    }
    await settleFailures();
    if (stockLost) await replanLostStock();
    if (backordered && (stockArrived || !woke)) {
      stockArrived = false;
      const more = await act.reserveStock({ orderId, allowPartial: true });
      if (more.readyToShip > 0) {
        mark(`backorder reserved ${more.readyToShip}`);
        await shipWhatIsReserved();
      }
      backordered = more.shortUnits > 0;
      if (backordered && Date.now() >= backorderDeadline) {
        await act.cancelUnallocated({ orderId });
        mark(`backorder of ${more.shortUnits} unit(s) cancelled: stock did not arrive in time`);
        backordered = false;
      }
    } else if (!woke && !backordered && failures.size === 0) {
      mark('fulfilment is overdue');
      log.warn('fulfilment overdue', { orderId });
    }
    const states = [...shipments.values()].map((s) => s.status);
    if (cancelAsked) continue; // cancel_requested until the warehouse answers
    if (states.length > 0 && states.every((st) => st === 'shipped' || st === 'delivered') && !backordered) await enter('shipped');
    else if (shipments.size > 0) await enter(backordered ? 'backordered' : 'fulfilling');
  }

  // 5. Close: nothing more will be captured, so the rest of the authorisation is released.
  // A failed shipment or nothing shipped at all: close the open quantities (and any stock still held).
  const anyFailed = [...shipments.values()].some((s) => s.status === 'failed');
  if (anyFailed || !anyShipped) {
    await act.cancelOrder({ orderId, reason: anyShipped ? 'some shipments failed' : 'nothing could be shipped' });
  }
  await act.voidAuthorization({ orderId });
  if (!anyShipped) {
    stage = 'cancelled';
    upsertSearchAttributes([{ key: OrderStageKey, value: stage }]);
  } else {
    await enter('completed');
  }
  mark(stage);
  waitingFor = null;
  refuseQueued(`the order is ${stage}`);
  await condition(allHandlersFinished);
  return { status: stage };
}
