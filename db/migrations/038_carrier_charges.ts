/**
 * Carrier charges: what a carrier bills per parcel (a label, a surcharge), booked from its invoice to
 * 6500 shipping costs against 2070 carrier payables, per shipment, so a margin knows each order's shipping cost.
 */
import type { Knex } from 'knex';

export async function up(k: Knex): Promise<void> {
  await k('accounts').insert([
    { code: '2070', name: 'Carrier payables', type: 'liability' },
    { code: '6500', name: 'Shipping costs', type: 'expense' },
  ]);
  await k.schema.createTable('carrier_charges', (t) => {
    t.uuid('id').primary();
    t.text('carrier').notNullable();
    t.text('bill_ref').notNullable(); // the carrier's invoice
    t.uuid('shipment_id').notNullable().references('shipments.id');
    t.bigInteger('amount').notNullable();
    t.text('currency').notNullable();
    t.text('recorded_by');
    t.bigInteger('entry_id').references('journal_entries.id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
  });
  // A parcel's charge on one invoice is booked once, however the carrier's name is written.
  await k.raw(`CREATE UNIQUE INDEX carrier_charges_once ON carrier_charges (lower(carrier), bill_ref, shipment_id)`);
  await k.raw(`ALTER TABLE carrier_charges ADD CONSTRAINT carrier_charges_amount CHECK (amount > 0)`);
  await k.raw(`CREATE INDEX carrier_charges_shipment ON carrier_charges (shipment_id)`);
}

export async function down(k: Knex): Promise<void> {
  await k.schema.dropTable('carrier_charges');
  await k('accounts').whereIn('code', ['2070', '6500']).delete();
}
