/**
 * Payouts and disputes on our books (migration 037_settlements).
 *
 * Payment clearing (1100) holds what the provider owes us: captures in, refunds out, a chargeback's amount
 * out while it is disputed and back if it is won. A payout settles those movements: each line is matched to
 * the movement it pays (once), the net goes to the bank, the fees to expense, and whatever the lines do not
 * explain goes to settlement suspense (1150), one mismatch per difference, until a person decides.
 * Invariant (db/invariants.ts): clearing = the movements not yet settled; suspense = the open mismatches.
 */
import { randomUUID } from 'node:crypto';
import type { Db, Tx } from './index';
import { ACCOUNT, postEntry, type AccountCode, type JournalEntry, type JournalLine } from './ledger';
import type {
  DisputeOutcome,
  Payout,
  PayoutLine,
  ProviderDispute,
  SettlementMismatch,
} from '../contracts/settlement-types';

/** A signed amount on one account: + a debit, − a credit. */
const signed = (account: AccountCode, amount: number): JournalLine =>
  amount >= 0 ? { account, debit: amount } : { account, credit: -amount };

/** One balanced entry moving a signed amount into `to` out of `from`. */
const move = (tx: Tx, e: Omit<JournalEntry, 'lines'>, to: AccountCode, from: AccountCode, amount: number) =>
  postEntry(tx, { ...e, lines: [signed(to, amount), signed(from, -amount)] });

interface Movement {
  paymentId?: string;
  disputeId?: string;
  movement: 'capture' | 'refund' | 'withdrawal' | 'reinstatement';
  amount: number; // signed, as it leaves payment clearing
  orderId: string;
}

/** A marketplace's statements are settled under `marketplace:<channel>`; a payment provider's under its name. */
export const marketplaceSource = (channel: string) => `marketplace:${channel}`;
const channelOf = (source: string) => (source.startsWith('marketplace:') ? source.slice('marketplace:'.length) : null);

const paymentMovement = (p: { id: string; kind: string; amount: string | number; order_id: string }): Movement => ({
  paymentId: p.id,
  movement: p.kind === 'capture' ? 'capture' : 'refund',
  amount: p.kind === 'capture' ? Number(p.amount) : -Number(p.amount),
  orderId: p.order_id,
});

/** The movements of ours a payout line pays, when we have them and they are not settled yet (none: unknown). */
async function movementsOf(tx: Tx, source: string, line: PayoutLine): Promise<Movement[]> {
  const unsettledPayments = () =>
    tx('payments as p')
      .where('p.status', 'succeeded')
      .whereNotExists((q) => q.from('settlement_matches as m').whereRaw('m.payment_id = p.id'))
      .select('p.id', 'p.kind', 'p.amount', 'p.order_id');
  if (line.kind === 'capture' || line.kind === 'refund') {
    const rows = await unsettledPayments().where({
      'p.provider': source,
      'p.provider_ref': line.ref,
      'p.kind': line.kind,
    });
    return rows.slice(0, 1).map(paymentMovement);
  }
  if (line.kind === 'order') {
    // A marketplace collected the order: it settles every capture and refund of it not settled yet.
    const channel = channelOf(source);
    if (!channel) return [];
    const rows = await unsettledPayments()
      .join('sales_orders as o', 'o.id', 'p.order_id')
      .join('channels as c', 'c.id', 'o.channel_id')
      .where({ 'c.code': channel, 'o.external_ref': line.ref })
      .whereIn('p.kind', ['capture', 'refund'])
      .orderBy('p.created_at');
    return rows.map(paymentMovement);
  }
  if (line.kind === 'dispute' || line.kind === 'dispute_reversal') {
    const movement = line.kind === 'dispute' ? 'withdrawal' : 'reinstatement';
    const d = await tx('disputes as d')
      .where({ 'd.provider': source, 'd.provider_dispute_id': line.ref })
      .modify((q) => (movement === 'reinstatement' ? q.where('d.status', 'won') : q))
      .whereNotExists((q) =>
        q.from('settlement_matches as m').whereRaw('m.dispute_id = d.id').where('m.movement', movement),
      )
      .first('d.id', 'd.amount', 'd.order_id');
    if (!d) return [];
    const amount = Number(d.amount);
    return [{ disputeId: d.id, movement, amount: movement === 'withdrawal' ? -amount : amount, orderId: d.order_id }];
  }
  return []; // an adjustment is the provider's own: always a person's decision
}

