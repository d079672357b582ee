/** A carrier's invoice: what each parcel cost to ship, booked per shipment so each order's margin carries it. */
import { inTransaction } from '../../db';
import { bookCarrierCharges, chargesOfBill, lockBill, parcelsByReference } from '../../db/carrier-charges';
import type { RouteDeps } from '../deps';
import { conflict, unprocessable } from '../errors';
import type { Routes } from '../route';
import { CarrierBill, CarrierBillBody } from '../schemas';

const LEFT_THE_WAREHOUSE = ['shipped', 'delivered', 'failed'];

export function carrierChargeRoutes(routes: Routes, { db, config }: RouteDeps): void {
  routes.add({
    method: 'post',
    path: '/v1/carrier-charges',
    errors: [409, 422],
    tag: 'Finance',
    summary: "Book a carrier's invoice: each parcel's charge to shipping costs, on its order",
    roles: ['finance'],
    action: 'carrier_charge.book',
    body: CarrierBillBody,
    idempotent: true,
    response: { status: 201, schema: CarrierBill, description: 'Booked, one entry per parcel' },
    also: [{ status: 200, description: 'Every parcel of this invoice was booked before with the same amount' }],
    handler: async (_ctx, { body, principal }) => {
      if (body.currency !== config.BASE_CURRENCY)
        throw unprocessable(`The books are kept in ${config.BASE_CURRENCY}; convert the invoice before booking it`, [
          { path: 'currency', message: `not ${config.BASE_CURRENCY}` },
        ]);
      const parcels = await parcelsByReference(db, body.carrier, body.lines);
      const charges = body.lines.map((l, i) => {
        const where = l.shipmentId ? `lines.${i}.shipmentId` : `lines.${i}.trackingNumber`;
        const parcel = parcels.find((p) =>
          l.shipmentId ? p.id === l.shipmentId : p.tracking_number === l.trackingNumber,
        );
        if (!parcel)
          throw unprocessable(`No parcel ${l.shipmentId ?? l.trackingNumber}`, [
            { path: where, message: 'unknown parcel' },
          ]);
        if (!LEFT_THE_WAREHOUSE.includes(parcel.status))
          throw unprocessable(`Parcel ${parcel.id} has not left the warehouse (${parcel.status})`, [
            { path: where, message: 'not shipped' },
          ]);
        return { shipmentId: parcel.id, orderId: parcel.order_id, amount: l.amount, where };
      });
      const twice = charges.find((c, i) => charges.findIndex((d) => d.shipmentId === c.shipmentId) !== i);
      if (twice)
        throw unprocessable(`Parcel ${twice.shipmentId} is on the invoice twice; give it once with its total`, [
          { path: twice.where, message: 'repeated parcel' },
        ]);
      const fresh = await inTransaction(db, async (tx) => {
        await lockBill(tx, body.carrier, body.billRef);
        const before = await chargesOfBill(tx, body.carrier, body.billRef);
        const changed = charges.find((c) => before.has(c.shipmentId) && before.get(c.shipmentId) !== c.amount);
        if (changed)
          throw conflict(
            `${body.carrier} invoice ${body.billRef} already charged parcel ${changed.shipmentId} ${before.get(changed.shipmentId)}; a correction is a new invoice (or credit) with its own reference`,
            [{ path: changed.where, message: 'already booked with another amount' }],
          );
        const unbooked = charges.filter((c) => !before.has(c.shipmentId));
        await bookCarrierCharges(tx, { ...body, recordedBy: principal.name }, unbooked);
        return unbooked.length;
      });
      return {
        status: fresh ? 201 : 200,
        body: {
          carrier: body.carrier,
          billRef: body.billRef,
          currency: body.currency,
          total: charges.reduce((s, c) => s + c.amount, 0),
          lines: charges.map(({ shipmentId, orderId, amount }) => ({ shipmentId, orderId, amount })),
        },
        audit: { target: `${body.carrier}:${body.billRef}` },
      };
    },
  });
}
