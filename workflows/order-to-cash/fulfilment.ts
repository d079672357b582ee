/**
 * Fulfilment: one shipment per warehouse; backorders get later waves as stock arrives. The process wakes
 * on each report, cancel, count or case decision, applies it, and moves the stage people see.
 */
import { log } from '@temporalio/workflow';
import { msToNumber as msOf } from '@temporalio/common/lib/time';
import { weighCancel, weighCancelAtOnce } from './cancellation';
import { allShipped, settleFailures } from './shipment-events';
import { replanLostStock, reserveBackorder } from './stock';
import { takes, act, STATUS_WITH_STEP, TERMINAL, type OrderProcess } from './state';
import { QuietAlarm } from '../process-kit';
import type { OrderStatus } from '../../contracts/order-types';

const CANCEL_IS_A_REQUEST = 'cancel-is-a-request';
/** Patch: the wait for warehouse news keeps one overdue timer (QuietAlarm) instead of one per wait. */
const ONE_FULFILMENT_TIMER = 'one-fulfilment-timer';

export async function fulfil(o: OrderProcess, readyToShip: number): Promise<void> {
  const ship = () => shipWhatIsReserved(o);
  if (readyToShip > 0) await shipWhatIsReserved(o, takes(STATUS_WITH_STEP) ? 'fulfilling' : undefined);
  if (o.shipments.size > 0) await o.enter('fulfilling'); // already there when the first wave wrote it
  o.backorderDeadline = Date.now() + msOf(o.input.timings.backorderWaitTimeout);
  const overdue = takes(ONE_FULFILMENT_TIMER) ? new QuietAlarm(msOf(o.input.timings.fulfilmentTimeout)) : undefined;
  for (;;) {
    const open = [...o.shipments.values()].some((s) => !TERMINAL.has(s.status));
    if (!open && !o.backordered && o.failures.size === 0) return;
    const woke = await nextNews(o, overdue);
    if (takes(CANCEL_IS_A_REQUEST)) await weighCancel(o);
    else await weighCancelAtOnce(o);
    await settleFailures(o);
    if (o.stockLost) await replanLostStock(o);
    if (o.backordered && (o.stockArrived || !woke)) await reserveBackorder(o, ship);
    else if (!woke && !o.backordered && o.failures.size === 0) {
      o.mark('fulfilment is overdue');
      log.warn('fulfilment overdue', { orderId: o.orderId });
    }
    if (o.cancelAsked) continue; // cancel_requested until the warehouse answers
    if (allShipped(o)) await o.enter('shipped');
    else if (o.shipments.size > 0) await o.enter(o.backordered ? 'backordered' : 'fulfilling');
  }
}

/** Creates this wave's shipments for what is reserved and not yet shipped; with `status`, the step writes it. */
async function shipWhatIsReserved(o: OrderProcess, status?: OrderStatus): Promise<void> {
  o.wave += 1;
  const refs = await act.createShipments({ orderId: o.orderId, wave: o.wave, ...(status ? { status } : {}) });
  for (const s of refs) {
    if (!o.shipments.has(s.shipmentId)) o.shipments.set(s.shipmentId, { warehouse: s.warehouse, status: 'pending' });
    o.mark(`shipment created at ${s.warehouse}`);
  }
  if (status && refs.length > 0) o.settle(status);
}

/** Waits for the next report, cancel, count or decision; a backorder also wakes to recheck. False on timeout. */
function nextNews(o: OrderProcess, overdue?: QuietAlarm): Promise<boolean> {
  const { timings } = o.input;
  const timeout = o.backordered
    ? Math.max(1, Math.min(o.backorderDeadline - Date.now(), msOf(timings.backorderRecheckInterval)))
    : (overdue ?? timings.fulfilmentTimeout);
  const what = o.cancelAsked
    ? 'the warehouse to stop the parcel (stopped) or report it shipped'
    : o.failures.size > 0
      ? 'a decision on a carrier failure (exception case), and warehouse events'
      : o.backordered
        ? 'stock for backordered lines, and warehouse events'
        : 'warehouse and carrier events';
  return o.waits.for(
    what,
    () =>
      o.events.length > 0 ||
      o.cancelRequest !== null ||
      o.stockLost ||
      (o.backordered && o.stockArrived) ||
      [...o.failures.values()].some((f) => f.outcome() !== undefined),
    timeout,
  );
}
