/**
 * Console sessions: a person signs in once with an API key and works under a session cookie. Only the
 * session token's hash is stored, with its CSRF token, its key (a revoked key ends its sessions at once)
 * and its expiry; signing out ends it here, not only in the browser.
 */
import type { Knex } from 'knex';

export async function up(k: Knex): Promise<void> {
  await k.schema.createTable('sessions', (t) => {
    t.uuid('id').primary();
    t.text('token_hash').notNullable().unique();
    t.text('csrf_token').notNullable();
    t.uuid('api_key_id').notNullable().references('api_keys.id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('ended_at', { useTz: true });
  });
}

export async function down(k: Knex): Promise<void> {
  await k.schema.dropTable('sessions');
}
