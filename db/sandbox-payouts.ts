/**
 * The sandbox payment provider's payouts and disputes: its side of the money after the sale, kept in our
 * database as its payment ledger is. A real provider pays out daily; the sandbox pays out when asked (the
 * settlement schedule asks, and tests and the demo can), everything approved and not yet paid out, one payout
 * per currency, less its fees. Tests can make a payout go wrong the ways real ones do (`PayoutAnomalies`).
 */
import { randomBytes } from 'node:crypto';
import type { Db, Tx } from './index';
import { inTransaction } from './index';
import type { Payout, PayoutLine, ProviderDispute } from '../contracts/settlement-types';

/** The sandbox's price list: 1.4 % + 0.25 per capture, 15.00 per chargeback; refunds are free. */
export const SANDBOX_FEES = { captureBp: 140, captureFixed: 25, dispute: 1500 };
export const captureFee = (amount: number) =>
  amount > 0 ? Math.round((amount * SANDBOX_FEES.captureBp) / 10_000) + SANDBOX_FEES.captureFixed : 0;

/** What a test or a demo can make a payout do wrong. */
export interface PayoutAnomalies {
  extraLines?: PayoutLine[]; // lines for things we never recorded (an unknown capture)
  shortBy?: number; // the net paid is less than the lines say (an undisclosed fee)
  misstate?: Record<string, number>; // the gross the report gives for these references, instead of the true one
  currency?: string; // the payout the extra lines and the shortfall go to (default EUR)
}

