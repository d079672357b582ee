/**
 * `npm run sandbox:provider -- [flags]`: the sandbox payment provider acting now, as a real one does on its
 * own schedule, and telling the API by its signed webhook (`POST /v1/webhooks/payments`, HMAC with
 * WEBHOOK_SECRET), so payouts and chargebacks can be tried without waiting a day.
 *
 *   --payout                 pay out everything approved and not paid out yet (one payout per currency)
 *   --chargeback <order>     a buyer's bank disputes the order's capture (order id), evidence due in --days
 */
import { createHmac, randomUUID } from 'node:crypto';
import { cliFlags } from '../lib/cli';
import { loadConfig, webhookSecrets } from '../lib/config';

/** A request this script cannot carry out as given: said as it is, without guessing at the API. */
class Refused extends Error {}

async function main() {
  const flags = cliFlags('npm run sandbox:provider -- [--payout] [--chargeback <orderId>] [flags]', {
    payout: { type: 'boolean', default: false, help: 'pay out now, and send payout.paid' },
    chargeback: { type: 'string', help: 'an order id: dispute its capture, and send dispute.created' },
    reason: { type: 'string', default: 'fraudulent', help: 'the chargeback reason' },
    days: { type: 'number', default: 7, help: 'days until the evidence is due' },
    'api-url': { type: 'string', default: process.env.ERP_API_URL ?? 'http://127.0.0.1:3000', help: 'the API' },
  });
  if (!flags.payout && !flags.chargeback) {
    console.error('Nothing to do: give --payout and/or --chargeback <orderId> (--help lists the flags).');
    process.exit(2);
  }
  const c = loadConfig(process.env);
  const { createDb } = await import('../db');
  const { cutSandboxPayouts, openSandboxChargeback } = await import('../db/sandbox-payouts');
  const { providerCaptureOfOrder } = await import('../db/settlements');
  const db = createDb(c.DATABASE_URL, 2);
  const tell = async (body: Record<string, unknown>) => {
    const raw = JSON.stringify({ eventId: `evt_${randomUUID()}`, sentAt: new Date().toISOString(), ...body });
    const sig = `sha256=${createHmac('sha256', webhookSecrets(c, 'payment')[0]).update(raw).digest('hex')}`;
    const res = await fetch(`${flags['api-url']}/v1/webhooks/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': sig },
      body: raw,
    });
    const answer = await res.text();
    if (!res.ok) throw new Error(`the API answered ${res.status} to ${body.type}: ${answer}`);
    return answer;
  };
  try {
    if (flags.payout) {
      const ids = await cutSandboxPayouts(db);
      if (!ids.length)
        console.log('Nothing to pay out: no approved capture, refund or chargeback since the last payout.');
      for (const payoutId of ids) {
        await tell({ type: 'payout.paid', payoutId });
        console.log(`Paid out ${payoutId}; its settlement process is settlement-${payoutId} (GET /v1/settlements).`);
      }
    }
    if (flags.chargeback) {
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(flags.chargeback))
        throw new Refused(
          `--chargeback takes an order's id (a UUID, as GET /v1/orders shows it), not "${flags.chargeback}"`,
        );
      const captureRef = await providerCaptureOfOrder(db, flags.chargeback);
      if (!captureRef)
        throw new Refused(`Order ${flags.chargeback} has no capture yet: a chargeback needs a paid order`);
      const d = await openSandboxChargeback(db, {
        captureRef,
        reason: flags.reason,
        evidenceDays: flags.days,
      });
      await tell({ type: 'dispute.created', disputeId: d.disputeId, captureRef: d.captureRef });
      console.log(
        `Chargeback ${d.disputeId} of ${(d.amount / 100).toFixed(2)} ${d.currency}, evidence due ${d.evidenceDueBy}: a payment_dispute case is open for finance.`,
      );
    }
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(
    err instanceof Refused
      ? err.message
      : `${err.message}\nIs the API running (npm start), with the same DATABASE_URL and WEBHOOK_SECRET as this script?`,
  );
  process.exit(1);
});