/** Marks the movements settled by the line; answers what they took out of clearing in all. */
async function settle(tx: Tx, lineId: number, ms: Movement[]): Promise<number> {
  for (const m of ms)
    await tx('settlement_matches').insert({
      line_id: lineId,
      payment_id: m.paymentId ?? null,
      dispute_id: m.disputeId ?? null,
      movement: m.movement,
      amount: m.amount,
    });
  await tx('settlement_lines').where({ id: lineId }).update({ order_id: ms[0].orderId });
  return ms.reduce((sum, m) => sum + m.amount, 0);
}

export interface ImportedSettlement {
  settlementId: string;
  imported: boolean; // false: this payout was imported before; nothing was done again
  net: number;
  fees: number;
  matched: number;
  lines: number;
  mismatches: SettlementMismatch[];
}

/**
 * Imports one payout (or marketplace statement), once: its lines, what each settles, its mismatches and one
 * balanced entry (bank net + fees + commission + suspense = clearing matched). A second import of the same payout changes nothing.
 */
export async function importPayout(
  tx: Tx,
  provider: string,
  p: Payout,
  workflowId: string,
): Promise<ImportedSettlement> {
  const settlementId = randomUUID();
  const fees = p.lines.reduce((s, l) => s + l.fee, 0);
  const commission = p.lines.reduce((s, l) => s + (l.commission ?? 0), 0);
  const inserted = await tx('settlements')
    .insert({
      id: settlementId,
      source: provider,
      external_id: p.payoutId,
      currency: p.currency,
      net: p.net,
      fees,
      commission,
      matched: 0,
      suspense: 0,
      workflow_id: workflowId,
      paid_at: p.paidAt,
    })
    .onConflict(['source', 'external_id'])
    .ignore()
    .returning('id');
  if (inserted.length === 0) {
    // Imported before (a retry after the commit, or the same payout announced twice): its open differences are
    // answered again, so the process that lost the first answer still opens their cases.
    const s = await tx('settlements').where({ source: provider, external_id: p.payoutId }).first();
    const open: { id: string; kind: SettlementMismatch['kind']; amount: string | number; ref: string | null }[] =
      await tx('settlement_mismatches as x')
        .leftJoin('settlement_lines as l', 'l.id', 'x.line_id')
        .where({ 'x.settlement_id': s.id, 'x.status': 'open' })
        .orderBy('l.line_no')
        .select('x.id', 'x.kind', 'x.amount', 'l.ref');
    return {
      settlementId: s.id,
      imported: false,
      net: Number(s.net),
      fees: Number(s.fees),
      matched: Number(s.matched),
      lines: p.lines.length,
      mismatches: open.map((x) => ({ mismatchId: x.id, kind: x.kind, amount: Number(x.amount), ref: x.ref ?? null })),
    };
  }
  let matched = 0;
  const mismatches: SettlementMismatch[] = [];
  const mismatch = async (m: Omit<SettlementMismatch, 'mismatchId'>, lineId: number | null) => {
    if (m.amount === 0) return;
    const mismatchId = randomUUID();
    await tx('settlement_mismatches').insert({
      id: mismatchId,
      settlement_id: settlementId,
      line_id: lineId,
      kind: m.kind,
      amount: m.amount,
    });
    mismatches.push({ mismatchId, ...m });
  };
  for (const [i, line] of p.lines.entries()) {
    const [{ id: lineId }] = await tx('settlement_lines')
      .insert({
        settlement_id: settlementId,
        line_no: i + 1,
        kind: line.kind,
        ref: line.ref,
        amount: line.amount,
        fee: line.fee,
        commission: line.commission ?? 0,
      })
      .returning('id');
    const ms = await movementsOf(tx, provider, line);
    if (ms.length === 0) {
      await mismatch({ kind: 'unknown_reference', amount: -line.amount, ref: line.ref }, lineId);
      continue;
    }
    const settled = await settle(tx, lineId, ms);
    matched += settled;
    await mismatch({ kind: 'amount_differs', amount: settled - line.amount, ref: line.ref }, lineId);
  }
  const stated = p.lines.reduce((s, l) => s + l.amount - l.fee - (l.commission ?? 0), 0);
  await mismatch({ kind: 'net_differs', amount: stated - p.net, ref: null }, null);
  const suspense = mismatches.reduce((s, m) => s + m.amount, 0);
  const entryId = await postEntry(tx, {
    key: `settlement:${provider}:${p.payoutId}`,
    description: `Payout ${p.payoutId} from ${provider}`,
    sourceType: 'settlement',
    sourceId: settlementId,
    currency: p.currency,
    lines: [
      signed(ACCOUNT.bank, p.net),
      signed(ACCOUNT.paymentFees, fees),
      signed(ACCOUNT.marketplaceCommission, commission),
      signed(ACCOUNT.settlementSuspense, suspense),
      signed(ACCOUNT.paymentClearing, -matched),
    ],
  });
  await tx('settlements').where({ id: settlementId }).update({ matched, suspense, entry_id: entryId });
  return { settlementId, imported: true, net: p.net, fees, matched, lines: p.lines.length, mismatches };
}

