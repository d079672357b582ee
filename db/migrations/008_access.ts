/** Access: API keys (only their SHA-256 hash is stored) with roles, and the audit log of every state change. */
import type { Knex } from 'knex';
import { ROLES } from '../../contracts/roles';

export async function up(k: Knex): Promise<void> {
  await k.schema.createTable('api_keys', (t) => {
    t.uuid('id').primary();
    t.text('name').notNullable();
    t.text('prefix').notNullable(); // first characters, to recognise a key without revealing it
    t.text('key_hash').notNullable().unique();
    t.specificType('roles', 'text[]').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
    t.timestamp('revoked_at', { useTz: true });
  });
  await k.raw(
    `ALTER TABLE api_keys ADD CONSTRAINT api_keys_roles CHECK (cardinality(roles) > 0 AND roles <@ ARRAY[${ROLES.map((r) => `'${r}'`).join(',')}]::text[])`,
  );
  await k.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(k.fn.now());
    t.uuid('api_key_id');
    t.text('api_key_name');
    t.specificType('roles', 'text[]');
    t.text('action').notNullable();
    t.text('method').notNullable();
    t.text('path').notNullable();
    t.text('target');
    t.integer('status').notNullable();
    t.text('request_id').notNullable();
    t.text('workflow_id');
  });
  await k.raw(`CREATE INDEX audit_log_at ON audit_log (at)`);
  await k.raw(`CREATE INDEX audit_log_request ON audit_log (request_id)`);

  // Idempotency-Key replay store for creating writes other than orders.
  await k.schema.createTable('idempotency_keys', (t) => {
    t.uuid('api_key_id').notNullable();
    t.text('key').notNullable();
    t.text('route').notNullable();
    t.integer('status').notNullable();
    t.jsonb('body').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
    t.primary(['api_key_id', 'route', 'key']);
  });
}

export async function down(k: Knex): Promise<void> {
  await k.schema.dropTable('idempotency_keys');
  await k.schema.dropTable('audit_log');
  await k.schema.dropTable('api_keys');
}
