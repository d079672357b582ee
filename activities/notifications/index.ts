/**
 * Delivering the outbox. Rows are claimed with SKIP LOCKED (several workers
 * can deliver side by side), sent with the notification id as the provider's
 * message id, then marked sent. A crash between the two re-sends the same
 * id, which the provider ignores: delivered once, never twice.
 */
import { inTransaction } from '../../db';
import { claimDueNotifications, markNotificationSent } from '../../db/notifications';
import type { ActivityDeps } from '../deps';
import { render } from './mailer';

export function notificationActivities({ db, mailer }: ActivityDeps) {
  return {
    async deliverNotifications(input: { batch: number }): Promise<{ sent: number }> {
      return inTransaction(db, async (tx) => {
        const due = await claimDueNotifications(tx, input.batch);
        for (const n of due) {
          const { subject, body } = render(n.template, n.payload);
          await mailer.send({ messageId: n.id, to: n.recipient, subject, body });
          await markNotificationSent(tx, n.id);
        }
        return { sent: due.length };
      });
    },
  };
}
