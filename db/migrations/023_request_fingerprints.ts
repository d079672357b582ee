/**
 * A request's fingerprint beside its idempotency key, so a key reused for a different request is
 * refused instead of answered with the first record: on the key store (claimed before the handler
 * runs, so every record a key creates has its fingerprint bound) and on orders, whose key is
 * (channel, externalRef).
 */
import type { Knex } from 'knex';

export async function up(k: Knex): Promise<void> {
  await k.schema.alterTable('idempotency_keys', (t) => {
    t.text('request_hash');
    t.integer('status').nullable().alter(); // null while the first request is being handled
    t.jsonb('body').nullable().alter();
  });
  await k.schema.alterTable('sales_orders', (t) => {
    t.text('request_hash');
  });
}

export async function down(k: Knex): Promise<void> {
  await k.schema.alterTable('sales_orders', (t) => {
    t.dropColumn('request_hash');
  });
  await k('idempotency_keys').whereNull('status').delete();
  await k.schema.alterTable('idempotency_keys', (t) => {
    t.dropColumn('request_hash');
    t.integer('status').notNullable().alter();
    t.jsonb('body').notNullable().alter();
  });
}