/** Which of these payouts were imported already. */
export async function importedPayouts(db: Db | Tx, provider: string, payoutIds: string[]): Promise<Set<string>> {
  const rows = await db('settlements')
    .where({ source: provider })
    .whereIn('external_id', payoutIds)
    .select('external_id');
  return new Set(rows.map((r: { external_id: string }) => r.external_id));
}

async function lockMismatch(tx: Tx, mismatchId: string) {
  return tx('settlement_mismatches as x')
    .join('settlements as s', 's.id', 'x.settlement_id')
    .leftJoin('settlement_lines as l', 'l.id', 'x.line_id')
    .where('x.id', mismatchId)
    .forUpdate('x')
    .first('x.*', 's.source', 's.currency', 's.external_id', 'l.kind as line_kind', 'l.ref', 'l.amount as line_amount');
}

/**
 * A person's decision on a difference: accepted as the provider's fee, or written off. Books it out of
 * suspense once; a decision on a mismatch already settled answers its status and books nothing.
 */
export async function decideMismatch(
  tx: Tx,
  mismatchId: string,
  action: 'accept' | 'write_off',
  by: string | undefined,
): Promise<{ status: string }> {
  const x = await lockMismatch(tx, mismatchId);
  if (!x) throw new Error(`Settlement mismatch ${mismatchId} not found`);
  if (x.status !== 'open') return { status: x.status };
  const amount = Number(x.amount);
  const status = action === 'accept' ? 'accepted' : 'written_off';
  const entryId = await move(
    tx,
    {
      key: `settlement_mismatch:${mismatchId}`,
      description: `Payout ${x.external_id}: ${x.kind.replace(/_/g, ' ')}${x.ref ? ` (${x.ref})` : ''} ${status.replace('_', ' ')}`,
      sourceType: 'settlement',
      sourceId: x.settlement_id,
      currency: x.currency,
    },
    action === 'accept' ? ACCOUNT.paymentFees : ACCOUNT.settlementWriteOffs,
    ACCOUNT.settlementSuspense,
    amount,
  );
  await tx('settlement_mismatches')
    .where({ id: mismatchId })
    .update({ status, decided_by: by ?? null, entry_id: entryId, decided_at: tx.fn.now() });
  return { status };
}

export type Rematched = { open: boolean } & Pick<SettlementMismatch, 'kind' | 'amount'>;

/**
 * Matches an unknown line again (the capture or dispute may be recorded by now). What it now settles leaves
 * suspense for clearing; what still differs stays open as a difference of amount.
 */
export async function rematchMismatch(tx: Tx, mismatchId: string): Promise<Rematched> {
  const x = await lockMismatch(tx, mismatchId);
  if (!x) throw new Error(`Settlement mismatch ${mismatchId} not found`);
  const standing: Rematched = { open: x.status === 'open', kind: x.kind, amount: Number(x.amount) };
  if (x.status !== 'open' || x.kind !== 'unknown_reference') return standing;
  const line: PayoutLine = { kind: x.line_kind, ref: x.ref, amount: Number(x.line_amount), fee: 0 };
  const ms = await movementsOf(tx, x.source, line);
  if (ms.length === 0) return standing;
  const m = { amount: await settle(tx, x.line_id, ms) };
  await move(
    tx,
    {
      key: `settlement_rematch:${mismatchId}`,
      description: `Payout ${x.external_id}: ${x.ref} matched later`,
      sourceType: 'settlement',
      sourceId: x.settlement_id,
      currency: x.currency,
    },
    ACCOUNT.settlementSuspense,
    ACCOUNT.paymentClearing,
    m.amount,
  );
  const left = Number(x.amount) + m.amount; // − the line's amount + what we now know it settled
  await tx('settlement_mismatches')
    .where({ id: mismatchId })
    .update(left === 0 ? { status: 'matched', decided_at: tx.fn.now() } : { kind: 'amount_differs', amount: left });
  return { open: left !== 0, kind: 'amount_differs', amount: left };
}

