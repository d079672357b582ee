/**
 * Payments as we record them (authorisations, captures, voids, refunds) and,
 * separately, the sandbox provider's own ledger: an external party keeps its
 * own books, and the drills compare ours against it.
 */
import type { Knex } from 'knex';

export async function up(k: Knex): Promise<void> {
  await k.schema.createTable('payments', (t) => {
    t.uuid('id').primary();
    t.uuid('order_id').notNullable().references('sales_orders.id');
    t.text('kind').notNullable();
    t.bigInteger('amount').notNullable();
    t.text('currency').notNullable();
    t.text('status').notNullable();
    t.text('provider').notNullable();
    t.text('provider_ref');
    t.text('failure_reason');
    t.uuid('invoice_id');
    t.text('idempotency_key').notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
  });
  await k.raw(`ALTER TABLE payments
    ADD CONSTRAINT payments_kind CHECK (kind IN ('authorization','capture','void','refund')),
    ADD CONSTRAINT payments_status CHECK (status IN ('succeeded','failed')),
    ADD CONSTRAINT payments_amount CHECK (amount >= 0)`);
  await k.raw(`CREATE INDEX payments_order ON payments (order_id, created_at)`);

  await k.schema.createTable('sandbox_payment_ledger', (t) => {
    t.text('idempotency_key').primary();
    t.text('operation').notNullable(); // authorize, capture, void, refund
    t.text('token');
    t.text('parent_ref');
    t.bigInteger('amount').notNullable();
    t.text('provider_ref').notNullable().unique();
    t.text('outcome').notNullable(); // approved, declined
    t.integer('attempts').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
  });
  await k.schema.createTable('sandbox_payment_attempts', (t) => {
    t.text('idempotency_key').primary();
    t.integer('attempts').notNullable().defaultTo(0);
  });

  // Webhooks are applied once: the inbox remembers every provider event id.
  await k.schema.createTable('webhook_inbox', (t) => {
    t.text('provider').notNullable();
    t.text('event_id').notNullable();
    t.jsonb('payload').notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
    t.primary(['provider', 'event_id']);
  });
}

export async function down(k: Knex): Promise<void> {
  await k.schema.dropTable('webhook_inbox');
  await k.schema.dropTable('sandbox_payment_attempts');
  await k.schema.dropTable('sandbox_payment_ledger');
  await k.schema.dropTable('payments');
}
