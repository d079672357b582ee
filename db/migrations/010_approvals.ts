/**
 * Approvals: every decision a process waits on a person for (refunds now,
 * purchase orders next), with its SLA, in one inbox (`GET /v1/approvals`).
 */
import type { Knex } from 'knex';

export async function up(k: Knex): Promise<void> {
  await k.schema.createTable('approvals', (t) => {
    t.uuid('id').primary();
    t.text('kind').notNullable(); // refund, purchase_order
    t.text('subject_type').notNullable();
    t.text('subject_id').notNullable();
    t.text('workflow_id').notNullable();
    t.text('status').notNullable().defaultTo('pending');
    t.bigInteger('amount').notNullable();
    t.text('currency').notNullable();
    t.text('reason').notNullable(); // why a person must decide
    t.text('priority').notNullable().defaultTo('normal');
    t.timestamp('requested_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
    t.timestamp('sla_due_at', { useTz: true }).notNullable();
    t.timestamp('escalated_at', { useTz: true });
    t.text('decision');
    t.bigInteger('decided_amount');
    t.text('decided_by');
    t.text('note');
    t.timestamp('decided_at', { useTz: true });
    t.text('idempotency_key').notNullable().unique();
  });
  await k.raw(`ALTER TABLE approvals
    ADD CONSTRAINT approvals_status CHECK (status IN ('pending','approved','rejected','partial','withdrawn')),
    ADD CONSTRAINT approvals_priority CHECK (priority IN ('normal','high')),
    ADD CONSTRAINT approvals_amount CHECK (amount >= 0 AND (decided_amount IS NULL OR decided_amount >= 0))`);
  await k.raw(`CREATE INDEX approvals_pending ON approvals (requested_at) WHERE status = 'pending'`);
  await k.raw(`CREATE INDEX approvals_subject ON approvals (subject_type, subject_id)`);
}

export async function down(k: Knex): Promise<void> {
  await k.schema.dropTable('approvals');
}
