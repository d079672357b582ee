/**
 * Requesting a return and reading it back. Eligibility is checked under a lock
 * on the order, so two requests at once cannot both return the same units:
 * each line must have shipped, the quantity may not exceed what shipped less
 * what other returns already claim, and the request must fall within the
 * channel's return window, counted from delivery (or dispatch when no delivery was reported).
 */
import { randomUUID } from 'node:crypto';
import { inTransaction, Db, Tx } from './index';
import type { Condition, Disposition, ReceiptLine, ReturnStatus } from '../contracts/return-types';

export class ReturnRejected extends Error {
  constructor(
    message: string,
    public details: unknown[] = [],
  ) {
    super(message);
  }
}

export interface NewReturn {
  orderId: string;
  lines: { sku: string; quantity: number; reason: string }[];
  resolution: 'refund' | 'replacement';
  note?: string;
}

import { returnWorkflowId } from '../contracts/workflow-ids';

export { returnWorkflowId };

export async function requestReturn(
  db: Db,
  r: NewReturn,
  now = new Date(),
  requestKey?: string,
): Promise<{ returnId: string; workflowId: string }> {
  return inTransaction(db, async (tx) => {
    if (requestKey) {
      await tx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [requestKey]); // two copies of one request queue here
      const existing = await tx('returns').where({ request_key: requestKey }).first('id', 'workflow_id');
      if (existing) return { returnId: existing.id as string, workflowId: existing.workflow_id as string };
    }
    const order = await tx('sales_orders as o')
      .join('channels as c', 'c.id', 'o.channel_id')
      .where('o.id', r.orderId)
      .forUpdate('o')
      .first('o.id', 'c.return_window_days');
    if (!order) throw new ReturnRejected(`Order ${r.orderId} not found`);
    const lines = await tx('sales_order_lines as l')
      .join('products as p', 'p.id', 'l.product_id')
      .where('l.order_id', r.orderId)
      .select('l.id', 'l.product_id', 'p.sku', 'l.quantity_shipped');
    const claimed = await tx('return_lines as rl')
      .join('returns as r', 'r.id', 'rl.return_id')
      .where('r.order_id', r.orderId)
      .groupBy('rl.order_line_id')
      .select(
        'rl.order_line_id',
        tx.raw(`SUM(CASE WHEN r.status = 'expired' THEN rl.quantity_received ELSE rl.quantity END)::int AS qty`),
      );
    const claimedBy = new Map(claimed.map((c: { order_line_id: number; qty: number }) => [c.order_line_id, c.qty]));
    const problems: { path: string; message: string }[] = [];
    const picked: { line: (typeof lines)[number]; quantity: number; reason: string }[] = [];
    const seen = new Set<string>();
    r.lines.forEach((req, i) => {
      const line = lines.find((l) => l.sku === req.sku);
      if (seen.has(req.sku)) return problems.push({ path: `lines.${i}.sku`, message: `${req.sku} appears twice` });
      seen.add(req.sku);
      if (!line) return problems.push({ path: `lines.${i}.sku`, message: `${req.sku} is not on this order` });
      const returnable = line.quantity_shipped - (claimedBy.get(line.id) ?? 0);
      if (req.quantity > returnable)
        return problems.push({
          path: `lines.${i}.quantity`,
          message: `only ${Math.max(0, returnable)} of ${req.sku} can be returned (shipped ${line.quantity_shipped}, already returned or requested ${claimedBy.get(line.id) ?? 0})`,
        });
      picked.push({ line, quantity: req.quantity, reason: req.reason });
    });
    if (problems.length) throw new ReturnRejected('The return is not possible as requested', problems);

    const delivered = await tx('shipments as s')
      .join('shipment_lines as sl', 'sl.shipment_id', 's.id')
      .whereIn(
        'sl.order_line_id',
        picked.map((p) => p.line.id),
      )
      .whereIn('s.status', ['shipped', 'delivered'])
      .max({ at: tx.raw('COALESCE(s.delivered_at, s.shipped_at)') })
      .first();
    const windowEnds = new Date(new Date(delivered!.at).getTime() + order.return_window_days * 86400000);
    if (now > windowEnds) {
      throw new ReturnRejected(
        `The return window of ${order.return_window_days} days closed on ${windowEnds.toISOString().slice(0, 10)}`,
        [{ path: 'orderId', message: 'outside the return window' }],
      );
    }
    const returnId = randomUUID();
    const workflowId = returnWorkflowId(returnId);
    await tx('returns').insert({
      id: returnId,
      order_id: r.orderId,
      workflow_id: workflowId,
      resolution: r.resolution,
      note: r.note,
      request_key: requestKey ?? null,
    });
    await tx('return_lines').insert(
      picked.map((p) => ({
        return_id: returnId,
        order_line_id: p.line.id,
        product_id: p.line.product_id,
        quantity: p.quantity,
        reason: p.reason,
      })),
    );
    return { returnId, workflowId };
  });
}

