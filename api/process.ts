/** Talking to running processes: updates whose refusal becomes a 409, and queries that tolerate a closed process. */
import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateStage, type Client } from '@temporalio/client';
import {
  ApplicationFailure,
  type QueryDefinition,
  type SignalDefinition,
  type UpdateDefinition,
} from '@temporalio/common';
import { stockAvailableSignal, stockLostSignal } from '../contracts/order-messages';
import { UNPROCESSABLE } from '../contracts/refusals';
import type { Config } from '../lib/config';
import { conflict, unprocessable } from './errors';

export { startOnce } from '../lib/start-process';

/**
 * The update id of a request that carries an Idempotency-Key: Temporal runs an
 * update once per id, so a client retrying after a lost answer (the API died,
 * Postgres blinked) cannot receive the same goods or bill twice.
 */
export function updateIdOf(ctx: Context, what: string): string | undefined {
  const key = ctx.get('idempotency-key');
  return key ? `${what}:${createHash('sha256').update(key).digest('hex').slice(0, 32)}` : undefined;
}

export async function updateProcess<R, A>(
  temporal: Client,
  workflowId: string,
  update: UpdateDefinition<R, [A]>,
  arg: A,
  updateId?: string,
): Promise<R> {
  try {
    return await temporal.workflow
      .getHandle(workflowId)
      .executeUpdate(update, { args: [arg], ...(updateId ? { updateId } : {}) });
  } catch (err) {
    throw refusalOf(err);
  }
}

/**
 * A report the process applies when it gets to it: accepted (or refused by its validator) and answered within
 * `withinMs`, else `queued`: an update already accepted is applied in turn; one the server has not taken in
 * that time (as many reports in flight as it allows, which the client retries for a while, or no worker to
 * accept it) goes in as a signal instead, queued the same way. A report that got in both ways is applied
 * once: applying a report again is a no-op (apply() in the order's process).
 */
export async function reportToProcess<R, A>(
  temporal: Client,
  workflowId: string,
  report: { update: UpdateDefinition<R, [A]>; signal: SignalDefinition<[A]> },
  arg: A,
  withinMs: number,
): Promise<R | 'queued'> {
  const handle = temporal.workflow.getHandle(workflowId);
  const late = new AbortController();
  const timer = setTimeout(() => late.abort(), withinMs);
  const tooLate = new Promise<'late'>((resolve) => late.signal.addEventListener('abort', () => resolve('late')));
  try {
    // Each call is cancelled at the deadline; the race answers at once even while the client backs off a retry.
    const within = <T>(call: () => Promise<T>) => {
      const p = temporal.withAbortSignal(late.signal, call);
      p.catch(() => undefined); // answered by the race below; a call cut off late has nothing more to say
      return p;
    };
    const accepted = await Promise.race([
      within(() => handle.startUpdate(report.update, { args: [arg], waitForStage: WorkflowUpdateStage.ACCEPTED })),
      tooLate,
    ]);
    if (accepted === 'late') {
      await handle.signal(report.signal, arg); // if the update got in after all, applying it again is a no-op
      return 'queued';
    }
    return await Promise.race([within(() => accepted.result()), tooLate.then(() => 'queued' as const)]);
  } catch (err) {
    throw refusalOf(err);
  } finally {
    clearTimeout(timer);
  }
}

/** A refused update is a 409 (or the 422 it asked for); a finished process a 409; anything else goes on up. */
function refusalOf(err: unknown): unknown {
  if (err instanceof WorkflowUpdateFailedError) {
    const reason = (err.cause as Error | undefined)?.message ?? err.message;
    if (err.cause instanceof ApplicationFailure && err.cause.type === UNPROCESSABLE) return unprocessable(reason);
    return conflict(reason.replace(/^address change refused: /, ''));
  }
  if (err instanceof WorkflowNotFoundError || /already completed|not found/i.test((err as Error).message)) {
    return conflict('The process has already finished; nothing can change it now');
  }
  return err;
}

/** Workers that polled the task queue lately (a poll lasts up to a minute, so 90 s covers an idle worker). */
export async function workersPolling(temporal: Client, namespace: string, taskQueue: string): Promise<number> {
  const r = await temporal.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: 1,
  }); // 1: workflow tasks
  const recent = Date.now() - 90_000;
  return (r.pollers ?? []).filter((p) => Number(p.lastAccessTime?.seconds ?? 0) * 1000 >= recent).length;
}

type LiveViewConfig = Pick<Config, 'LIVE_VIEW_TIMEOUT_MS' | 'TEMPORAL_NAMESPACE' | 'TEMPORAL_TASK_QUEUE'>;

/**
 * Whether any worker polls, known to within a few seconds: with none, a read skips the live view at once
 * instead of waiting out its deadline. Refreshed in the background so no read waits for the answer.
 */
const polling = new WeakMap<Client, { workers: number; at: number; refreshing?: Promise<void> }>();
function workersKnown(temporal: Client, c: LiveViewConfig): boolean {
  const known = polling.get(temporal) ?? { workers: 1, at: 0 }; // until asked, assume a worker: the deadline still bounds the read
  polling.set(temporal, known);
  if (Date.now() - known.at > 5000 && !known.refreshing) {
    known.refreshing = workersPolling(temporal, c.TEMPORAL_NAMESPACE, c.TEMPORAL_TASK_QUEUE)
      .then(
        (n) => {
          known.workers = n;
        },
        () => {
          known.workers = 0;
        },
      )
      .finally(() => {
        known.at = Date.now();
        known.refreshing = undefined;
      });
  }
  return known.workers > 0;
}

/**
 * The live view of a process, bounded: a query needs a worker to answer, and with none polling (a deploy,
 * a crash) Temporal would hold the read for its whole default deadline. With no worker polling, or past
 * `LIVE_VIEW_TIMEOUT_MS`, the read answers from Postgres alone and says the live view is unavailable.
 */
export async function queryProcess<R>(
  temporal: Client,
  workflowId: string,
  query: QueryDefinition<R, []>,
  c: LiveViewConfig,
): Promise<R | undefined> {
  if (!workersKnown(temporal, c)) return undefined;
  try {
    return await temporal.connection.withDeadline(Date.now() + c.LIVE_VIEW_TIMEOUT_MS, () =>
      temporal.workflow.getHandle(workflowId).query(query),
    );
  } catch {
    return undefined; // the records in Postgres still answer; the live view is a bonus
  }
}

/** What a read shows of a process whose live view did not answer in time. */
export function recordedProcess<W>(stage: string, waitingFor: W, timeoutMs: number) {
  return {
    stage,
    waitingFor,
    timeline: [] as { step: string; at: string }[],
    live: false,
    note: `The live view did not answer within ${timeoutMs} ms (no worker polling, or none free); stage is the recorded status.`,
  };
}

/** Stock became available (a count, a restock): backordered orders re-try their reservation now, not at their next timer. */
export const nudgeBackorders = (temporal: Client, workflowIds: string[]) =>
  signalEach(temporal, workflowIds, stockAvailableSignal);

/** Their reserved stock is gone (a count found less): these orders re-plan now. A closed process has nothing to re-plan. */
export const replan = (temporal: Client, workflowIds: string[]) => signalEach(temporal, workflowIds, stockLostSignal);

async function signalEach(temporal: Client, workflowIds: string[], signal: SignalDefinition): Promise<void> {
  await Promise.allSettled(workflowIds.map((id) => temporal.workflow.getHandle(id).signal(signal)));
}
