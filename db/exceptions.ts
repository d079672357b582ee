/** Exception cases (the queue of things that need a person) and their catalogue of types. */
import { randomUUID } from 'node:crypto';
import type { Db, Tx } from './index';
import type { ExceptionCaseInput } from '../contracts/exception-types';
import { caseWorkflowId } from '../contracts/workflow-ids';

/** The catalogue entry of an exception type: severity, queue, thresholds and allowed actions. */
export async function exceptionType(db: Db | Tx, type: string) {
  return db('exception_types').where({ type }).first();
}

/** Opens the case of a process once per key (a repeat is a no-op); answers its id either way. */
export async function recordCase(
  db: Db | Tx,
  c: ExceptionCaseInput,
  kind: { severity: string; queue: string },
  slaDueAt: Date,
): Promise<string> {
  await db('exceptions')
    .insert({
      id: c.exceptionId,
      idempotency_key: c.key,
      type: c.type,
      severity: kind.severity,
      queue: kind.queue,
      subject_type: c.subjectType,
      subject_id: c.subjectId,
      workflow_id: c.waitingWorkflowId ?? null,
      case_workflow_id: caseWorkflowId(c.exceptionId),
      summary: c.summary,
      details: JSON.stringify(c.details ?? {}),
      sla_due_at: slaDueAt,
    })
    .onConflict('idempotency_key')
    .ignore();
  return (await db('exceptions').where({ idempotency_key: c.key }).first('id')).id;
}

/** The case row, locked. */
export async function lockException(tx: Tx, exceptionId: string) {
  return tx('exceptions').where({ id: exceptionId }).forUpdate().first();
}

export async function setEscalation(
  tx: Tx,
  exceptionId: string,
  e: { level: number; severity: string; queue: string },
): Promise<void> {
  await tx('exceptions')
    .where({ id: exceptionId })
    .update({ escalation_level: e.level, severity: e.severity, queue: e.queue });
}

/** Open cases without a process of their own past one of their catalogue's two thresholds. */
export async function overdueCasesWithoutProcess(
  tx: Tx,
): Promise<{ id: string; escalation_level: number; past_second: boolean }[]> {
  return tx('exceptions as e')
    .join('exception_types as t', 't.type', 'e.type')
    .where('e.status', 'open')
    .whereNull('e.case_workflow_id')
    .andWhere((q) =>
      q
        .where((a) => a.where('e.escalation_level', '<', 1).whereRaw('e.opened_at + t.sla::interval < now()'))
        .orWhere((b) => b.where('e.escalation_level', '<', 2).whereRaw('e.opened_at + t.second_sla::interval < now()')),
    )
    .select('e.id', 'e.escalation_level', tx.raw('e.opened_at + t.second_sla::interval < now() AS past_second'));
}

/** Resolves the case if it is still open. */
export async function resolveOpenCase(
  db: Db | Tx,
  exceptionId: string,
  r: { action: string; note: string; data?: unknown; resolvedBy: string | null },
): Promise<void> {
  await db('exceptions')
    .where({ id: exceptionId, status: 'open' })
    .update({
      status: 'resolved',
      resolution: `${r.action}: ${r.note}`,
      resolution_data: JSON.stringify(r.data ?? {}),
      resolved_by: r.resolvedBy,
      resolved_at: db.fn.now(),
    });
}

/** Closes the case if it is still open: its cause went away by itself. */
export async function closeOpenCase(db: Db | Tx, exceptionId: string, reason: string): Promise<void> {
  await db('exceptions')
    .where({ id: exceptionId, status: 'open' })
    .update({ status: 'closed', resolution: `closed by itself: ${reason}`, resolved_at: db.fn.now() });
}

/** The case with its type's allowed actions and description. */
export async function exceptionWithType(db: Db | Tx, exceptionId: string) {
  return db('exceptions as e')
    .join('exception_types as t', 't.type', 'e.type')
    .where('e.id', exceptionId)
    .first('e.*', 't.actions', 't.description');
}

/** An exceptions row as knex returns it. */
export type ExceptionRow = Record<string, unknown>;

export interface ExceptionFilter {
  status: string;
  limit: number;
  type?: string;
  queue?: string;
  slaBreached?: 'true' | 'false';
  minAgeMinutes?: number;
}

/** The queue, oldest first. */
export async function listExceptions(db: Db, f: ExceptionFilter) {
  const q = db('exceptions').where({ status: f.status }).orderBy('opened_at').limit(f.limit);
  if (f.type) q.where({ type: f.type });
  if (f.queue) q.where({ queue: f.queue });
  if (f.slaBreached === 'true') q.where('sla_due_at', '<', db.fn.now());
  if (f.slaBreached === 'false') q.where((w) => w.whereNull('sla_due_at').orWhere('sla_due_at', '>=', db.fn.now()));
  if (f.minAgeMinutes) q.where('opened_at', '<', new Date(Date.now() - f.minAgeMinutes * 60000));
  return q;
}

/** Claims the case for `by` unless someone else holds it; answers how many rows changed (0 or 1). */
export async function claimException(db: Db | Tx, exceptionId: string, by: string): Promise<number> {
  return db('exceptions')
    .where({ id: exceptionId })
    .where((w) => w.whereNull('claimed_by').orWhere('claimed_by', by))
    .update({ claimed_by: by, claimed_at: db.fn.now() });
}

/** Open cases about any of these subjects, oldest first. */
export async function openExceptionsAbout(db: Db | Tx, subjectIds: string[]) {
  return db('exceptions')
    .where({ status: 'open' })
    .whereIn('subject_id', subjectIds)
    .orderBy('opened_at')
    .select('id', 'type', 'severity', 'queue', 'summary', 'subject_type', 'subject_id', 'opened_at');
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
      id: randomUUID(),
      idempotency_key: e.key,
      type: e.type,
      severity: e.severity ?? 'medium',
      queue: e.queue ?? 'ops',
      subject_type: e.subjectType,
      subject_id: e.subjectId,
      workflow_id: e.workflowId,
      summary: e.summary,
      details: JSON.stringify(e.details ?? {}),
      // The catalogue's first threshold; the scheduled sweep escalates cases that have no process of their own.
      sla_due_at: tx.raw(
        `now() + COALESCE((SELECT sla FROM exception_types WHERE type = ?)::interval, interval '24 hours')`,
        [e.type],
      ),
    })
    .onConflict('idempotency_key')
    .ignore();
  return (await tx('exceptions').where({ idempotency_key: e.key }).first('id')).id;
}

/** The open cases of one type about one subject (oldest first). */
export async function openCasesOf(db: Db | Tx, type: string, subjectId: string): Promise<{ id: string }[]> {
  return db('exceptions').where({ status: 'open', type, subject_id: subjectId }).orderBy('opened_at').select('id');
}
