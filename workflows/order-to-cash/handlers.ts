/**
 * What people and systems can tell an order while it runs. Validators refuse what cannot be taken now,
 * before it enters the history, so nothing a person sends can fail the process.
 */
import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import {
  cancelUpdate,
  changeAddressUpdate,
  processQuery,
  reviewUpdate,
  shipmentEventSignal,
  shipmentEventUpdate,
  stockAvailableSignal,
  stockLostSignal,
} from '../../contracts/order-messages';
import type { ShipmentEvent, ShipmentEventAnswer } from '../../contracts/order-types';
import { takes, act, type OrderProcess } from './state';

/** How long a report's answer waited in histories from before ANSWER_WITHOUT_TIMER. */
export const EVENT_ANSWER_WITHIN = '10 seconds';

/**
 * Patch: a report's update waits for its answer without a timer of its own; the caller (the API) stops waiting
 * after a while and says "queued", the update stays accepted and is answered when the process applies it. One
 * timer started and cancelled less per report, and nothing in a handler that a replayed step could reorder.
 */
export const ANSWER_WITHOUT_TIMER = 'answer-without-timer';

export function listen(o: OrderProcess): void {
  setHandler(processQuery, () => ({
    stage: o.stage,
    waitingFor: o.waits.current,
    timeline: o.timeline.steps,
    shipments: [...o.shipments].map(([shipmentId, s]) => ({ shipmentId, warehouse: s.warehouse, status: s.status })),
  }));
  setHandler(shipmentEventSignal, (e) => void o.events.push({ e }));
  setHandler(shipmentEventUpdate, (e) => reportShipmentEvent(o, e), {
    validator: (e) => {
      if (o.finished() || o.closing) throw new Error(`order is already ${o.stage}`);
      // An unknown shipment is not refused here: the warehouse can see a new wave before the activity that created it returns.
      if (e.type === 'stopped' && !o.cancelAsked && !o.cancelRequest)
        throw new Error('nothing asked the warehouse to stop this shipment; report picked, packed, shipped or failed');
    },
  });
  setHandler(stockAvailableSignal, () => void (o.stockArrived = true));
  setHandler(stockLostSignal, () => void (o.stockLost = true));
  setHandler(
    cancelUpdate,
    (req) => {
      o.cancelRequest = req;
      return { accepted: true };
    },
    {
      validator: (_req) => {
        if (o.finished() || o.closing) throw new Error(`order is already ${o.stage}`);
        if (o.anyShipped)
          throw new Error('a shipment has already left; cancel is no longer possible (start a return instead)');
      },
    },
  );
  setHandler(
    changeAddressUpdate,
    async (address) => {
      try {
        const saved = await act.changeShippingAddress({ orderId: o.orderId, address });
        o.mark('shipping address changed');
        o.addressChanged = true;
        return saved;
      } catch (err) {
        throw ApplicationFailure.nonRetryable(
          `address change refused: ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}`,
          'AddressLocked',
        );
      }
    },
    {
      validator: (_address) => {
        if (o.finished()) throw new Error(`order is already ${o.stage}`);
        if (o.anyShipped) throw new Error('a shipment has already left; the address can no longer change');
      },
    },
  );
  setHandler(
    reviewUpdate,
    (req) => {
      o.review = req.decision;
      return { decision: req.decision };
    },
    {
      validator: (_req) => {
        // Only while the payment review waits: an address hold is on_hold too, and a review decided is decided.
        if (!o.reviewAwaited || o.review !== null)
          throw new Error(`order is not waiting for a payment review (stage: ${o.stage})`);
      },
    },
  );
}

/**
 * The warehouse's report waits for the process to apply it, so the warehouse gets a definite answer. Most
 * reports are applied within a second. One that arrives while the process waits on something else (a step
 * retried until a person fixes its cause) is applied when the process gets to it; the API tells the caller it
 * is queued meanwhile (api/process.ts `reportToProcess`): said, not hung.
 */
async function reportShipmentEvent(o: OrderProcess, e: ShipmentEvent): Promise<ShipmentEventAnswer> {
  const seq = ++o.eventSeq;
  o.events.push({ e, seq });
  o.awaiting.add(seq);
  if (takes(ANSWER_WITHOUT_TIMER)) await condition(() => o.answers.has(seq));
  else await condition(() => o.answers.has(seq), EVENT_ANSWER_WITHIN);
  o.awaiting.delete(seq);
  const answer = o.answers.get(seq);
  o.answers.delete(seq);
  return (
    answer ?? {
      shipmentId: e.shipmentId,
      applied: false,
      queued: true,
      shipmentStatus: o.shipments.get(e.shipmentId)?.status ?? 'unknown',
      orderStage: o.stage,
      reason: `queued: the process is busy (${o.waits.current ?? o.stage}) and applies it when it gets there`,
    }
  );
}
