/** Holds before any stock is promised: a payment review by ops, and an address nobody can deliver to. */
import type { ShippingAddress } from '../../contracts/order-types';
import { takes, act, OrderCancelled, type OrderProcess } from './state';

/** A held order waits for an ops decision, and is cancelled when nobody decides in time. */
export async function paymentReview(o: OrderProcess): Promise<void> {
  const { input } = o;
  if ((await act.assessRisk({ orderId: o.orderId, token: input.payment.token })) !== 'review') return;
  o.reviewAwaited = true; // before on_hold is visible: a reviewer can decide at once
  await o.enter('on_hold');
  o.mark('held for payment review');
  const what = 'payment review decision (ops)';
  o.waits.add(what);
  // The hold is also a case in the exception queue; deciding it either way closes the other.
  const c = takes('payment-review-exception')
    ? await o.openCase(
        'payment_review',
        o.orderId,
        `Order ${input.externalRef} (${input.channel}) held by the payment provider for fraud review`,
        1,
      )
    : undefined;
  const decided = await o.waits.for(
    what,
    () => o.review !== null || o.cancelRequest !== null || c?.outcome() !== undefined,
    input.timings.riskReviewTimeout,
  );
  const outcome = c?.outcome();
  if (outcome?.outcome === 'resolved') o.review = outcome.resolution.action === 'release' ? 'release' : 'cancel';
  if (c && !outcome) {
    await c.causeGone(
      !decided
        ? 'the review was not decided in time; the order was cancelled'
        : o.cancelRequest
          ? 'the order was cancelled'
          : 'decided through the review endpoint',
    );
  }
  o.reviewAwaited = false;
  if (!decided) throw new OrderCancelled('payment review was not decided in time');
  o.stopIfCancelled();
  if (o.review === 'cancel') throw new OrderCancelled('rejected in payment review');
  o.mark('released from payment review');
}

/**
 * An undeliverable address holds the order on an exception case until ops correct it (or cancel), or the
 * customer corrects it (the case then closes itself).
 */
export async function addressHold(o: OrderProcess): Promise<void> {
  let check = await act.validateAddress({ orderId: o.orderId });
  for (let attempt = 1; !check.valid; attempt++) {
    await o.enter('on_hold');
    o.mark(`address invalid: ${check.reason}`);
    const c = await o.openCase(
      'invalid_address',
      o.orderId,
      `Order ${o.input.externalRef} (${o.input.channel}): ${check.reason}`,
      attempt,
    );
    o.addressChanged = false;
    for (;;) {
      await o.waits.for(
        'a deliverable address (exception case)',
        () => c.outcome() !== undefined || o.addressChanged || o.cancelRequest !== null,
        o.input.timings.fulfilmentTimeout,
      );
      const outcome = c.outcome();
      if (!outcome && o.cancelRequest) {
        await c.causeGone('the order was cancelled');
        o.stopIfCancelled();
      }
      if (!outcome && o.addressChanged) {
        o.addressChanged = false;
        check = await act.validateAddress({ orderId: o.orderId });
        if (!check.valid) continue;
        await c.causeGone('the address was corrected on the order');
        o.mark('address corrected by the customer');
        break;
      }
      if (!outcome) continue;
      if (outcome.outcome === 'resolved' && outcome.resolution.action === 'cancel')
        throw new OrderCancelled(`undeliverable address: ${outcome.resolution.note}`);
      if (outcome.outcome === 'resolved' && outcome.resolution.action === 'correct_address') {
        await act.changeShippingAddress({
          orderId: o.orderId,
          address: outcome.resolution.data!.address as ShippingAddress,
        });
        o.mark('address corrected by ops');
      }
      check = await act.validateAddress({ orderId: o.orderId });
      break;
    }
  }
  if (o.stage === 'on_hold') await o.enter('received');
}
