/** Scheduled: flags customers and SKUs whose return rate is far above the norm, as exception records for ops. */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

const { scanReturnRates } = proxyActivities<Activities>({ startToCloseTimeout: '5 minutes' });

export async function returnRateScan(input: { windowDays: number; factor: number; minVolume: number }): Promise<{ flagged: string[] }> {
  return scanReturnRates(input);
}