export async function returnView(db: Db, returnId: string) {
  const r = await db('returns').where({ id: returnId }).first();
  if (!r) return undefined;
  const [lines, inspections, creditNote, refunds, approvals] = await Promise.all([
    db('return_lines as rl')
      .join('products as p', 'p.id', 'rl.product_id')
      .where('rl.return_id', returnId)
      .orderBy('rl.id')
      .select('p.sku', 'rl.quantity', 'rl.reason', 'rl.quantity_received', 'rl.quantity_inspected'),
    db('return_inspections as i')
      .join('return_lines as rl', 'rl.id', 'i.return_line_id')
      .join('products as p', 'p.id', 'rl.product_id')
      .where('rl.return_id', returnId)
      .orderBy('i.inspected_at')
      .select('p.sku', 'i.quantity', 'i.condition', 'i.disposition'),
    db('credit_notes').where({ return_id: returnId }).first('id', 'number', 'net', 'tax', 'total', 'issued_at'),
    db('payments')
      .where({ return_id: returnId, kind: 'refund' })
      .select('amount', 'status', 'provider_ref', 'created_at'),
    db('approvals')
      .where({ subject_type: 'return', subject_id: returnId })
      .orderBy('requested_at')
      .select(
        'id',
        'status',
        'amount',
        'reason',
        'priority',
        'sla_due_at',
        'escalated_at',
        'decision',
        'decided_amount',
        'decided_by',
      ),
  ]);
  return {
    returnId: r.id as string,
    rmaNumber: r.rma_number ?? undefined,
    orderId: r.order_id as string,
    workflowId: r.workflow_id as string,
    status: r.status as string,
    resolution: r.resolution as string,
    note: r.note ?? undefined,
    outcomeReason: r.outcome_reason ?? undefined,
    label: r.label_tracking ? { carrier: r.label_carrier, trackingNumber: r.label_tracking } : undefined,
    refundAmount: r.refund_amount ?? undefined,
    replacementOrderId: r.replacement_order_id ?? undefined,
    requestedAt: r.requested_at,
    lines: lines.map((l) => ({
      sku: l.sku,
      quantity: l.quantity,
      reason: l.reason,
      quantityReceived: l.quantity_received,
      quantityInspected: l.quantity_inspected,
    })),
    inspections,
    creditNote: creditNote
      ? {
          creditNoteId: creditNote.id,
          number: creditNote.number,
          net: creditNote.net,
          tax: creditNote.tax,
          total: creditNote.total,
          issuedAt: creditNote.issued_at,
        }
      : undefined,
    refunds: refunds.map((p) => ({
      amount: p.amount,
      status: p.status,
      providerRef: p.provider_ref ?? undefined,
      at: p.created_at,
    })),
    approvals: approvals.map((a) => ({
      approvalId: a.id,
      status: a.status,
      amount: a.amount,
      reason: a.reason,
      priority: a.priority,
      slaDueAt: a.sla_due_at,
      escalatedAt: a.escalated_at ?? undefined,
      decision: a.decision ?? undefined,
      decidedAmount: a.decided_amount ?? undefined,
      decidedBy: a.decided_by ?? undefined,
    })),
  };
}

/** The returns of these orders, oldest first. */
export async function returnsOfOrders(db: Db, orderIds: string[]) {
  return db('returns')
    .whereIn('order_id', orderIds)
    .orderBy('requested_at')
    .select('id', 'order_id', 'rma_number', 'status', 'resolution', 'refund_amount', 'requested_at');
}

/** The credit notes of these orders, oldest first. */
export async function creditNotesOfOrders(db: Db, orderIds: string[]) {
  return db('credit_notes')
    .whereIn('order_id', orderIds)
    .orderBy('issued_at')
    .select('id', 'number', 'order_id', 'return_id', 'shipment_id', 'total', 'issued_at');
}

