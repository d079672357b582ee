/**
 * Refunds: of a return, or of a shipment the carrier lost. Money that left
 * cannot be recalled, so a refund is never a compensation step, and it runs in
 * three idempotent phases:
 *  1. intent: under a lock on the order, the amount is capped by what was
 *     captured less every refund already promised (by any return or shipment of
 *     the order), and the credit note, its journal entry and the refund rows
 *     (one per capture drawn on) are written in one transaction;
 *  2. the provider is called once per row, with the row's idempotency key;
 *  3. each result is reconciled against the provider's own record, then booked.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { inTransaction, Tx } from '../../db';
import { ACCOUNT, postEntry } from '../../db/ledger';
import { queueNotification, raiseException } from '../../db/outbox';
import type { ActivityDeps } from '../deps';

export interface RefundScope {
  kind: 'return' | 'shipment';
  id: string;
}

const prefix = (scope: RefundScope) => `${scope.kind}:${scope.id}:refund:`;

/** The order, the invoice to credit and the tax rate of what is refunded. */
async function whatIsRefunded(tx: Tx, scope: RefundScope) {
  if (scope.kind === 'return') {
    const r = await tx('returns as r').join('sales_orders as o', 'o.id', 'r.order_id').where('r.id', scope.id).first('r.order_id', 'r.rma_number as label', 'o.currency');
    const invoice = await tx('invoices as i').join('invoice_lines as il', 'il.invoice_id', 'i.id').join('return_lines as rl', 'rl.order_line_id', 'il.order_line_id').where('rl.return_id', scope.id).orderBy('i.issued_at').first('i.id');
    const line = await tx('sales_order_lines as l').join('return_lines as rl', 'rl.order_line_id', 'l.id').where('rl.return_id', scope.id).first('l.tax_rate_bp');
    return { orderId: r.order_id as string, label: r.label as string, currency: r.currency as string, invoiceId: invoice.id as string, rate: line.tax_rate_bp as number };
  }
  const s = await tx('shipments as s').join('sales_orders as o', 'o.id', 's.order_id').where('s.id', scope.id).first('s.order_id', 'o.external_ref', 'o.currency', 'o.shipping_tax_rate_bp');
  const invoice = await tx('invoices').where({ shipment_id: scope.id }).first('id');
  if (!invoice) throw ApplicationFailure.nonRetryable(`Shipment ${scope.id} was never invoiced; there is nothing to refund`, 'NothingToRefund');
  return { orderId: s.order_id as string, label: `order ${s.external_ref}`, currency: s.currency as string, invoiceId: invoice.id as string, rate: s.shipping_tax_rate_bp as number };
}

async function recordIntent(tx: Tx, scope: RefundScope, requested: number): Promise<number> {
  const what = await whatIsRefunded(tx, scope);
  await tx('sales_orders').where({ id: what.orderId }).forUpdate().first('id'); // serialises every refund of this order
  const existing = await tx('payments').where({ kind: 'refund' }).where('idempotency_key', 'like', `${prefix(scope)}%`).sum({ s: 'amount' }).first();
  if (existing?.s) return existing.s;
  const captures = await tx('payments').where({ order_id: what.orderId, kind: 'capture', status: 'succeeded' }).orderBy('created_at');
  const drawn = await tx('payments').where({ order_id: what.orderId, kind: 'refund' }).whereIn('status', ['pending', 'succeeded']).groupBy('parent_payment_id').select('parent_payment_id', tx.raw('SUM(amount)::bigint AS s'));
  const used = new Map(drawn.map((d: { parent_payment_id: string; s: number }) => [d.parent_payment_id, d.s]));
  let left = requested;
  const takes: { capture: (typeof captures)[number]; amount: number }[] = [];
  for (const c of captures) {
    const take = Math.min(left, c.amount - (used.get(c.id) ?? 0));
    if (take <= 0) continue;
    takes.push({ capture: c, amount: take });
    left -= take;
  }
  const total = requested - left;
  if (total === 0) return 0;
  // The credit note: revenue and tax reversed in the proportion of the tax rate.
  const net = Math.round((total * 10000) / (10000 + what.rate));
  const seq = (await tx.raw(`SELECT nextval('credit_note_number_seq') AS n`)).rows[0].n;
  const creditNoteId = randomUUID();
  const number = `CN-${String(seq).padStart(6, '0')}`;
  await tx('credit_notes').insert({
    id: creditNoteId, number, order_id: what.orderId, invoice_id: what.invoiceId, currency: what.currency, net, tax: total - net, total,
    ...(scope.kind === 'return' ? { return_id: scope.id } : { shipment_id: scope.id }),
  });
  await postEntry(tx, {
    key: `credit-note:${creditNoteId}`, description: `Credit note ${number} for ${what.label}`, sourceType: 'credit_note', sourceId: creditNoteId, currency: what.currency,
    lines: [{ account: ACCOUNT.revenue, debit: net }, { account: ACCOUNT.taxPayable, debit: total - net }, { account: ACCOUNT.receivables, credit: total }],
  });
  await tx('payments').insert(takes.map((t) => ({
    id: randomUUID(), order_id: what.orderId, kind: 'refund', amount: t.amount, currency: what.currency, status: 'pending', provider: t.capture.provider,
    return_id: scope.kind === 'return' ? scope.id : null, parent_payment_id: t.capture.id, credit_note_id: creditNoteId, idempotency_key: `${prefix(scope)}${t.capture.id}`,
  })));
  return total;
}

