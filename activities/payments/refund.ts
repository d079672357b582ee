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
import { ACCOUNT, invoiceIdOfShipment, invoiceOfReturn, invoiceTotalOfShipment, postEntry } from '../../db/ledger';
import { raiseException } from '../../db/exceptions';
import { queueNotification } from '../../db/notifications';
import {
  capturesOf,
  markRefundFailed,
  markRefundSucceeded,
  recordRefundIntents,
  refundedPerCapture,
  refundsPromised,
  refundsSettled,
  refundsWithCapture,
} from '../../db/payments';
import {
  nextCreditNoteNumber,
  recordCreditNote,
  recordRefundAmount,
  returnForRefund,
  rmaNumberOf,
} from '../../db/returns';
import { lockOrder, orderContact, returnedLineTaxRate } from '../../db/sales';
import { shipmentForRefund } from '../../db/shipping';
import type { ActivityDeps } from '../deps';

export interface RefundScope {
  kind: 'return' | 'shipment';
  id: string;
}

const prefix = (scope: RefundScope) => `${scope.kind}:${scope.id}:refund:`;

/** The order, the invoice to credit and the tax rate of what is refunded. */
async function whatIsRefunded(tx: Tx, scope: RefundScope) {
  if (scope.kind === 'return') {
    const r = await returnForRefund(tx, scope.id);
    const invoice = await invoiceOfReturn(tx, scope.id);
    const rate = await returnedLineTaxRate(tx, scope.id);
    return {
      orderId: r.order_id as string,
      label: r.label as string,
      currency: r.currency as string,
      invoiceId: invoice.id as string,
      rate,
    };
  }
  const s = await shipmentForRefund(tx, scope.id);
  const invoice = await invoiceIdOfShipment(tx, scope.id);
  if (!invoice)
    throw ApplicationFailure.nonRetryable(
      `Shipment ${scope.id} was never invoiced; there is nothing to refund`,
      'NothingToRefund',
    );
  return {
    orderId: s.order_id as string,
    label: `order ${s.external_ref}`,
    currency: s.currency as string,
    invoiceId: invoice.id as string,
    rate: s.shipping_tax_rate_bp as number,
  };
}

async function recordIntent(tx: Tx, scope: RefundScope, requested: number): Promise<number> {
  const what = await whatIsRefunded(tx, scope);
  await lockOrder(tx, what.orderId); // serialises every refund of this order
  const existing = await refundsPromised(tx, prefix(scope));
  if (existing) return existing;
  const captures = await capturesOf(tx, what.orderId);
  const drawn = await refundedPerCapture(tx, what.orderId);
  const used = new Map<string, number>(drawn.map((d) => [d.parent_payment_id, d.s]));
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
  const number = await nextCreditNoteNumber(tx);
  const creditNoteId = randomUUID();
  await recordCreditNote(tx, {
    id: creditNoteId,
    number,
    orderId: what.orderId,
    invoiceId: what.invoiceId,
    currency: what.currency,
    net,
    tax: total - net,
    total,
    scope,
  });
  await postEntry(tx, {
    key: `credit-note:${creditNoteId}`,
    description: `Credit note ${number} for ${what.label}`,
    sourceType: 'credit_note',
    sourceId: creditNoteId,
    currency: what.currency,
    lines: [
      { account: ACCOUNT.revenue, debit: net },
      { account: ACCOUNT.taxPayable, debit: total - net },
      { account: ACCOUNT.receivables, credit: total },
    ],
  });
  await recordRefundIntents(
    tx,
    takes.map((t) => ({
      orderId: what.orderId,
      amount: t.amount,
      currency: what.currency,
      provider: t.capture.provider,
      returnId: scope.kind === 'return' ? scope.id : null,
      captureId: t.capture.id,
      creditNoteId,
      key: `${prefix(scope)}${t.capture.id}`,
    })),
  );
  return total;
}

export function refundActivities({ db, payments }: ActivityDeps) {
  async function refund(scope: RefundScope, amount: number): Promise<{ refunded: number; capped: boolean }> {
    const promised = await inTransaction(db, (tx) => recordIntent(tx, scope, amount));
    if (promised === 0) return { refunded: 0, capped: amount > 0 };
    const rows = await refundsWithCapture(db, prefix(scope));
    for (const row of rows.filter((x) => x.status === 'pending')) {
      const result = await payments.refund({
        captureRef: row.capture_ref,
        amount: row.amount,
        idempotencyKey: row.idempotency_key,
      });
      const theirs = await payments.lookup(row.idempotency_key);
      await inTransaction(db, async (tx) => {
        if (!result.approved || !theirs || theirs.amount !== row.amount || !theirs.approved) {
          await raiseException(tx, {
            key: `refund_mismatch:${row.id}`,
            type: 'refund_mismatch',
            severity: 'critical',
            queue: 'finance',
            subjectType: scope.kind,
            subjectId: scope.id,
            summary: `Refund ${row.idempotency_key}: we recorded ${row.amount}, the provider has ${theirs ? `${theirs.amount} (${theirs.approved ? 'approved' : 'declined'})` : 'nothing'}`,
            details: { reason: result.reason },
          });
          await markRefundFailed(tx, row.id, result.reason ?? 'provider record differs');
          return;
        }
        const updated = await markRefundSucceeded(tx, row.id, result.providerRef);
        if (updated === 0) return;
        await postEntry(tx, {
          key: `refund:${row.idempotency_key}`,
          description: `Refund paid out (${row.idempotency_key})`,
          sourceType: 'payment',
          sourceId: row.id,
          currency: row.currency,
          lines: [
            { account: ACCOUNT.receivables, debit: row.amount },
            { account: ACCOUNT.paymentClearing, credit: row.amount },
          ],
        });
      });
    }
    const settled = await refundsSettled(db, prefix(scope));
    if (settled.some((p) => p.status === 'failed'))
      throw ApplicationFailure.nonRetryable(
        'The refund did not reconcile with the provider; see the refund_mismatch exception',
        'RefundMismatch',
      );
    const refunded = settled.reduce((s, p) => s + p.amount, 0);
    await inTransaction(db, async (tx) => {
      const o = await orderContact(tx, settled[0].order_id);
      const rma = scope.kind === 'return' ? await rmaNumberOf(tx, scope.id) : undefined;
      if (scope.kind === 'return') await recordRefundAmount(tx, scope.id, refunded);
      await queueNotification(tx, {
        key: `${scope.kind}:${scope.id}:refunded`,
        recipient: o.email,
        template: 'refund_issued',
        subjectType: scope.kind,
        subjectId: scope.id,
        payload: {
          rmaNumber: rma ?? o.external_ref,
          externalRef: o.external_ref,
          amount: refunded,
          currency: settled[0].currency,
        },
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
      const invoice = await invoiceTotalOfShipment(db, input.shipmentId);
      if (!invoice) return { refunded: 0, capped: false }; // it never left, so it was never charged
      return refund({ kind: 'shipment', id: input.shipmentId }, invoice.total);
    },
  };
}
