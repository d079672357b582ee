/**
 * Notifications outbox: a customer message is written in the same transaction
 * as the change it announces, once per event (unique key), and delivered later
 * by a mailer that marks it sent.
 */
import type { Knex } from 'knex';

export async function up(k: Knex): Promise<void> {
  await k.schema.createTable('notifications', (t) => {
    t.uuid('id').primary();
    t.text('idempotency_key').notNullable().unique();
    t.text('recipient').notNullable();
    t.text('template').notNullable(); // return_authorised, return_expired, refund_issued...
    t.text('subject_type').notNullable();
    t.text('subject_id').notNullable();
    t.jsonb('payload').notNullable().defaultTo('{}');
    t.text('status').notNullable().defaultTo('pending');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
    t.timestamp('sent_at', { useTz: true });
  });
  await k.raw(
    `ALTER TABLE notifications ADD CONSTRAINT notifications_status CHECK (status IN ('pending','sent','failed'))`,
  );
  await k.raw(`CREATE INDEX notifications_pending ON notifications (created_at) WHERE status = 'pending'`);
}

export async function down(k: Knex): Promise<void> {
  await k.schema.dropTable('notifications');
}