// ---------------------------------------------------------------------------
// Disputes.

/**
 * Our capture behind a provider reference, if it is ours. The API checks a chargeback without knowing which
 * provider is behind its webhook (no `provider`); a reference names one capture per provider.
 */
export async function captureByRef(db: Db | Tx, captureRef: string, provider?: string) {
  return db('payments')
    .where({ provider_ref: captureRef, kind: 'capture', status: 'succeeded' })
    .modify((q) => (provider ? q.where({ provider }) : q))
    .first('id', 'order_id', 'amount', 'currency');
}

/** An order's first capture that went through the provider (what a buyer's bank can dispute). */
export async function providerCaptureOfOrder(db: Db | Tx, orderId: string): Promise<string | undefined> {
  const p = await db('payments')
    .where({ order_id: orderId, kind: 'capture', status: 'succeeded' })
    .whereNot('provider_ref', 'none')
    .orderBy('created_at')
    .first('provider_ref');
  return p?.provider_ref;
}

export async function disputeByProviderId(db: Db | Tx, providerDisputeId: string): Promise<boolean> {
  return !!(await db('disputes').where({ provider_dispute_id: providerDisputeId }).first('id'));
}

export interface DisputeRecord {
  disputeId: string;
  orderId: string;
  amount: number;
  currency: string;
  reason: string;
  status: ProviderDispute['status'];
  evidenceDueBy: string;
}

interface DisputeRow {
  id: string;
  provider_dispute_id: string;
  order_id: string;
  amount: string | number; // bigint comes back as text
  currency: string;
  reason: string;
  status: ProviderDispute['status'];
  evidence_due_at: Date;
  opened_at: Date;
  closed_at: Date | null;
}

const asRecord = (d: DisputeRow): DisputeRecord => ({
  disputeId: d.id,
  orderId: d.order_id,
  amount: Number(d.amount),
  currency: d.currency,
  reason: d.reason,
  status: d.status,
  evidenceDueBy: new Date(d.evidence_due_at).toISOString(),
});

/**
 * Records a chargeback once and books its withdrawal (clearing → disputed payments): the provider has taken
 * the amount back until the dispute is decided.
 */
export async function recordDispute(
  tx: Tx,
  provider: string,
  d: ProviderDispute,
  workflowId: string,
): Promise<DisputeRecord> {
  const capture = await captureByRef(tx, d.captureRef, provider);
  if (!capture) throw new Error(`Dispute ${d.disputeId}: no capture ${d.captureRef} of ours`);
  const inserted = await tx('disputes')
    .insert({
      id: randomUUID(),
      provider,
      provider_dispute_id: d.disputeId,
      order_id: capture.order_id,
      payment_id: capture.id,
      amount: d.amount,
      currency: d.currency,
      reason: d.reason,
      evidence_due_at: d.evidenceDueBy,
      workflow_id: workflowId,
    })
    .onConflict(['provider', 'provider_dispute_id'])
    .ignore()
    .returning('*');
  if (inserted.length === 0)
    return asRecord(await tx('disputes').where({ provider, provider_dispute_id: d.disputeId }).first());
  const row = inserted[0];
  await move(
    tx,
    {
      key: `dispute:${row.id}:withdrawn`,
      description: `Chargeback ${d.disputeId} (${d.reason}): amount withdrawn by ${provider}`,
      sourceType: 'dispute',
      sourceId: row.id,
      currency: d.currency,
    },
    ACCOUNT.disputedPayments,
    ACCOUNT.paymentClearing,
    d.amount,
  );
  return asRecord(row);
}

export async function noteDisputeEvidence(tx: Tx, disputeId: string, evidence: string, by?: string): Promise<void> {
  await tx('disputes')
    .where({ id: disputeId, status: 'needs_response' })
    .update({ evidence, status: 'under_review', decided_by: by ?? null });
}

