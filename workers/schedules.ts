/** The scheduled processes, created (or updated) whenever a worker starts, so a fresh installation has them. */
import { Client, ScheduleAlreadyRunning } from '@temporalio/client';
import { purchasePolicy, settlementRecheck, type Config } from '../lib/config';
import { settlementImportWorkflowId } from '../contracts/workflow-ids';

export const RETURN_SCAN = { windowDays: 90, factor: 3, minVolume: 5 };
export const returnScanScheduleId = (taskQueue: string) => `return-rate-scan-${taskQueue}`;

export const outboxScheduleId = (taskQueue: string) => `notification-dispatch-${taskQueue}`;
export const reconciliationScheduleId = (taskQueue: string) => `stock-reconciliation-${taskQueue}`;
export const sweepScheduleId = (taskQueue: string) => `exception-sweep-${taskQueue}`;
export const replenishmentScheduleId = (taskQueue: string) => `replenishment-planning-${taskQueue}`;
export const settlementScheduleId = (taskQueue: string) => `settlement-import-${taskQueue}`;
export const webhookRetentionScheduleId = (taskQueue: string) => `webhook-retention-${taskQueue}`;

export async function ensureSchedules(client: Client, c: Config): Promise<void> {
  const q = c.TEMPORAL_TASK_QUEUE;
  await ensure(client, returnScanScheduleId(q), c.RETURN_SCAN_INTERVAL, {
    workflowType: 'returnRateScan',
    taskQueue: q,
    args: [RETURN_SCAN],
    workflowId: `return-rate-scan-${q}`,
  });
  await ensure(client, outboxScheduleId(q), c.OUTBOX_INTERVAL, {
    workflowType: 'notificationDispatch',
    taskQueue: q,
    args: [],
    workflowId: `notification-dispatch-${q}`,
  });
  await ensure(client, reconciliationScheduleId(q), c.RECONCILIATION_INTERVAL, {
    workflowType: 'stockReconciliation',
    taskQueue: q,
    args: [],
    workflowId: `stock-reconciliation-${q}`,
  });
  await ensure(client, sweepScheduleId(q), c.EXCEPTION_SWEEP_INTERVAL, {
    workflowType: 'exceptionSweep',
    taskQueue: q,
    args: [],
    workflowId: `exception-sweep-${q}`,
  });
  await ensure(client, replenishmentScheduleId(q), c.REPLENISHMENT_INTERVAL, {
    workflowType: 'replenishmentPlanning',
    taskQueue: q,
    args: [{ trigger: 'schedule', policy: purchasePolicy(c) }],
    workflowId: `replenishment-planning-${q}`,
  });
  await ensure(client, settlementScheduleId(q), c.SETTLEMENT_INTERVAL, {
    workflowType: 'settlementImport',
    taskQueue: q,
    args: [{ recheckAfter: settlementRecheck(c) }],
    workflowId: settlementImportWorkflowId(q),
  });
  await ensure(client, webhookRetentionScheduleId(q), '1d', {
    workflowType: 'webhookRetention',
    taskQueue: q,
    args: [{ keepFor: c.WEBHOOK_RETENTION }],
    workflowId: `webhook-retention-${q}`,
  });
}

async function ensure(
  client: Client,
  scheduleId: string,
  every: string,
  start: { workflowType: string; taskQueue: string; args: unknown[]; workflowId: string },
) {
  const action = { type: 'startWorkflow' as const, ...start };
  const spec = { intervals: [{ every: every as `${number}s` }] };
  try {
    await client.schedule.create({ scheduleId, spec, action, policies: { overlap: 'SKIP' } });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(scheduleId).update((prev) => ({ ...prev, spec, action }));
  }
}

/** Removes this task queue's schedules (tests and temporary installations). */
export async function dropSchedules(client: Client, taskQueue: string): Promise<void> {
  for (const id of [
    returnScanScheduleId(taskQueue),
    outboxScheduleId(taskQueue),
    reconciliationScheduleId(taskQueue),
    sweepScheduleId(taskQueue),
    replenishmentScheduleId(taskQueue),
    settlementScheduleId(taskQueue),
    webhookRetentionScheduleId(taskQueue),
  ]) {
    await client.schedule
      .getHandle(id)
      .delete()
      .catch(() => undefined);
  }
}
