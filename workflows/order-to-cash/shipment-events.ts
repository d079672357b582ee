/** What the warehouse and the carrier report about each parcel, applied in the order they reported it. */
import type { ShipmentEvent } from '../../contracts/order-types';
import { backorderLost } from './stock';
import { takes, act, RANK, STATUS_WITH_STEP, TERMINAL, type OrderProcess, type Shipment } from './state';

/** Applies every queued report, and answers each caller that waits: applied, or why not. */
export async function applyEvents(o: OrderProcess): Promise<void> {
  while (o.events.length > 0) {
    const { e, seq } = o.events.shift()!;
    let told = false;
    const tell = (refused?: string) => {
      if (seq === undefined || told || !o.awaiting.has(seq)) return;
      told = true;
      o.answers.set(seq, o.answer(e.shipmentId, refused));
    };
    tell(await apply(o, e, () => tell()));
  }
}

/** Applies one report; answers why not when it cannot. `applied` answers early, before billing. */
async function apply(o: OrderProcess, e: ShipmentEvent, applied: () => void): Promise<string | undefined> {
  const s = o.shipments.get(e.shipmentId);
  if (!s) return 'not a shipment of this order';
  const failure = o.failures.get(e.shipmentId);
  if (failure && s.status === 'failed' && e.type === 'delivered') {
    // The carrier found the parcel: the case's cause is gone.
    await act.recordShipmentProgress({ shipmentId: e.shipmentId, type: 'delivered' });
    s.status = 'delivered';
    o.failures.delete(e.shipmentId);
    await failure.causeGone('the carrier delivered the parcel after all');
    o.mark(`delivered from ${s.warehouse} after all`);
    return undefined;
  }
  if (TERMINAL.has(s.status)) return `the shipment is already ${s.status}`;
  if (e.type === 'stopped') return stopped(o, s);
  if (e.type === 'failed') return failed(o, e, s);
  if (e.type === 'picked' && e.lines && s.status === 'pending') return shortPicked(o, e, s);
  if (e.type === 'picked' || e.type === 'packed') {
    if (RANK[s.status] < RANK[e.type]) {
      await act.recordShipmentProgress({ shipmentId: e.shipmentId, type: e.type });
      s.status = e.type;
      o.mark(`${e.type} at ${s.warehouse}`);
    }
    return undefined;
  }
  // 'shipped', or 'delivered' reported before 'shipped': either way the goods left.
  if (RANK[s.status] < RANK.shipped) await shipped(o, e, s, applied);
  if (e.type === 'delivered') {
    await act.recordShipmentProgress({ shipmentId: e.shipmentId, type: 'delivered' });
    s.status = 'delivered';
    o.mark(`delivered from ${s.warehouse}`);
  }
  return undefined;
}

function stopped(o: OrderProcess, s: Shipment): string | undefined {
  if (!o.cancelAsked) return 'nothing asked the warehouse to stop this shipment';
  if (RANK[s.status] >= RANK.shipped) return `the shipment is already ${s.status}`;
  s.status = 'cancelled'; // the stock goes back when the order's cancel completes
  o.mark(`warehouse stopped the parcel at ${s.warehouse}`);
  return undefined;
}

async function failed(o: OrderProcess, e: ShipmentEvent, s: Shipment): Promise<undefined> {
  await act.recordShipmentProgress({ shipmentId: e.shipmentId, type: 'failed' });
  s.status = 'failed';
  o.mark(`shipment from ${s.warehouse} failed${e.note ? `: ${e.note}` : ''}`);
  if (takes('carrier-failure-exception')) {
    const c = await o.openCase(
      'carrier_failure',
      e.shipmentId,
      `Order ${o.input.externalRef}: shipment from ${s.warehouse} failed${e.note ? ` (${e.note})` : ''}`,
      1,
      'shipment',
    );
    o.failures.set(e.shipmentId, { ...c, attempt: 1 });
  }
  return undefined;
}

