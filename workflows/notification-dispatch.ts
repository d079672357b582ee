/** Scheduled: delivers what the outbox holds. */
import { activitiesOf, ACTIVITY_PROFILES } from './process-kit';

const { deliverNotifications } = activitiesOf<'deliverNotifications'>(ACTIVITY_PROFILES.delivery);

export async function notificationDispatch(): Promise<{ sent: number }> {
  let sent = 0;
  for (;;) {
    const r = await deliverNotifications({ batch: 200 });
    sent += r.sent;
    if (r.sent < 200) return { sent };
  }
}
