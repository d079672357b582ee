/**
 * One exception case: id `exception-<id>`, with its record in Postgres.
 *
 *   open ─► wait for a person (resolve update, allowed actions only)
 *        ├─ SLA lapses: escalate (severity up, supervisors, a notification); second threshold: again
 *        ├─ the cause goes away: close itself and say why
 *        └─ resolved: the outcome goes back to the waiting process (this is its child)
 * Never dropped silently: after the second escalation it still waits.
 */
import { condition, setHandler } from '@temporalio/workflow';
import { activitiesOf } from './process-kit';
import { msToNumber } from '@temporalio/common/lib/time';
import { caseQuery, causeGoneSignal, resolveCaseUpdate } from '../contracts/exception-messages';
import type { CaseOutcome, ExceptionCaseInput, ExceptionResolution } from '../contracts/exception-types';

const act = activitiesOf<'openCase' | 'escalateCase' | 'resolveCase' | 'closeCase'>();

export async function exceptionCase(input: ExceptionCaseInput): Promise<CaseOutcome> {
  let opened = null as Awaited<ReturnType<typeof act.openCase>> | null;
  let resolution = null as ExceptionResolution | null;
  let goneBecause = null as string | null;
  let level = 0;
  let waitingFor: string | null = 'a person'; // the queue is known once the record exists
  const done = () => resolution !== null || goneBecause !== null;

  // Handlers come before the record: the queue shows the case once act.openCase commits, and a person who
  // resolves it at that moment must find a handler (the API has checked the action against the catalogue).
  setHandler(caseQuery, () => ({
    status: resolution ? 'resolved' : goneBecause ? 'closed' : 'open',
    escalationLevel: level,
    allowedActions: opened?.actions ?? [],
    waitingFor,
  }));
  setHandler(causeGoneSignal, (reason) => void (goneBecause ??= reason));
  setHandler(
    resolveCaseUpdate,
    (r) => {
      resolution = r;
      return { accepted: true };
    },
    {
      validator: (r: ExceptionResolution) => {
        if (done()) throw new Error(`the case is already ${resolution ? 'resolved' : 'closed'}`);
        if (opened && !opened.actions.includes(r.action))
          throw new Error(
            `action "${r.action}" is not allowed for ${input.type}; allowed: ${opened.actions.join(', ')}`,
          );
      },
    },
  );

  const record = await act.openCase(input);
  opened = record;
  waitingFor = `a person in the ${record.queue} queue`;

  const thresholds = [msToNumber(record.sla), msToNumber(record.secondSla) - msToNumber(record.sla)];
  for (const [i, wait] of thresholds.entries()) {
    if (await condition(done, Math.max(1, wait))) break;
    level = i + 1;
    await act.escalateCase({ exceptionId: record.exceptionId, level });
  }
  waitingFor = level > 0 ? `a person (escalated, level ${level})` : waitingFor;
  await condition(done);
  waitingFor = null;
  if (resolution) {
    await act.resolveCase({ exceptionId: record.exceptionId, ...resolution });
    return { outcome: 'resolved', resolution };
  }
  await act.closeCase({ exceptionId: record.exceptionId, reason: goneBecause! });
  return { outcome: 'closed', reason: goneBecause! };
}