// ---------------------------------------------------------------------------
// The return in its process.

/** The return with its order's currency, channel and reference and the customer, locked FOR UPDATE. */
export async function lockReturnForUpdate(tx: Tx, returnId: string) {
  return tx('returns as r')
    .join('sales_orders as o', 'o.id', 'r.order_id')
    .join('customers as c', 'c.id', 'o.customer_id')
    .where('r.id', returnId)
    .forUpdate('r')
    .first(
      'r.*',
      'o.currency',
      'o.channel_id',
      'o.external_ref',
      'c.email',
      'c.name as customer_name',
      'o.shipping_address',
    );
}

/** The return's id, process and status, as the API finds it. */
export async function returnRef(
  db: Db | Tx,
  returnId: string,
): Promise<{ id: string; workflow_id: string; status: string } | undefined> {
  return db('returns').where({ id: returnId }).first('id', 'workflow_id', 'status');
}

/** The return's lines with SKU, category, and the order line's price, tax and quantity ordered. */
export async function returnLines(tx: Db | Tx, returnId: string) {
  return tx('return_lines as rl')
    .join('products as p', 'p.id', 'rl.product_id')
    .join('sales_order_lines as l', 'l.id', 'rl.order_line_id')
    .where('rl.return_id', returnId)
    .orderBy('rl.id')
    .select('rl.*', 'p.sku', 'p.category', 'l.unit_price', 'l.tax', 'l.quantity as ordered');
}

/** The quality rules for this condition that apply to the SKU, its category, or everything. */
export async function qualityRulesFor(
  tx: Db | Tx,
  sku: string,
  category: string | null,
  condition: Condition,
): Promise<{ sku: string | null; category: string | null; disposition: Disposition }[]> {
  return tx('quality_rules')
    .where({ condition })
    .andWhere((q) =>
      q
        .where('sku', sku)
        .orWhere('category', category ?? '')
        .orWhere((d) => d.whereNull('sku').whereNull('category')),
    );
}

/** The return's status with the reason of its outcome. */
export async function recordReturnOutcome(
  tx: Tx,
  returnId: string,
  status: ReturnStatus,
  reason: string | null,
): Promise<void> {
  await tx('returns').where({ id: returnId }).update({ status, outcome_reason: reason, updated_at: tx.fn.now() });
}

export async function updateReturnStatus(tx: Tx, returnId: string, status: ReturnStatus): Promise<void> {
  await tx('returns').where({ id: returnId }).update({ status, updated_at: tx.fn.now() });
}

/** The next RMA number (RMA-000123). */
export async function nextRmaNumber(tx: Tx): Promise<string> {
  const seq = (await tx.raw(`SELECT nextval('rma_number_seq') AS n`)).rows[0].n;
  return `RMA-${String(seq).padStart(6, '0')}`;
}

/** The RMA number and the return label: the return is authorised. */
export async function recordReturnAuthorisation(
  tx: Tx,
  returnId: string,
  rmaNumber: string,
  label: { carrier: string; trackingNumber: string },
): Promise<void> {
  await tx('returns').where({ id: returnId }).update({
    rma_number: rmaNumber,
    label_carrier: label.carrier,
    label_tracking: label.trackingNumber,
    status: 'authorised',
    updated_at: tx.fn.now(),
  });
}

/** True when the receipt was already recorded. */
export async function returnReceiptExists(tx: Db | Tx, receiptId: string): Promise<boolean> {
  return !!(await tx('return_receipts').where({ id: receiptId }).first('id'));
}

export async function recordReturnReceipt(
  tx: Tx,
  r: { receiptId: string; returnId: string; warehouseId: number | undefined; lines: ReceiptLine[] },
): Promise<void> {
  await tx('return_receipts').insert({
    id: r.receiptId,
    return_id: r.returnId,
    warehouse_id: r.warehouseId,
    lines: JSON.stringify(r.lines),
  });
}

export async function addReceivedUnits(tx: Tx, returnLineId: number, units: number): Promise<void> {
  await tx('return_lines').where({ id: returnLineId }).increment('quantity_received', units);
}

export async function addInspectedUnits(tx: Tx, returnLineId: number, units: number): Promise<void> {
  await tx('return_lines').where({ id: returnLineId }).increment('quantity_inspected', units);
}

