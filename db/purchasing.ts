/** Purchase orders as records: creating one (planner or manual) and reading it back whole. */
import { randomUUID } from 'node:crypto';
import type { Db, Tx } from './index';

import { purchaseWorkflowId } from '../contracts/workflow-ids';

export { purchaseWorkflowId };

export interface NewPurchaseOrder {
  supplierId: number;
  warehouseId: number;
  origin: 'planner' | 'manual';
  runId?: string;
  note?: string;
  lines: { productId: number; quantity: number; unitPrice: number; explanation?: unknown }[];
  requestKey?: string; // the client's request: a retry of it finds this order
}

/** Writes the order and its lines in the caller's transaction; the process is started afterwards. */
export async function createPurchaseOrder(tx: Tx, o: NewPurchaseOrder): Promise<{ poId: string; number: string; workflowId: string; total: number; currency: string }> {
  if (o.requestKey) {
    await tx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [o.requestKey]); // two copies of one request queue here
    const existing = await tx('purchase_orders').where({ request_key: o.requestKey }).first('id', 'number', 'workflow_id', 'total', 'currency');
    if (existing) return { poId: existing.id, number: existing.number, workflowId: existing.workflow_id, total: Number(existing.total), currency: existing.currency };
  }
  const supplier = await tx('suppliers').where({ id: o.supplierId }).first('currency');
  const seq = await tx.raw(`SELECT nextval('purchase_order_number_seq') AS n`);
  const number = `PO-${String(seq.rows[0].n).padStart(6, '0')}`;
  const poId = randomUUID();
  const total = o.lines.reduce((s, l) => s + l.quantity * l.unitPrice, 0);
  await tx('purchase_orders').insert({
    id: poId, number, workflow_id: purchaseWorkflowId(number), supplier_id: o.supplierId, warehouse_id: o.warehouseId, origin: o.origin, run_id: o.runId ?? null,
    currency: supplier.currency, total, note: o.note ?? null, request_key: o.requestKey ?? null,
  });
  await tx('purchase_order_lines').insert(o.lines.map((l) => ({
    po_id: poId, product_id: l.productId, quantity: l.quantity, unit_price: l.unitPrice, explanation: l.explanation === undefined ? null : JSON.stringify(l.explanation),
  })));
  return { poId, number, workflowId: purchaseWorkflowId(number), total, currency: supplier.currency };
}

export async function purchaseOrderView(db: Db, poId: string) {
  const po = await db('purchase_orders as po').join('suppliers as s', 's.id', 'po.supplier_id').join('warehouses as w', 'w.id', 'po.warehouse_id')
    .where('po.id', poId).first('po.*', 's.code as supplier', 's.name as supplier_name', 'w.code as warehouse');
  if (!po) return undefined;
  const [lines, receipts, bills, payments] = await Promise.all([
    db('purchase_order_lines as l').join('products as p', 'p.id', 'l.product_id').where('l.po_id', poId).orderBy('l.id').select('l.*', 'p.sku'),
    db('purchase_receipts').where({ po_id: poId }).orderBy('received_at'),
    db('vendor_bills').where({ po_id: poId }).orderBy('received_at'),
    db('supplier_payments as sp').join('vendor_bills as b', 'b.id', 'sp.bill_id').where('b.po_id', poId).select('sp.*'),
  ]);
  return {
    poId: po.id, number: po.number, workflowId: po.workflow_id, status: po.status, origin: po.origin, supplier: po.supplier, supplierName: po.supplier_name,
    warehouse: po.warehouse, currency: po.currency, total: Number(po.total), note: po.note ?? undefined, supplierRef: po.supplier_ref ?? undefined, decidedBy: po.decided_by ?? undefined,
    createdAt: po.created_at, sentAt: po.sent_at ?? undefined, expectedAt: po.expected_at ?? undefined, closedAt: po.closed_at ?? undefined,
    lines: lines.map((l) => ({
      sku: l.sku, quantity: l.quantity, unitPrice: Number(l.unit_price), received: l.received_qty, quarantined: l.quarantined_qty, billed: l.billed_qty, cancelled: l.cancelled_qty,
      explanation: l.explanation ?? undefined,
    })),
    receipts: receipts.map((r) => ({ receiptId: r.id, receivedAt: r.received_at })),
    bills: bills.map((b) => ({
      billId: b.id, kind: b.kind, supplierInvoiceRef: b.supplier_invoice_ref, status: b.status, subtotal: Number(b.subtotal), tax: Number(b.tax), total: Number(b.total),
      match: b.match ?? undefined, postedAt: b.posted_at ?? undefined, dueAt: b.due_at ?? undefined,
    })),
    payments: payments.map((p) => ({ billId: p.bill_id, amount: Number(p.amount), bankReference: p.bank_reference, paidAt: p.paid_at })),
  };
}
