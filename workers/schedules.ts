/** The scheduled processes, created (or updated) whenever a worker starts, so a fresh installation has them. */
import { Client, ScheduleAlreadyRunning } from '@temporalio/client';
import type { Config } from '../lib/config';

export const RETURN_SCAN = { windowDays: 90, factor: 3, minVolume: 5 };
export const returnScanScheduleId = (taskQueue: string) => `return-rate-scan-${taskQueue}`;

export async function ensureSchedules(client: Client, c: Pick<Config, 'TEMPORAL_TASK_QUEUE' | 'RETURN_SCAN_INTERVAL'>): Promise<void> {
  const scheduleId = returnScanScheduleId(c.TEMPORAL_TASK_QUEUE);
  const action = { type: 'startWorkflow' as const, workflowType: 'returnRateScan', taskQueue: c.TEMPORAL_TASK_QUEUE, args: [RETURN_SCAN], workflowId: `return-rate-scan-${c.TEMPORAL_TASK_QUEUE}` };
  const spec = { intervals: [{ every: c.RETURN_SCAN_INTERVAL as `${number}d` }] };
  try {
    await client.schedule.create({ scheduleId, spec, action, policies: { overlap: 'SKIP' } });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(scheduleId).update((prev) => ({ ...prev, spec, action }));
  }
}