/** A short pick: the shipment goes on with what was picked; the missing units re-plan. */
async function shortPicked(o: OrderProcess, e: ShipmentEvent, s: Shipment): Promise<undefined> {
  const short = await act.recordShortPick({ shipmentId: e.shipmentId, picked: e.lines! });
  s.status = short.shipmentEmpty ? 'cancelled' : 'picked';
  if (short.missingUnits > 0)
    backorderLost(
      o,
      `short pick at ${s.warehouse}: ${short.missingUnits} unit(s) not on the shelf, written off; re-planning them`,
    );
  else o.mark(`picked at ${s.warehouse}`);
  return undefined;
}

/** The goods left: booked first (the warehouse's answer must not wait for billing), then invoiced and captured. */
async function shipped(o: OrderProcess, e: ShipmentEvent, s: Shipment, applied: () => void): Promise<void> {
  await act.dispatchShipment({ shipmentId: e.shipmentId, carrier: e.carrier, trackingNumber: e.trackingNumber });
  s.status = 'shipped';
  o.anyShipped = true;
  o.mark(`shipped from ${s.warehouse}${e.trackingNumber ? ` (${e.carrier ?? 'carrier'} ${e.trackingNumber})` : ''}`);
  applied(); // a refused capture waits on a person: the warehouse is answered before it
  if (s.free) return;
  const invoice = await act.invoiceShipment({ orderId: o.orderId, shipmentId: e.shipmentId });
  o.mark(`invoiced ${invoice.number}`);
  // The last parcel captured: the order is shipped (what fulfil's loop would enter next), written by the capture.
  const status = takes(STATUS_WITH_STEP) && allShipped(o) ? ('shipped' as const) : undefined;
  const capture = await act.capturePayment({
    orderId: o.orderId,
    invoiceId: invoice.invoiceId,
    ...(status ? { status } : {}),
  });
  o.authorisationLeft = capture.authorisationLeft; // absent in histories from before it was answered
  if (status) o.settle(status);
  o.mark(`payment captured for ${invoice.number}`);
}

/** Every parcel left, nothing is backordered and no cancel waits: the order is shipped. */
export function allShipped(o: OrderProcess): boolean {
  const states = [...o.shipments.values()].map((s) => s.status);
  return (
    !o.cancelAsked &&
    !o.backordered &&
    states.length > 0 &&
    states.every((st) => st === 'shipped' || st === 'delivered')
  );
}

/** Carries out what ops decided on each carrier failure. */
export async function settleFailures(o: OrderProcess): Promise<void> {
  for (const [shipmentId, f] of [...o.failures]) {
    const decided = f.outcome();
    if (!decided) continue;
    o.failures.delete(shipmentId);
    if (decided.outcome === 'closed') continue;
    const action = decided.resolution.action;
    if (action === 'reship') await reship(o, shipmentId, f.attempt);
    else if (action === 'refund') {
      const r = await act.refundShipment({ shipmentId });
      o.mark(`refunded ${r.refunded} for the failed shipment`);
    } else if (action === 'cancel_rest') {
      await act.cancelOrder({ orderId: o.orderId, reason: 'the rest was cancelled after a carrier failure' });
      for (const sh of o.shipments.values())
        if (RANK[sh.status] !== undefined && RANK[sh.status] < RANK.shipped) sh.status = 'cancelled';
      o.backordered = false;
      o.mark('rest of the order cancelled after a carrier failure');
    }
  }
}

async function reship(o: OrderProcess, shipmentId: string, attempt: number): Promise<void> {
  o.wave += 1;
  const refs = await act.reshipShipment({ orderId: o.orderId, failedShipmentId: shipmentId, wave: o.wave });
  if (refs) {
    for (const r of refs) o.shipments.set(r.shipmentId, { warehouse: r.warehouse, status: 'pending', free: r.free });
    o.mark(`reship from ${refs.map((r) => r.warehouse).join(', ')}${refs[0]?.free ? ' at no charge' : ''}`);
    return;
  }
  o.mark('reship impossible: out of stock');
  const c = await o.openCase(
    'carrier_failure',
    shipmentId,
    `Order ${o.input.externalRef}: reship impossible (out of stock); refund or cancel the rest`,
    attempt + 1,
    'shipment',
  );
  o.failures.set(shipmentId, { ...c, attempt: attempt + 1 });
}
