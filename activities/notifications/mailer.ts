/** The mail provider as the platform sees it, and its sandbox: a mailbox table keyed by message id (a repeat is a no-op). */
import type { Db } from '../../db';
import { deliverToSandboxMailbox } from '../../db/notifications';

export interface Mailer {
  send(m: { messageId: string; to: string; subject: string; body: string }): Promise<void>;
}

export function sandboxMailer(db: Db): Mailer {
  return {
    async send(m) {
      await deliverToSandboxMailbox(db, m);
    },
  };
}

const SUBJECTS: Record<string, (p: Record<string, unknown>) => string> = {
  order_confirmed: (p) => `Your order ${p.externalRef} is confirmed`,
  order_shipped: (p) =>
    `Your order ${p.externalRef} is on its way${p.trackingNumber ? ` (${p.carrier} ${p.trackingNumber})` : ''}`,
  order_delayed: (p) => `Your order ${p.externalRef} is delayed`,
  return_authorised: (p) => `Return ${p.rmaNumber} authorised: your label is ready`,
  return_expired: (p) => `Return ${p.rmaNumber} has expired`,
  refund_issued: (p) => `Your refund for ${p.rmaNumber} is on its way`,
  exception_escalated: (p) => `Escalated (level ${p.level}): ${p.summary}`,
  parcel_stop_requested: (p) =>
    `Stop the parcel of order ${p.externalRef} if it has not left (cancelled by the customer)`,
  ticket_reply: (p) => `Re: ${p.subject}`,
  cancel_refused: (p) =>
    `Your order ${p.externalRef} had already left when you cancelled it: send it back for a refund`,
};

export function render(template: string, payload: Record<string, unknown>): { subject: string; body: string } {
  const subject = (SUBJECTS[template] ?? (() => template))(payload);
  return { subject, body: `${subject}\n\n${JSON.stringify(payload, null, 2)}` };
}
