/**
 * Cancellation, in one place. Any chapter ends the order by throwing OrderCancelled; the entry catches it
 * once and runs `compensate`, which undoes what the chapters did: the open quantities and reservations go
 * back (cancelOrder) and what is left of the authorisation is voided. Nothing has been captured by then:
 * once a parcel left, a cancel is refused and the customer is offered a return.
 */
import { allHandlersFinished, condition } from '@temporalio/workflow';
import type { OrderOutcome } from '../../contracts/order-types';
import { applyEvents } from './shipment-events';
import { takes, act, OrderCancelled, type OrderProcess } from './state';

export async function compensate(o: OrderProcess, reason: string): Promise<OrderOutcome> {
  o.closing = true;
  o.mark(`cancelled: ${reason}`);
  o.waits.clear();
  // The void first: cancelOrder writes the status people read, and "cancelled" means nothing is held any more
  // (the order's status is written by a quick local step now, so it would otherwise show before the void).
  if (takes('void-before-cancelled')) {
    await act.voidAuthorization({ orderId: o.orderId });
    await act.cancelOrder({ orderId: o.orderId, reason });
  } else {
    await act.cancelOrder({ orderId: o.orderId, reason });
    await act.voidAuthorization({ orderId: o.orderId });
  }
  o.settle('cancelled');
  o.refuseQueued(`the order was cancelled (${reason})`);
  await condition(allHandlersFinished);
  return { status: 'cancelled', reason };
}

/**
 * A cancel once the warehouse is picking is a request: what the warehouse reported first happened first,
 * so its events are applied before the cancel is weighed. Nothing being picked: cancelled at once (throws).
 * A parcel being picked: the order waits in cancel_requested for the warehouse to stop it or ship it.
 * A parcel that left: the cancel is refused, the requester sees why here, the customer is offered a return.
 */
export async function weighCancel(o: OrderProcess): Promise<void> {
  if (o.cancelRequest && !o.cancelAsked) o.cancelAsked = o.cancelRequest;
  o.cancelRequest = null;
  await applyEvents(o);
  const asked = o.cancelAsked;
  if (!asked) return;
  if (o.anyShipped) {
    o.cancelAsked = null;
    const reason = 'a parcel had already left before the warehouse could stop it';
    o.mark(`cancel refused (${asked.reason}): ${reason}; the customer is offered a return`);
    await act.refuseCancel({ orderId: o.orderId, reason });
    return;
  }
  const picking = [...o.shipments.values()].filter((s) => s.status === 'picked' || s.status === 'packed');
  if (picking.length === 0) throw new OrderCancelled(asked.reason);
  if (o.stage !== 'cancel_requested') {
    await o.enter('cancel_requested');
    o.mark(`cancel requested (${asked.reason}): waiting for the warehouse to stop ${picking.length} parcel(s)`);
  }
}

/** Histories from before `cancel-is-a-request`: a cancel before any parcel left ends the order at once. */
export async function weighCancelAtOnce(o: OrderProcess): Promise<void> {
  const wanted = o.cancelRequest; // the update handler may have set it while we waited
  if (wanted && !o.anyShipped) throw new OrderCancelled(wanted.reason);
  o.cancelRequest = null;
  await applyEvents(o);
}
