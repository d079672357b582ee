/** Exception-case activities: open the record from the catalogue, escalate, resolve, close. All idempotent. */
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { inTransaction } from '../../db';
import { queueNotification } from '../../db/outbox';
import type { ExceptionCaseInput, ExceptionResolution } from '../../workflows/exception-types';
import type { ActivityDeps } from '../deps';

const SEVERITY_UP: Record<string, string> = { low: 'medium', medium: 'high', high: 'critical', critical: 'critical' };
const QUEUE_AT_LEVEL = ['', 'supervisors', 'management'];

export function exceptionActivities({ db }: ActivityDeps) {
  return {
    async openCase(input: ExceptionCaseInput): Promise<{ exceptionId: string; queue: string; actions: string[]; sla: Duration; secondSla: Duration }> {
      const kind = await db('exception_types').where({ type: input.type }).first();
      if (!kind) throw new Error(`Unknown exception type ${input.type}; add it to exception_types`);
      const sla = (input.sla ?? kind.sla) as Duration;
      const secondSla = (input.secondSla ?? kind.second_sla) as Duration;
      await db('exceptions')
        .insert({
          id: input.exceptionId, idempotency_key: input.key, type: input.type, severity: kind.severity, queue: kind.queue,
          subject_type: input.subjectType, subject_id: input.subjectId, workflow_id: input.waitingWorkflowId ?? null, case_workflow_id: `exception-${input.exceptionId}`,
          summary: input.summary, details: JSON.stringify(input.details ?? {}), sla_due_at: new Date(Date.now() + msToNumber(sla)),
        })
        .onConflict('idempotency_key')
        .ignore();
      const row = await db('exceptions').where({ idempotency_key: input.key }).first('id');
      return { exceptionId: row.id, queue: kind.queue, actions: kind.actions.map((a: { action: string }) => a.action), sla, secondSla };
    },

    async escalateCase(input: { exceptionId: string; level: number }): Promise<void> {
      await inTransaction(db, async (tx) => {
        const e = await tx('exceptions').where({ id: input.exceptionId }).forUpdate().first();
        if (e.status !== 'open' || e.escalation_level >= input.level) return;
        await tx('exceptions').where({ id: e.id }).update({ escalation_level: input.level, severity: SEVERITY_UP[e.severity], queue: QUEUE_AT_LEVEL[input.level] ?? 'management' });
        await queueNotification(tx, {
          key: `exception:${e.id}:escalated:${input.level}`, recipient: `${QUEUE_AT_LEVEL[input.level] ?? 'management'}@ops`, template: 'exception_escalated',
          subjectType: 'exception', subjectId: e.id, payload: { type: e.type, level: input.level, summary: e.summary },
        });
      });
    },

    async resolveCase(input: { exceptionId: string } & ExceptionResolution): Promise<void> {
      await db('exceptions').where({ id: input.exceptionId, status: 'open' }).update({
        status: 'resolved', resolution: `${input.action}: ${input.note}`, resolution_data: JSON.stringify(input.data ?? {}), resolved_by: input.resolvedBy ?? null, resolved_at: db.fn.now(),
      });
    },

    async closeCase(input: { exceptionId: string; reason: string }): Promise<void> {
      await db('exceptions').where({ id: input.exceptionId, status: 'open' }).update({ status: 'closed', resolution: `closed by itself: ${input.reason}`, resolved_at: db.fn.now() });
    },
  };
}
