/**
 * Carrier failures: a reship is a shipment of its own (never invoiced again),
 * and a failed shipment can be refunded with a credit note of its own. Refund
 * rows point at the credit note they pay out.
 */
import type { Knex } from 'knex';

export async function up(k: Knex): Promise<void> {
  await k.schema.alterTable('shipments', (t) => {
    t.uuid('reship_of').references('shipments.id'); // the failed shipment this one replaces, free of charge
  });
  await k.raw(`ALTER TABLE credit_notes ALTER COLUMN return_id DROP NOT NULL`);
  await k.schema.alterTable('credit_notes', (t) => {
    t.uuid('shipment_id').unique().references('shipments.id');
  });
  await k.raw(
    `ALTER TABLE credit_notes ADD CONSTRAINT credit_notes_source CHECK ((return_id IS NULL) <> (shipment_id IS NULL))`,
  );
  await k.schema.alterTable('payments', (t) => {
    t.uuid('credit_note_id').references('credit_notes.id');
  });
  await k.raw(
    `UPDATE payments p SET credit_note_id = cn.id FROM credit_notes cn WHERE p.kind = 'refund' AND p.return_id = cn.return_id`,
  );
}

export async function down(k: Knex): Promise<void> {
  await k.schema.alterTable('payments', (t) => t.dropColumn('credit_note_id'));
  await k.raw(`ALTER TABLE credit_notes DROP CONSTRAINT credit_notes_source`);
  await k.schema.alterTable('credit_notes', (t) => t.dropColumn('shipment_id'));
  await k.raw(`ALTER TABLE credit_notes ALTER COLUMN return_id SET NOT NULL`);
  await k.schema.alterTable('shipments', (t) => t.dropColumn('reship_of'));
}
