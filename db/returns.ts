/**
 * Requesting a return and reading it back. Eligibility is checked under a lock
 * on the order, so two requests at once cannot both return the same units:
 * each line must have shipped, the quantity may not exceed what shipped less
 * what other returns already claim, and the request must fall within the
 * channel's return window, counted from delivery (or dispatch when no delivery was reported).
 */
import { randomUUID } from 'node:crypto';
import { inTransaction, Db } from './index';

export class ReturnRejected extends Error {
  constructor(message: string, public details: unknown[] = []) {
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

export async function requestReturn(db: Db, r: NewReturn, now = new Date(), requestKey?: string): Promise<{ returnId: string; workflowId: string }> {
  return inTransaction(db, async (tx) => {
    if (requestKey) {
      await tx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [requestKey]); // two copies of one request queue here
      const existing = await tx('returns').where({ request_key: requestKey }).first('id', 'workflow_id');
      if (existing) return { returnId: existing.id as string, workflowId: existing.workflow_id as string };
    }
    const order = await tx('sales_orders as o').join('channels as c', 'c.id', 'o.channel_id').where('o.id', r.orderId).forUpdate('o').first('o.id', 'c.return_window_days');
    if (!order) throw new ReturnRejected(`Order ${r.orderId} not found`);
    const lines = await tx('sales_order_lines as l').join('products as p', 'p.id', 'l.product_id').where('l.order_id', r.orderId).select('l.id', 'l.product_id', 'p.sku', 'l.quantity_shipped');
    const claimed = await tx('return_lines as rl').join('returns as r', 'r.id', 'rl.return_id').where('r.order_id', r.orderId)
      .groupBy('rl.order_line_id').select('rl.order_line_id', tx.raw(`SUM(CASE WHEN r.status = 'expired' THEN rl.quantity_received ELSE rl.quantity END)::int AS qty`));
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
      if (req.quantity > returnable) return problems.push({ path: `lines.${i}.quantity`, message: `only ${Math.max(0, returnable)} of ${req.sku} can be returned (shipped ${line.quantity_shipped}, already returned or requested ${claimedBy.get(line.id) ?? 0})` });
      picked.push({ line, quantity: req.quantity, reason: req.reason });
    });
    if (problems.length) throw new ReturnRejected('The return is not possible as requested', problems);

    const delivered = await tx('shipments as s').join('shipment_lines as sl', 'sl.shipment_id', 's.id').whereIn('sl.order_line_id', picked.map((p) => p.line.id))
      .whereIn('s.status', ['shipped', 'delivered']).max({ at: tx.raw('COALESCE(s.delivered_at, s.shipped_at)') }).first();
    const windowEnds = new Date(new Date(delivered!.at).getTime() + order.return_window_days * 86400000);
    if (now > windowEnds) {
      throw new ReturnRejected(`The return window of ${order.return_window_days} days closed on ${windowEnds.toISOString().slice(0, 10)}`, [{ path: 'orderId', message: 'outside the return window' }]);
    }
    const returnId = randomUUID();
    const workflowId = returnWorkflowId(returnId);
    await tx('returns').insert({ id: returnId, order_id: r.orderId, workflow_id: workflowId, resolution: r.resolution, note: r.note, request_key: requestKey ?? null });
    await tx('return_lines').insert(picked.map((p) => ({ return_id: returnId, order_line_id: p.line.id, product_id: p.line.product_id, quantity: p.quantity, reason: p.reason })));
    return { returnId, workflowId };
  });
}

export async function returnView(db: Db, returnId: string) {
  const r = await db('returns').where({ id: returnId }).first();
  if (!r) return undefined;
  const [lines, inspections, creditNote, refunds, approvals] = await Promise.all([
    db('return_lines as rl').join('products as p', 'p.id', 'rl.product_id').where('rl.return_id', returnId).orderBy('rl.id')
      .select('p.sku', 'rl.quantity', 'rl.reason', 'rl.quantity_received', 'rl.quantity_inspected'),
    db('return_inspections as i').join('return_lines as rl', 'rl.id', 'i.return_line_id').join('products as p', 'p.id', 'rl.product_id').where('rl.return_id', returnId).orderBy('i.inspected_at')
      .select('p.sku', 'i.quantity', 'i.condition', 'i.disposition'),
    db('credit_notes').where({ return_id: returnId }).first('id', 'number', 'net', 'tax', 'total', 'issued_at'),
    db('payments').where({ return_id: returnId, kind: 'refund' }).select('amount', 'status', 'provider_ref', 'created_at'),
    db('approvals').where({ subject_type: 'return', subject_id: returnId }).orderBy('requested_at').select('id', 'status', 'amount', 'reason', 'priority', 'sla_due_at', 'escalated_at', 'decision', 'decided_amount', 'decided_by'),
  ]);
  return {
    returnId: r.id as string, rmaNumber: r.rma_number ?? undefined, orderId: r.order_id as string, workflowId: r.workflow_id as string,
    status: r.status as string, resolution: r.resolution as string, note: r.note ?? undefined, outcomeReason: r.outcome_reason ?? undefined,
    label: r.label_tracking ? { carrier: r.label_carrier, trackingNumber: r.label_tracking } : undefined,
    refundAmount: r.refund_amount ?? undefined, replacementOrderId: r.replacement_order_id ?? undefined, requestedAt: r.requested_at,
    lines: lines.map((l) => ({ sku: l.sku, quantity: l.quantity, reason: l.reason, quantityReceived: l.quantity_received, quantityInspected: l.quantity_inspected })),
    inspections,
    creditNote: creditNote ? { creditNoteId: creditNote.id, number: creditNote.number, net: creditNote.net, tax: creditNote.tax, total: creditNote.total, issuedAt: creditNote.issued_at } : undefined,
    refunds: refunds.map((p) => ({ amount: p.amount, status: p.status, providerRef: p.provider_ref ?? undefined, at: p.created_at })),
    approvals: approvals.map((a) => ({ approvalId: a.id, status: a.status, amount: a.amount, reason: a.reason, priority: a.priority, slaDueAt: a.sla_due_at, escalatedAt: a.escalated_at ?? undefined, decision: a.decision ?? undefined, decidedAmount: a.decided_amount ?? undefined, decidedBy: a.decided_by ?? undefined })),
  };
}
