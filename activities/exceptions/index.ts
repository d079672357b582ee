/** Exception-case activities: open the record from the catalogue, escalate, resolve, close. All idempotent. */
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { Context } from '@temporalio/activity';
import { inTransaction, Tx } from '../../db';
import {
  closeOpenCase,
  exceptionType,
  lockException,
  overdueCasesWithoutProcess,
  recordCase,
  resolveOpenCase,
  setEscalation,
} from '../../db/exceptions';
import { closeOrphan } from '../../db/orphans';
import { findOrphans } from './orphans';
import { queueNotification } from '../../db/notifications';
import type { ExceptionCaseInput, ExceptionResolution } from '../../contracts/exception-types';
import type { ActivityDeps } from '../deps';

const SEVERITY_UP: Record<string, string> = { low: 'medium', medium: 'high', high: 'critical', critical: 'critical' };
const QUEUE_AT_LEVEL = ['', 'supervisors', 'management'];

/** Severity up, a supervisor (level 1) or management (level 2) queue, and a notification. Once per level. */
async function escalate(tx: Tx, exceptionId: string, level: number): Promise<void> {
  const e = await lockException(tx, exceptionId);
  if (e.status !== 'open' || e.escalation_level >= level) return;
  const severity = Array.from({ length: level - e.escalation_level }).reduce<string>(
    (sv) => SEVERITY_UP[sv],
    e.severity,
  );
  await setEscalation(tx, e.id, { level, severity, queue: QUEUE_AT_LEVEL[level] ?? 'management' });
  await queueNotification(tx, {
    key: `exception:${e.id}:escalated:${level}`,
    recipient: `${QUEUE_AT_LEVEL[level] ?? 'management'}@ops`,
    template: 'exception_escalated',
    subjectType: 'exception',
    subjectId: e.id,
    payload: { type: e.type, level, summary: e.summary },
  });
}

export function exceptionActivities({ db }: ActivityDeps) {
  return {
    async openCase(
      input: ExceptionCaseInput,
    ): Promise<{ exceptionId: string; queue: string; actions: string[]; sla: Duration; secondSla: Duration }> {
      const kind = await exceptionType(db, input.type);
      if (!kind) throw new Error(`Unknown exception type ${input.type}; add it to exception_types`);
      const sla = (input.sla ?? kind.sla) as Duration;
      const secondSla = (input.secondSla ?? kind.second_sla) as Duration;
      const exceptionId = await recordCase(db, input, kind, new Date(Date.now() + msToNumber(sla)));
      return {
        exceptionId,
        queue: kind.queue,
        actions: kind.actions.map((a: { action: string }) => a.action),
        sla,
        secondSla,
      };
    },

    async escalateCase(input: { exceptionId: string; level: number }): Promise<void> {
      await inTransaction(db, (tx) => escalate(tx, input.exceptionId, input.level));
    },

    /**
     * Cases with no process of their own (raised as records by activities and scans)
     * escalate here, at the catalogue's two thresholds, like the ones that have one.
     */
    async escalateOverdueCases(): Promise<{ escalated: number }> {
      return inTransaction(db, async (tx) => {
        const due = await overdueCasesWithoutProcess(tx);
        for (const e of due) await escalate(tx, e.id, e.past_second ? 2 : 1);
        return { escalated: due.length };
      });
    },

    async resolveCase(input: { exceptionId: string } & ExceptionResolution): Promise<void> {
      await resolveOpenCase(db, input.exceptionId, {
        action: input.action,
        note: input.note,
        data: input.data,
        resolvedBy: input.resolvedBy ?? null,
      });
    },

    async closeCase(input: { exceptionId: string; reason: string }): Promise<void> {
      await closeOpenCase(db, input.exceptionId, input.reason);
    },

    /**
     * Records waiting on a process that has ended are closed with the reason, each with an engineering
     * case, so nothing waits forever on a dead process (an engineer gave up, someone terminated it).
     */
    async closeOrphanedRecords(): Promise<{ closed: number; orphans: string[] }> {
      const orphans = await findOrphans(db, Context.current().client);
      const closed: string[] = [];
      for (const o of orphans) if (await closeOrphan(db, o)) closed.push(`${o.kind} ${o.label}`);
      return { closed: closed.length, orphans: closed };
    },
  };
}
