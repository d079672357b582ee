/** Scheduled: delivers what the outbox holds. */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

const { deliverNotifications } = proxyActivities<Activities>({ startToCloseTimeout: '1 minute' });

export async function notificationDispatch(): Promise<{ sent: number }> {
  let sent = 0;
  for (;;) {
    const r = await deliverNotifications({ batch: 200 });
    sent += r.sent;
    if (r.sent < 200) return { sent };
  }
}
