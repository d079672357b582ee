/** The notifications outbox as it is delivered, and the sandbox mail provider's mailbox. */
import { randomUUID } from 'node:crypto';
import type { Db, Tx } from './index';

/** The oldest pending notifications, claimed with SKIP LOCKED so several workers can deliver side by side. */
export async function claimDueNotifications(tx: Tx, batch: number) {
  return tx('notifications').where({ status: 'pending' }).orderBy('created_at').limit(batch).forUpdate().skipLocked();
}

export async function markNotificationSent(tx: Tx, notificationId: string): Promise<void> {
  await tx('notifications').where({ id: notificationId }).update({ status: 'sent', sent_at: tx.fn.now() });
}

/** Drops a message into the sandbox mailbox; a repeat of its message id is a no-op. */
export async function deliverToSandboxMailbox(
  db: Db | Tx,
  m: { messageId: string; to: string; subject: string; body: string },
): Promise<void> {
  await db('sandbox_mailbox')
    .insert({ message_id: m.messageId, recipient: m.to, subject: m.subject, body: m.body })
    .onConflict('message_id')
    .ignore();
}

/** Queues a notification in the outbox, once per key, inside the caller's transaction. */
export async function queueNotification(
  tx: Tx,
  n: { key: string; recipient: string; template: string; subjectType: string; subjectId: string; payload?: object },
): Promise<void> {
  await tx('notifications')
    .insert({
      id: randomUUID(),
      idempotency_key: n.key,
      recipient: n.recipient,
      template: n.template,
      subject_type: n.subjectType,
      subject_id: n.subjectId,
      payload: JSON.stringify(n.payload ?? {}),
    })
    .onConflict('idempotency_key')
    .ignore();
}
