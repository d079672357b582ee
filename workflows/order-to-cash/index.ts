/**
 * Order-to-cash: one workflow per sales order, id `order-<channel>-<externalRef>`.
 *
 *   payment review ─► address ─► reserve ─► authorise ─► fulfil per warehouse ─► close
 *        └─ each shipment: picked ─► packed ─► shipped (stock out, COGS, invoice, capture) ─► delivered
 *
 * Each chapter lives in its own file. A chapter that ends the order cancelled throws OrderCancelled; the
 * compensation (cancellation.ts) runs once, here. Every side effect is an idempotent activity; these
 * files only decide.
 */
import { allHandlersFinished, condition } from '@temporalio/workflow';
import type { OrderOutcome, OrderToCashInput } from '../../contracts/order-types';
import { compensate } from './cancellation';
import { fulfil } from './fulfilment';
import { listen } from './handlers';
import { addressHold, paymentReview } from './holds';
import { takes, act, OrderCancelled, OrderProcess, STATUS_WITH_STEP } from './state';
import { reserve } from './stock';

/** Patch: an order whose captures used the whole authorisation closes without a void (a step less). */
const NOTHING_LEFT_TO_VOID = 'nothing-left-to-void';

export async function orderToCash(input: OrderToCashInput): Promise<OrderOutcome> {
  const o = new OrderProcess(input);
  listen(o);
  o.mark('received');
  try {
    await paymentReview(o);
    if (takes('address-validation-exception')) await addressHold(o);
    const reservation = await reserve(o);
    await authorise(o);
    await fulfil(o, reservation.readyToShip);
  } catch (err) {
    if (err instanceof OrderCancelled) return compensate(o, err.reason);
    throw err;
  }
  return close(o);
}

/** A decline is compensated like a cancel: the reservations go back to stock. */
async function authorise(o: OrderProcess): Promise<void> {
  const auth = await act.authorizePayment({ orderId: o.orderId, token: o.input.payment.token });
  if (!auth.approved) throw new OrderCancelled(`payment declined: ${auth.reason ?? 'no reason given'}`);
  o.mark('payment authorised');
}

/**
 * Nothing more will be captured, so the rest of the authorisation is released. A failed shipment or nothing
 * shipped at all: the open quantities (and any stock still held) are closed.
 */
async function close(o: OrderProcess): Promise<OrderOutcome> {
  const anyFailed = [...o.shipments.values()].some((s) => s.status === 'failed');
  if (anyFailed || !o.anyShipped) {
    await act.cancelOrder({
      orderId: o.orderId,
      reason: o.anyShipped ? 'some shipments failed' : 'nothing could be shipped',
    });
  }
  if (o.anyShipped && o.authorisationLeft === 0 && takes(NOTHING_LEFT_TO_VOID)) {
    await o.enter('completed'); // everything authorised was captured: nothing to release at the provider
  } else if (o.anyShipped && takes(STATUS_WITH_STEP)) {
    // The stage first, as enter() does, so the process never trails the status row; the step writes it.
    o.settle('completed');
    await act.voidAuthorization({ orderId: o.orderId, status: 'completed' });
  } else {
    await act.voidAuthorization({ orderId: o.orderId });
    if (o.anyShipped) await o.enter('completed');
    else o.settle('cancelled');
  }
  o.mark(o.stage);
  o.waits.clear();
  o.refuseQueued(`the order is ${o.stage}`);
  await condition(allHandlersFinished);
  return { status: o.stage };
}
