/**
 * Stock for the order: reserved up front per the backorder policy, waited for when it is short, and
 * re-planned when a count or a short pick finds less on the shelf than was promised.
 */
import { msToNumber as msOf } from '@temporalio/common/lib/time';
import type { OpenedCase } from '../cases';
import { takes, act, OrderCancelled, RANK, STATUS_WITH_STEP, type OrderProcess } from './state';

type Reservation = Awaited<ReturnType<typeof act.reserveStock>>;

/** 'ship_available' takes what there is; 'wait' and 'cancel' want everything at once. */
export async function reserve(o: OrderProcess): Promise<Reservation> {
  const { backorderPolicy } = o.input;
  const allowPartial = backorderPolicy === 'ship_available';
  let reservation: Reservation;
  if (takes(STATUS_WITH_STEP)) {
    // The step writes the stage it leads to: reserved, or backordered unless a short order is cancelled.
    const whenShort = backorderPolicy === 'cancel' ? undefined : ('backordered' as const);
    reservation = await act.reserveStock({
      orderId: o.orderId,
      allowPartial,
      status: { whenReserved: 'reserved', whenShort },
    });
    const written = reservation.shortUnits === 0 ? 'reserved' : whenShort;
    if (written) o.settle(written);
  } else reservation = await act.reserveStock({ orderId: o.orderId, allowPartial });
  if (reservation.shortUnits > 0 && backorderPolicy === 'cancel') throw new OrderCancelled('out of stock');
  if (reservation.shortUnits > 0 && backorderPolicy === 'wait') reservation = await waitForStock(o, reservation);
  o.backordered = reservation.shortUnits > 0;
  o.mark(o.backordered ? `reserved ${reservation.readyToShip}, backordered ${reservation.shortUnits}` : 'reserved');
  await o.enter(o.backordered ? 'backordered' : 'reserved');
  o.stopIfCancelled();
  return reservation;
}

/** Everything or nothing: waits for stock; past the wait a person decides (an exception case) to wait longer or cancel. */
async function waitForStock(o: OrderProcess, first: Reservation): Promise<Reservation> {
  const { timings } = o.input;
  let reservation = first;
  await o.enter('backordered');
  o.mark('waiting for stock');
  let deadline = Date.now() + msOf(timings.backorderWaitTimeout);
  let shortage: OpenedCase | undefined; // a person decides once the wait is over
  let shortageCases = 0;
  while (reservation.shortUnits > 0) {
    const left = deadline - Date.now();
    if (left <= 0 && !shortage) {
      if (!takes('stock-shortage-exception')) throw new OrderCancelled('stock did not arrive in time');
      shortage = await o.openCase(
        'stock_shortage',
        o.orderId,
        `Order ${o.input.externalRef}: ${reservation.shortUnits} unit(s) still without stock after the wait`,
        ++shortageCases,
      );
      o.mark('stock shortage past its wait: exception case opened');
    }
    const open = shortage;
    await o.waits.for(
      open ? 'a decision on the stock shortage (exception case), or stock' : 'stock for every line',
      () => o.stockArrived || o.cancelRequest !== null || open?.outcome() !== undefined,
      open ? msOf(timings.backorderRecheckInterval) : Math.min(left, msOf(timings.backorderRecheckInterval)),
    );
    if (o.cancelRequest) {
      if (open && !open.outcome()) await open.causeGone('the order was cancelled');
      o.stopIfCancelled();
    }
    const decided = open?.outcome();
    if (decided?.outcome === 'resolved' && decided.resolution.action === 'cancel')
      throw new OrderCancelled(`stock did not arrive in time: ${decided.resolution.note}`);
    if (decided) {
      shortage = undefined;
      deadline = Date.now() + msOf(timings.backorderWaitTimeout);
      o.mark('waiting longer for stock');
    }
    o.stockArrived = false;
    reservation = await act.reserveStock({ orderId: o.orderId, allowPartial: false });
    if (reservation.shortUnits === 0 && shortage) {
      await shortage.causeGone('the stock arrived');
      o.mark('stock arrived: the shortage case closes itself');
    }
  }
  return reservation;
}

/** A backorder tries again (stock arrived, or its recheck timer fired); past its deadline the rest is cancelled. */
export async function reserveBackorder(o: OrderProcess, shipWhatIsReserved: () => Promise<void>): Promise<void> {
  o.stockArrived = false;
  const more = await act.reserveStock({ orderId: o.orderId, allowPartial: true });
  if (more.readyToShip > 0) {
    o.mark(`backorder reserved ${more.readyToShip}`);
    await shipWhatIsReserved();
  }
  o.backordered = more.shortUnits > 0;
  if (o.backordered && Date.now() >= o.backorderDeadline) {
    await act.cancelUnallocated({ orderId: o.orderId });
    o.mark(`backorder of ${more.shortUnits} unit(s) cancelled: stock did not arrive in time`);
    o.backordered = false;
  }
}

/**
 * A count released reservations this order held: shipments that lost every unit are cancelled, and the lost
 * units are backordered, re-reserved at once from any warehouse that has them, else per the policy: waited for
 * (a fresh wait) or, with 'cancel', cancelled.
 */
export async function replanLostStock(o: OrderProcess): Promise<void> {
  o.stockLost = false;
  for (const { shipmentId, status } of await act.shipmentStatuses({ orderId: o.orderId })) {
    const s = o.shipments.get(shipmentId);
    if (s && status === 'cancelled' && RANK[s.status] !== undefined && RANK[s.status] < RANK.shipped) {
      s.status = 'cancelled';
      o.mark(`shipment at ${s.warehouse} cancelled: a count found its stock gone`);
    }
  }
  backorderLost(o, 'a count found less stock than promised: re-planning');
}

/** Units this order counted on are gone: re-reserved at once wherever they are, else per the backorder policy. */
export function backorderLost(o: OrderProcess, why: string): void {
  o.mark(why);
  o.backordered = true;
  o.stockArrived = true;
  o.backorderDeadline =
    o.input.backorderPolicy === 'cancel' ? Date.now() : Date.now() + msOf(o.input.timings.backorderWaitTimeout);
}
