/**
 * The refund of a return. Money that left cannot be recalled, so this is never
 * a compensation step, and it runs in three idempotent phases:
 *  1. intent: under a lock on the order, the amount is capped by what was
 *     captured less every refund already promised (any return of the order),
 *     and the refund rows (one per capture drawn on), the credit note and its
 *     journal entry are written in one transaction;
 *  2. the provider is called once per row, with the row's idempotency key;
 *  3. each result is reconciled against the provider's own record, then booked.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { inTransaction, Tx } from '../../db';
import { postEntry } from '../../db/ledger';
import { queueNotification, raiseException } from '../../db/outbox';
import type { ActivityDeps } from '../deps';

async function recordIntent(tx: Tx, returnId: string, requested: number): Promise<number> {
  const r = await tx('returns as r').join('sales_orders as o', 'o.id', 'r.order_id').where('r.id', returnId).first('r.id', 'r.order_id', 'r.rma_number', 'o.currency', 'o.shipping_tax_rate_bp');
  await tx('sales_orders').where({ id: r.order_id }).forUpdate().first('id'); // serialises every refund of this order
  const existing = await tx('payments').where({ return_id: returnId, kind: 'refund' }).sum({ s: 'amount' }).first();
  if (existing?.s) return existing.s;
  const captures = await tx('payments').where({ order_id: r.order_id, kind: 'capture', status: 'succeeded' }).orderBy('created_at');
  const drawn = await tx('payments').where({ order_id: r.order_id, kind: 'refund' }).whereIn('status', ['pending', 'succeeded']).groupBy('parent_payment_id').select('parent_payment_id', tx.raw('SUM(amount)::bigint AS s'));
  const used = new Map(drawn.map((d: { parent_payment_id: string; s: number }) => [d.parent_payment_id, d.s]));
  let left = requested;
  const rows = [];
  for (const c of captures) {
    const take = Math.min(left, c.amount - (used.get(c.id) ?? 0));
    if (take <= 0) continue;
    rows.push({ id: randomUUID(), order_id: r.order_id, kind: 'refund', amount: take, currency: r.currency, status: 'pending', provider: c.provider, return_id: returnId, parent_payment_id: c.id, idempotency_key: `return:${returnId}:refund:${c.id}` });
    left -= take;
  }
  const total = requested - left;
  if (total === 0) return 0;
  await tx('payments').insert(rows);
  // The credit note: revenue and tax reversed in the proportion of the order's tax rate.
  const invoice = await tx('invoices as i').join('invoice_lines as il', 'il.invoice_id', 'i.id').join('return_lines as rl', 'rl.order_line_id', 'il.order_line_id')
    .where('rl.return_id', returnId).orderBy('i.issued_at').first('i.id');
  const rate = (await tx('sales_order_lines as l').join('return_lines as rl', 'rl.order_line_id', 'l.id').where('rl.return_id', returnId).first('l.tax_rate_bp')).tax_rate_bp;
  const net = Math.round((total * 10000) / (10000 + rate));
  const seq = (await tx.raw(`SELECT nextval('credit_note_number_seq') AS n`)).rows[0].n;
  const creditNoteId = randomUUID();
  const number = `CN-${String(seq).padStart(6, '0')}`;
  await tx('credit_notes').insert({ id: creditNoteId, number, return_id: returnId, order_id: r.order_id, invoice_id: invoice.id, currency: r.currency, net, tax: total - net, total });
  await postEntry(tx, {
    key: `credit-note:${creditNoteId}`, description: `Credit note ${number} for ${r.rma_number}`, sourceType: 'credit_note', sourceId: creditNoteId, currency: r.currency,
    lines: [{ account: '4000', debit: net }, { account: '2100', debit: total - net }, { account: '1200', credit: total }],
  });
  return total;
}

export function refundActivities({ db, payments }: ActivityDeps) {
  return {
    async refundReturn(input: { returnId: string; amount: number }): Promise<{ refunded: number; capped: boolean }> {
      const promised = await inTransaction(db, (tx) => recordIntent(tx, input.returnId, input.amount));
      if (promised === 0) return { refunded: 0, capped: input.amount > 0 };
      const rows = await db('payments as p').join('payments as c', 'c.id', 'p.parent_payment_id').where({ 'p.return_id': input.returnId, 'p.kind': 'refund' }).select('p.*', 'c.provider_ref as capture_ref');
      for (const row of rows.filter((x) => x.status === 'pending')) {
        const result = await payments.refund({ captureRef: row.capture_ref, amount: row.amount, idempotencyKey: row.idempotency_key });
        const theirs = await payments.lookup(row.idempotency_key);
        await inTransaction(db, async (tx) => {
          if (!result.approved || !theirs || theirs.amount !== row.amount || !theirs.approved) {
            await raiseException(tx, {
              key: `refund_mismatch:${row.id}`, type: 'refund_mismatch', severity: 'critical', queue: 'finance', subjectType: 'return', subjectId: input.returnId,
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
            lines: [{ account: '1200', debit: row.amount }, { account: '1100', credit: row.amount }],
          });
        });
      }
      const settled = await db('payments').where({ return_id: input.returnId, kind: 'refund' }).select('status', 'amount');
      if (settled.some((p) => p.status === 'failed')) throw ApplicationFailure.nonRetryable('The refund did not reconcile with the provider; see the refund_mismatch exception', 'RefundMismatch');
      const refunded = settled.reduce((s, p) => s + p.amount, 0);
      await inTransaction(db, async (tx) => {
        const r = await tx('returns as r').join('sales_orders as o', 'o.id', 'r.order_id').join('customers as c', 'c.id', 'o.customer_id').where('r.id', input.returnId).first('r.id', 'r.rma_number', 'c.email', 'o.currency');
        await tx('returns').where({ id: r.id }).update({ refund_amount: refunded, updated_at: tx.fn.now() });
        await queueNotification(tx, { key: `return:${r.id}:refunded`, recipient: r.email, template: 'refund_issued', subjectType: 'return', subjectId: r.id, payload: { rmaNumber: r.rma_number, amount: refunded, currency: r.currency } });
      });
      return { refunded, capped: refunded < input.amount };
    },
  };
}
