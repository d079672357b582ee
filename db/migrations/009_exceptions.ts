/**
 * Exceptions: everything that needs a person, as one record per case. Processes
 * raise them (an overdue approval, an unusual return pattern...); the full
 * queue with its catalogue, SLAs and resolutions builds on this table.
 */
import type { Knex } from 'knex';

export async function up(k: Knex): Promise<void> {
  await k.schema.createTable('exceptions', (t) => {
    t.uuid('id').primary();
    t.text('type').notNullable(); // approval_overdue, unusual_return_pattern, refund_mismatch...
    t.text('status').notNullable().defaultTo('open');
    t.text('severity').notNullable().defaultTo('medium');
    t.text('queue').notNullable().defaultTo('ops');
    t.text('subject_type').notNullable(); // return, order, customer, sku, approval
    t.text('subject_id').notNullable();
    t.text('workflow_id');
    t.text('summary').notNullable();
    t.jsonb('details').notNullable().defaultTo('{}');
    t.text('idempotency_key').notNullable().unique(); // one case per cause
    t.timestamp('opened_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
    t.timestamp('resolved_at', { useTz: true });
    t.text('resolution');
  });
  await k.raw(`ALTER TABLE exceptions
    ADD CONSTRAINT exceptions_status CHECK (status IN ('open','resolved','closed')),
    ADD CONSTRAINT exceptions_severity CHECK (severity IN ('low','medium','high','critical'))`);
  await k.raw(`CREATE INDEX exceptions_open ON exceptions (type, opened_at) WHERE status = 'open'`);
  await k.raw(`CREATE INDEX exceptions_subject ON exceptions (subject_type, subject_id)`);
}

export async function down(k: Knex): Promise<void> {
  await k.schema.dropTable('exceptions');
}
