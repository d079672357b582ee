/** Talking to running processes: updates whose refusal becomes a 409, and queries that tolerate a closed process. */
import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
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
    if (err instanceof WorkflowUpdateFailedError) {
      const reason = (err.cause as Error | undefined)?.message ?? err.message;
      if (err.cause instanceof ApplicationFailure && err.cause.type === UNPROCESSABLE) throw unprocessable(reason);
      throw conflict(reason.replace(/^address change refused: /, ''));
    }
    if (err instanceof WorkflowNotFoundError || /already completed|not found/i.test((err as Error).message)) {
      throw conflict('The process has already finished; nothing can change it now');
    }
    throw err;
  }
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