export function refundActivities({ db, payments }: ActivityDeps) {
  async function refund(scope: RefundScope, amount: number): Promise<{ refunded: number; capped: boolean }> {
    const promised = await inTransaction(db, (tx) => recordIntent(tx, scope, amount));
    if (promised === 0) return { refunded: 0, capped: amount > 0 };
    const rows = await db('payments as p').join('payments as c', 'c.id', 'p.parent_payment_id').where('p.kind', 'refund').where('p.idempotency_key', 'like', `${prefix(scope)}%`).select('p.*', 'c.provider_ref as capture_ref');
    for (const row of rows.filter((x) => x.status === 'pending')) {
      const result = await payments.refund({ captureRef: row.capture_ref, amount: row.amount, idempotencyKey: row.idempotency_key });
      const theirs = await payments.lookup(row.idempotency_key);
      await inTransaction(db, async (tx) => {
        if (!result.approved || !theirs || theirs.amount !== row.amount || !theirs.approved) {
          await raiseException(tx, {
            key: `refund_mismatch:${row.id}`, type: 'refund_mismatch', severity: 'critical', queue: 'finance', subjectType: scope.kind, subjectId: scope.id,
            summary: `Refund ${row.idempotency_key}: we recorded ${row.amount}, the provider has ${theirs ? `${theirs.amount} (${theirs.approved ? 'approved' : 'declined'})` : 'nothing'}`,
            details: { reason: result.reason },
          });
          await tx('payments').where({ id: row.id }).update({ status: 'failed', failure_reason: result.reason ?? 'provider record differs' });
          return;
        }
        const updated = await tx('payments').where({ id: row.id, status: 'pending' }).update({ status: 'succeeded', provider_ref: result.providerRef });
        if (updated === 0) return;
        await postEntry(tx, {
          key: `refund:${row.idempotency_key}`, description: `Refund paid out (${row.idempotency_key})`, sourceType: 'payment', sourceId: row.id, currency: row.currency,
          lines: [{ account: ACCOUNT.receivables, debit: row.amount }, { account: ACCOUNT.paymentClearing, credit: row.amount }],
        });
      });
    }
    const settled = await db('payments').where('kind', 'refund').where('idempotency_key', 'like', `${prefix(scope)}%`).select('status', 'amount', 'order_id', 'currency');
    if (settled.some((p) => p.status === 'failed')) throw ApplicationFailure.nonRetryable('The refund did not reconcile with the provider; see the refund_mismatch exception', 'RefundMismatch');
    const refunded = settled.reduce((s, p) => s + p.amount, 0);
    await inTransaction(db, async (tx) => {
      const o = await tx('sales_orders as o').join('customers as c', 'c.id', 'o.customer_id').where('o.id', settled[0].order_id).first('c.email', 'o.external_ref');
      const rma = scope.kind === 'return' ? (await tx('returns').where({ id: scope.id }).first('rma_number')).rma_number : undefined;
      if (scope.kind === 'return') await tx('returns').where({ id: scope.id }).update({ refund_amount: refunded, updated_at: tx.fn.now() });
      await queueNotification(tx, {
        key: `${scope.kind}:${scope.id}:refunded`, recipient: o.email, template: 'refund_issued', subjectType: scope.kind, subjectId: scope.id,
        payload: { rmaNumber: rma ?? o.external_ref, externalRef: o.external_ref, amount: refunded, currency: settled[0].currency },
      });
    });
    return { refunded, capped: refunded < amount };
  }

  return {
    async refundReturn(input: { returnId: string; amount: number }) {
      return refund({ kind: 'return', id: input.returnId }, input.amount);
    },
    /** A shipment the carrier lost: its invoice is credited and refunded in full. */
    async refundShipment(input: { shipmentId: string }) {
      const invoice = await db('invoices').where({ shipment_id: input.shipmentId }).first('total');
      if (!invoice) return { refunded: 0, capped: false }; // it never left, so it was never charged
      return refund({ kind: 'shipment', id: input.shipmentId }, invoice.total);
    },
  };
}
