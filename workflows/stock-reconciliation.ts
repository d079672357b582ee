/** Scheduled: recomputes stock from the moves and reservations; any drift becomes an exception with the numbers. */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

const { reconcileStock } = proxyActivities<Activities>({ startToCloseTimeout: '10 minutes' });

export async function stockReconciliation(): Promise<{ checked: number; drifts: number }> {
  const r = await reconcileStock();
  return { checked: r.checked, drifts: r.drifts.length };
}