const newId = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`;

interface DisputeRow {
  id: string;
  capture_ref: string;
  amount: number;
  currency: string;
  reason: string;
  status: ProviderDispute['status'];
  evidence_due_at: Date;
}

const asDispute = (d: DisputeRow): ProviderDispute => ({
  disputeId: d.id,
  captureRef: d.capture_ref,
  amount: Number(d.amount),
  currency: d.currency,
  reason: d.reason,
  status: d.status,
  evidenceDueBy: d.evidence_due_at.toISOString(),
});

/**
 * Pays out everything approved and not yet paid out: captures (less the fee), refunds, dispute withdrawals
 * (with the dispute fee) and reinstatements. One payout per currency; the currency of a call is read from the
 * caller's payment record, a shortcut only a sandbox sharing our database can take. A marketplace channel's
 * orders are the marketplace's to pay out (its statements), never the provider's. Answers the payout ids.
 */
export async function cutSandboxPayouts(db: Db, anomalies: PayoutAnomalies = {}): Promise<string[]> {
  return inTransaction(db, async (tx) => {
    const calls: { key: string; operation: string; ref: string; amount: number; currency: string }[] = (
      await tx.raw(
        `SELECT l.idempotency_key AS key, l.operation, l.provider_ref AS ref, l.amount::bigint AS amount, p.currency
           FROM sandbox_payment_ledger l
           JOIN payments p ON p.provider_ref = l.provider_ref
           JOIN sales_orders o ON o.id = p.order_id
           JOIN channels c ON c.id = o.channel_id
          WHERE l.operation IN ('capture', 'refund') AND l.outcome = 'approved' AND l.paid_out_in IS NULL
            AND c.kind <> 'marketplace'
          ORDER BY l.created_at, l.idempotency_key FOR UPDATE OF l`,
      )
    ).rows;
    const withdrawn: DisputeRow[] = await tx('sandbox_disputes')
      .whereNull('withdrawn_in')
      .forUpdate()
      .orderBy('created_at');
    const reinstated: DisputeRow[] = await tx('sandbox_disputes')
      .where({ status: 'won' })
      .whereNull('reinstated_in')
      .whereNotNull('withdrawn_in')
      .forUpdate();
    const byCurrency = new Map<string, { lines: PayoutLine[]; keys: string[]; out: string[]; back: string[] }>();
    const group = (currency: string) => {
      if (!byCurrency.has(currency)) byCurrency.set(currency, { lines: [], keys: [], out: [], back: [] });
      return byCurrency.get(currency)!;
    };
    const gross = (ref: string, amount: number) => anomalies.misstate?.[ref] ?? amount;
    for (const c of calls) {
      const g = group(c.currency);
      const amount = Number(c.amount);
      g.lines.push(
        c.operation === 'capture'
          ? { kind: 'capture', ref: c.ref, amount: gross(c.ref, amount), fee: captureFee(amount) }
          : { kind: 'refund', ref: c.ref, amount: -gross(c.ref, amount), fee: 0 },
      );
      g.keys.push(c.key);
    }
    for (const d of withdrawn) {
      const g = group(d.currency);
      g.lines.push({ kind: 'dispute', ref: d.id, amount: -Number(d.amount), fee: SANDBOX_FEES.dispute });
      g.out.push(d.id);
    }
    for (const d of reinstated) {
      const g = group(d.currency);
      g.lines.push({ kind: 'dispute_reversal', ref: d.id, amount: Number(d.amount), fee: 0 });
      g.back.push(d.id);
    }
    const odd = anomalies.currency ?? 'EUR';
    if (anomalies.extraLines?.length || anomalies.shortBy) group(odd).lines.push(...(anomalies.extraLines ?? []));
    const ids: string[] = [];
    for (const [currency, g] of byCurrency) {
      const id = newId('pyt');
      const net = g.lines.reduce((s, l) => s + l.amount - l.fee, 0) - (currency === odd ? (anomalies.shortBy ?? 0) : 0);
      await tx('sandbox_payouts').insert({ id, currency, net, lines: JSON.stringify(g.lines) });
      await tx('sandbox_payment_ledger').whereIn('idempotency_key', g.keys).update({ paid_out_in: id });
      await tx('sandbox_disputes').whereIn('id', g.out).update({ withdrawn_in: id });
      await tx('sandbox_disputes').whereIn('id', g.back).update({ reinstated_in: id });
      ids.push(id);
    }
    return ids;
  });
}

/** The sandbox's daily payout: made when its newest payout is a day old (or there is none yet). */
export async function cutDailySandboxPayout(db: Db): Promise<void> {
  const newest = await db('sandbox_payouts').max({ at: 'paid_at' }).first();
  if (!newest?.at || Date.now() - new Date(newest.at).getTime() >= 86_400_000) await cutSandboxPayouts(db);
}

export async function sandboxPayoutIds(db: Db | Tx): Promise<string[]> {
  return (await db('sandbox_payouts').orderBy('seq').select('id')).map((r: { id: string }) => r.id);
}

export async function sandboxPayout(db: Db | Tx, payoutId: string): Promise<Payout | undefined> {
  const p = await db('sandbox_payouts').where({ id: payoutId }).first();
  return (
    p && { payoutId: p.id, currency: p.currency, net: Number(p.net), paidAt: p.paid_at.toISOString(), lines: p.lines }
  );
}

/** A buyer's bank disputes a capture: the sandbox opens a chargeback with an evidence deadline. */
export async function openSandboxChargeback(
  db: Db,
  c: { captureRef: string; reason: string; amount?: number; evidenceDays?: number },
): Promise<ProviderDispute> {
  const capture = await db('sandbox_payment_ledger as l')
    .join('payments as p', 'p.provider_ref', 'l.provider_ref')
    .where({ 'l.provider_ref': c.captureRef, 'l.operation': 'capture', 'l.outcome': 'approved' })
    .first('l.amount', 'p.currency');
  if (!capture) throw new Error(`The sandbox has no approved capture ${c.captureRef}`);
  const [row] = await db('sandbox_disputes')
    .insert({
      id: newId('dp'),
      capture_ref: c.captureRef,
      amount: c.amount ?? Number(capture.amount),
      currency: capture.currency,
      reason: c.reason,
      evidence_due_at: new Date(Date.now() + (c.evidenceDays ?? 7) * 86_400_000),
    })
    .returning('*');
  return asDispute(row);
}

export async function sandboxDispute(db: Db | Tx, disputeId: string): Promise<ProviderDispute | undefined> {
  const d = await db('sandbox_disputes').where({ id: disputeId }).first();
  return d && asDispute(d);
}

/**
 * The sandbox decides at once: accepting loses; evidence wins unless it contains `[sandbox:lose]` (the way
 * `tok_decline` declines). A dispute already answered answers as it stands.
 */
export async function respondToSandboxDispute(
  db: Db,
  r: { disputeId: string; evidence?: string; accept?: boolean },
): Promise<ProviderDispute> {
  return inTransaction(db, async (tx) => {
    const d: DisputeRow | undefined = await tx('sandbox_disputes').where({ id: r.disputeId }).forUpdate().first();
    if (!d) throw new Error(`The sandbox has no dispute ${r.disputeId}`);
    if (d.status !== 'needs_response') return asDispute(d);
    const status = r.accept || r.evidence?.includes('[sandbox:lose]') ? 'lost' : 'won';
    const [row] = await tx('sandbox_disputes')
      .where({ id: r.disputeId })
      .update({ status, evidence: r.evidence ?? null })
      .returning('*');
    return asDispute(row);
  });
}