/** The inspections with these ids, in the order they were made. */
export async function inspectionsByIds(tx: Db | Tx, ids: string[]) {
  return tx('return_inspections').whereIn('id', ids).orderBy('inspected_at');
}

export async function recordInspection(
  tx: Tx,
  i: { id: string; returnLineId: number; quantity: number; condition: Condition; disposition: Disposition },
): Promise<void> {
  await tx('return_inspections').insert({
    id: i.id,
    return_line_id: i.returnLineId,
    quantity: i.quantity,
    condition: i.condition,
    disposition: i.disposition,
  });
}

/** Every condition the return's units were graded in. */
export async function inspectedConditions(db: Db | Tx, returnId: string): Promise<string[]> {
  return db('return_inspections as i')
    .join('return_lines as rl', 'rl.id', 'i.return_line_id')
    .where('rl.return_id', returnId)
    .distinct('i.condition')
    .pluck('i.condition');
}

/** The currency of the return's order. */
export async function returnCurrency(db: Db | Tx, returnId: string): Promise<string> {
  return (
    await db('returns as r').join('sales_orders as o', 'o.id', 'r.order_id').where('r.id', returnId).first('o.currency')
  ).currency;
}

/** What a replacement order copies: the channel, the order's reference and address, and the customer. */
export async function returnForReplacement(db: Db | Tx, returnId: string) {
  return db('returns as r')
    .join('sales_orders as o', 'o.id', 'r.order_id')
    .join('channels as ch', 'ch.id', 'o.channel_id')
    .join('customers as c', 'c.id', 'o.customer_id')
    .where('r.id', returnId)
    .first(
      'r.id',
      'r.rma_number',
      'ch.code as channel',
      'o.external_ref',
      'o.shipping_address',
      'c.email',
      'c.name',
      'c.id as customer_id',
    );
}

export async function recordReplacementOrder(db: Db, returnId: string, orderId: string): Promise<void> {
  await db('returns')
    .where({ id: returnId })
    .update({ replacement_order_id: orderId, status: 'replacement_ordered', updated_at: db.fn.now() });
}

// ---------------------------------------------------------------------------
// Refunds and credit notes.

/** The return's order, its RMA number as the label, and the currency. */
export async function returnForRefund(tx: Db | Tx, returnId: string) {
  return tx('returns as r')
    .join('sales_orders as o', 'o.id', 'r.order_id')
    .where('r.id', returnId)
    .first('r.order_id', 'r.rma_number as label', 'o.currency');
}

export async function rmaNumberOf(tx: Db | Tx, returnId: string): Promise<string | null> {
  return (await tx('returns').where({ id: returnId }).first('rma_number')).rma_number;
}

/** What was refunded on the return. */
export async function recordRefundAmount(tx: Tx, returnId: string, amount: number): Promise<void> {
  await tx('returns').where({ id: returnId }).update({ refund_amount: amount, updated_at: tx.fn.now() });
}

/** The next credit note number (CN-000123). */
export async function nextCreditNoteNumber(tx: Tx): Promise<string> {
  const seq = (await tx.raw(`SELECT nextval('credit_note_number_seq') AS n`)).rows[0].n;
  return `CN-${String(seq).padStart(6, '0')}`;
}

/** Writes a credit note of a return or of a shipment. */
export async function recordCreditNote(
  tx: Tx,
  c: {
    id: string;
    number: string;
    orderId: string;
    invoiceId: string;
    currency: string;
    net: number;
    tax: number;
    total: number;
    scope: { kind: 'return' | 'shipment'; id: string };
  },
): Promise<void> {
  await tx('credit_notes').insert({
    id: c.id,
    number: c.number,
    order_id: c.orderId,
    invoice_id: c.invoiceId,
    currency: c.currency,
    net: c.net,
    tax: c.tax,
    total: c.total,
    ...(c.scope.kind === 'return' ? { return_id: c.scope.id } : { shipment_id: c.scope.id }),
  });
}

/** Returns by status (or of one order), for lists (a page is read through db/paging.ts). */
export function returnsMatching(db: Db, f: { status?: string; orderId?: string }) {
  const q = db('returns').select('id', 'rma_number', 'order_id', 'status', 'resolution', 'requested_at');
  if (f.status) q.where({ status: f.status });
  if (f.orderId) q.where({ order_id: f.orderId });
  return q;
}
