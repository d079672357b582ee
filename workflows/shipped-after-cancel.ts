/**
 * Shipped after cancel: one workflow per parcel the warehouse reported shipped after its order was cancelled,
 * id `shipped-after-cancel-<shipmentId>`. The report is never ignored:
 *
 *   book the stock out (to the customer, at cost) ─► case: intercept | charge | write off ─► carry it out
 *
 * intercept: the carrier brings the parcel back (stock and cost return); charge: the shipment is invoiced to
 * the customer after all (the receivable is collected outside the voided card authorisation); write off: the
 * cost stays booked as a loss. Every side effect is an idempotent activity.
 */
import { condition } from '@temporalio/workflow';
import { activitiesOf } from './process-kit';
import { openCase } from './cases';

const act = activitiesOf<'bookShippedAfterCancel' | 'interceptShipment' | 'invoiceShipment'>();

export interface ShippedAfterCancelInput {
  shipmentId: string;
  orderId: string;
  externalRef: string;
  carrier?: string;
  trackingNumber?: string;
}

export async function shippedAfterCancel(input: ShippedAfterCancelInput): Promise<{ outcome: string; units: number }> {
  const { shipmentId, orderId } = input;
  const booked = await act.bookShippedAfterCancel({
    shipmentId,
    carrier: input.carrier,
    trackingNumber: input.trackingNumber,
  });
  const c = await openCase({
    type: 'shipped_after_cancel',
    key: `shipped_after_cancel:${shipmentId}`,
    subjectType: 'shipment',
    subjectId: shipmentId,
    summary: `Order ${input.externalRef} was cancelled, but its parcel (${booked.units} unit(s)${input.trackingNumber ? `, ${input.carrier ?? 'carrier'} ${input.trackingNumber}` : ''}) was shipped`,
    details: { orderId, units: booked.units, costOfGoods: booked.costOfGoods },
  });
  await condition(() => c.outcome() !== undefined);
  const o = c.outcome()!;
  if (o.outcome !== 'resolved') return { outcome: 'closed', units: booked.units };
  if (o.resolution.action === 'intercept') await act.interceptShipment({ shipmentId });
  if (o.resolution.action === 'charge') await act.invoiceShipment({ orderId, shipmentId });
  return { outcome: o.resolution.action, units: booked.units };
}
