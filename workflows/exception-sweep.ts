/**
 * Scheduled: escalates open cases that have no process of their own once they pass their SLA thresholds,
 * and closes records left waiting on a process that has ended (each with an engineering case).
 */
import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

const { escalateOverdueCases, closeOrphanedRecords } = proxyActivities<Activities>({ startToCloseTimeout: '5 minutes' });

export async function exceptionSweep(): Promise<{ escalated: number; orphansClosed: number }> {
  const { escalated } = await escalateOverdueCases();
  // Sweeps recorded before orphans were closed replay without the step.
  const orphansClosed = patched('close-orphaned-records') ? (await closeOrphanedRecords()).closed : 0;
  return { escalated, orphansClosed };
}
