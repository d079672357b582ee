/** Writing to the notifications outbox and the exception records, always inside the caller's transaction. */
import { randomUUID } from 'node:crypto';
import type { Tx } from './index';

export async function queueNotification(tx: Tx, n: { key: string; recipient: string; template: string; subjectType: string; subjectId: string; payload?: object }): Promise<void> {
  await tx('notifications')
    .insert({ id: randomUUID(), idempotency_key: n.key, recipient: n.recipient, template: n.template, subject_type: n.subjectType, subject_id: n.subjectId, payload: JSON.stringify(n.payload ?? {}) })
    .onConflict('idempotency_key')
    .ignore();
}

export interface NewException {
  key: string; // one case per cause: raising it again is a no-op
  type: string;
  severity?: 'low' | 'medium' | 'high' | 'critical';
  queue?: string;
  subjectType: string;
  subjectId: string;
  workflowId?: string;
  summary: string;
  details?: object;
}

/** Opens an exception case once per key; returns its id either way. */
export async function raiseException(tx: Tx, e: NewException): Promise<string> {
  await tx('exceptions')
    .insert({
      id: randomUUID(), idempotency_key: e.key, type: e.type, severity: e.severity ?? 'medium', queue: e.queue ?? 'ops', subject_type: e.subjectType,
      subject_id: e.subjectId, workflow_id: e.workflowId, summary: e.summary, details: JSON.stringify(e.details ?? {}),
      // The catalogue's first threshold; the scheduled sweep escalates cases that have no process of their own.
      sla_due_at: tx.raw(`now() + COALESCE((SELECT sla FROM exception_types WHERE type = ?)::interval, interval '24 hours')`, [e.type]),
    })
    .onConflict('idempotency_key')
    .ignore();
  return (await tx('exceptions').where({ idempotency_key: e.key }).first('id')).id;
}
