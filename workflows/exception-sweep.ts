/**
 * Scheduled: escalates open cases that have no process of their own once they pass their SLA thresholds,
 * and closes records left waiting on a process that has ended (each with an engineering case).
 */
import { patched } from '@temporalio/workflow';
import { activitiesOf, ACTIVITY_PROFILES } from './process-kit';

const { escalateOverdueCases, closeOrphanedRecords } = activitiesOf<'escalateOverdueCases' | 'closeOrphanedRecords'>(
  ACTIVITY_PROFILES.batch,
);

export async function exceptionSweep(): Promise<{ escalated: number; orphansClosed: number }> {
  const { escalated } = await escalateOverdueCases();
  // Sweeps recorded before orphans were closed replay without the step.
  const orphansClosed = patched('close-orphaned-records') ? (await closeOrphanedRecords()).closed : 0;
  return { escalated, orphansClosed };
}
