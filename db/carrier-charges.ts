/**
 * Carrier charges as booked: a carrier's invoice, one charge per parcel, each its own balanced entry on the
 * shipment (6500 shipping costs against 2070 carrier payables), so the margin report finds its order.
 */
import { randomUUID } from 'node:crypto';
import type { Db, Tx } from './index';
import { ACCOUNT, postEntry } from './ledger';

export interface CarrierCharge {
  shipmentId: string;
  amount: number;
}

/** The parcels of these ids, or of these tracking numbers with this carrier (another carrier's number is not its parcel). */
export async function parcelsByReference(
  db: Db | Tx,
  carrier: string,
  refs: { shipmentId?: string; trackingNumber?: string }[],
) {
  const ids = refs.flatMap((r) => (r.shipmentId ? [r.shipmentId] : []));
  const tracking = refs.flatMap((r) => (r.trackingNumber ? [r.trackingNumber] : []));
  const rows: { id: string; order_id: string; status: string; tracking_number: string | null }[] = await db('shipments')
    .where((q) =>
      q
        .whereIn('id', ids)
        .orWhere((t) =>
          t
            .whereIn('tracking_number', tracking)
            .where((c) => c.whereNull('carrier').orWhereRaw('lower(carrier) = lower(?)', [carrier])),
        ),
    )
    .select('id', 'order_id', 'status', 'tracking_number');
  return rows;
}

/** One booking of an invoice at a time: a second one waits, then sees what the first booked. */
export async function lockBill(tx: Tx, carrier: string, billRef: string): Promise<void> {
  await tx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`carrier_charge:${carrier.toLowerCase()}:${billRef}`]);
}

/** What this invoice already booked, per parcel. */
export async function chargesOfBill(db: Db | Tx, carrier: string, billRef: string) {
  const rows: { shipment_id: string; amount: string | number }[] = await db('carrier_charges')
    .whereRaw('lower(carrier) = lower(?)', [carrier])
    .where({ bill_ref: billRef })
    .select('shipment_id', 'amount');
  return new Map(rows.map((r) => [r.shipment_id, Number(r.amount)]));
}

/** Books the parcels' charges of one invoice that are not booked yet; each once. */
export async function bookCarrierCharges(
  tx: Tx,
  bill: { carrier: string; billRef: string; currency: string; recordedBy: string },
  charges: CarrierCharge[],
): Promise<void> {
  for (const c of charges) {
    const id = randomUUID();
    const inserted = await tx('carrier_charges')
      .insert({
        id,
        carrier: bill.carrier,
        bill_ref: bill.billRef,
        shipment_id: c.shipmentId,
        amount: c.amount,
        currency: bill.currency,
        recorded_by: bill.recordedBy,
      })
      .onConflict() // carrier_charges_once: this invoice charged this parcel already
      .ignore()
      .returning('id');
    if (!inserted.length) continue;
    const entryId = await postEntry(tx, {
      key: `carrier_charge:${id}`,
      description: `${bill.carrier} invoice ${bill.billRef}: parcel ${c.shipmentId}`,
      sourceType: 'shipment',
      sourceId: c.shipmentId,
      currency: bill.currency,
      lines: [
        { account: ACCOUNT.shippingCosts, debit: c.amount },
        { account: ACCOUNT.carrierPayables, credit: c.amount },
      ],
    });
    await tx('carrier_charges').where({ id }).update({ entry_id: entryId });
  }
}
