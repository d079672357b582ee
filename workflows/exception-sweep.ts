/** Scheduled: escalates open cases that have no process of their own once they pass their SLA thresholds. */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

const { escalateOverdueCases } = proxyActivities<Activities>({ startToCloseTimeout: '5 minutes' });

export async function exceptionSweep(): Promise<{ escalated: number }> {
  return escalateOverdueCases();
}
