/** The benchmark's ceiling: a workflow that runs the same number of activities as an order, each doing nothing. */
import { proxyActivities } from '@temporalio/workflow';

const { nothing } = proxyActivities<{ nothing(): Promise<void> }>({ startToCloseTimeout: '30 seconds' });

export async function ceiling(activities: number): Promise<number> {
  for (let i = 0; i < activities; i++) await nothing();
  return activities;
}