/** The dispute's outcome, booked once: won gives the amount back to clearing, lost books the chargeback loss. */
export async function closeDispute(
  tx: Tx,
  disputeId: string,
  outcome: DisputeOutcome,
  by?: string,
): Promise<{ status: string }> {
  const d = await tx('disputes').where({ id: disputeId }).forUpdate().first();
  if (!d) throw new Error(`Dispute ${disputeId} not found`);
  if (d.status === 'won' || d.status === 'lost') return { status: d.status };
  const amount = Number(d.amount);
  await move(
    tx,
    {
      key: `dispute:${disputeId}:${outcome}`,
      description: `Chargeback ${d.provider_dispute_id} ${outcome}`,
      sourceType: 'dispute',
      sourceId: disputeId,
      currency: d.currency,
    },
    outcome === 'won' ? ACCOUNT.paymentClearing : ACCOUNT.chargebackLosses,
    ACCOUNT.disputedPayments,
    amount,
  );
  await tx('disputes')
    .where({ id: disputeId })
    .update({ status: outcome, closed_at: tx.fn.now(), decided_by: d.decided_by ?? by ?? null });
  return { status: outcome };
}

/** The disputes of an order, for its view. */
export async function disputesOfOrder(db: Db | Tx, orderId: string) {
  const rows = await db('disputes').where({ order_id: orderId }).orderBy('opened_at');
  return rows.map((d: DisputeRow) => ({
    ...asRecord(d),
    providerDisputeId: d.provider_dispute_id as string,
    openedAt: new Date(d.opened_at).toISOString(),
    closedAt: d.closed_at ? new Date(d.closed_at).toISOString() : null,
  }));
}

type Minor = string | number; // bigint columns come back as text

interface SettlementRow {
  id: string;
  source: string;
  external_id: string;
  currency: string;
  net: Minor;
  fees: Minor;
  commission: Minor;
  matched: Minor;
  suspense: Minor;
  paid_at: Date;
  workflow_id: string;
  open_mismatches: number;
}

/** Payouts as imported, newest first, with their open differences. */
export async function listSettlements(db: Db, f: { limit: number; id?: string }) {
  const rows = await db('settlements as s')
    .modify((q) => (f.id ? q.where('s.id', f.id) : q))
    .orderBy('s.imported_at', 'desc')
    .limit(f.limit)
    .select(
      's.id',
      's.source',
      's.external_id',
      's.currency',
      's.net',
      's.fees',
      's.commission',
      's.matched',
      's.suspense',
      's.paid_at',
      's.workflow_id',
      db.raw(
        `(SELECT COUNT(*)::int FROM settlement_mismatches x WHERE x.settlement_id = s.id AND x.status = 'open') AS open_mismatches`,
      ),
    );
  return rows.map((s: SettlementRow) => ({
    settlementId: s.id,
    provider: s.source,
    payoutId: s.external_id,
    currency: s.currency,
    net: Number(s.net),
    fees: Number(s.fees),
    commission: Number(s.commission),
    matched: Number(s.matched),
    suspense: Number(s.suspense),
    openMismatches: s.open_mismatches,
    paidAt: new Date(s.paid_at).toISOString(),
    workflowId: s.workflow_id,
  }));
}

export async function settlementDetail(db: Db, settlementId: string) {
  const [s] = await listSettlements(db, { limit: 1, id: settlementId });
  if (!s) return undefined;
  const lines: {
    id: string;
    line_no: number;
    kind: string;
    ref: string;
    amount: Minor;
    fee: Minor;
    commission: Minor;
    order_id: string | null;
  }[] = await db('settlement_lines').where({ settlement_id: settlementId }).orderBy('line_no');
  const mismatches: { id: string; line_id: string | null; kind: string; amount: Minor; status: string }[] = await db(
    'settlement_mismatches',
  )
    .where({ settlement_id: settlementId })
    .orderBy('id');
  return {
    ...s,
    lines: lines.map((l) => ({
      lineNo: l.line_no,
      kind: l.kind,
      ref: l.ref,
      amount: Number(l.amount),
      fee: Number(l.fee),
      commission: Number(l.commission),
      orderId: l.order_id ?? null,
    })),
    mismatches: mismatches.map((x) => ({
      mismatchId: x.id,
      kind: x.kind,
      amount: Number(x.amount),
      status: x.status,
      lineNo: lines.find((l) => l.id === x.line_id)?.line_no ?? null,
    })),
  };
}
