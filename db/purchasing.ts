/** Purchase orders as records: creating one (planner or manual) and reading it back whole. */
import { randomUUID } from 'node:crypto';
import type { Db, Tx } from './index';

import type { BillInput, BillLine, MatchLine, PurchaseDecision } from '../contracts/purchase-types';
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
export async function createPurchaseOrder(
  tx: Tx,
  o: NewPurchaseOrder,
): Promise<{ poId: string; number: string; workflowId: string; total: number; currency: string }> {
  if (o.requestKey) {
    await tx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [o.requestKey]); // two copies of one request queue here
    const existing = await tx('purchase_orders')
      .where({ request_key: o.requestKey })
      .first('id', 'number', 'workflow_id', 'total', 'currency');
    if (existing)
      return {
        poId: existing.id,
        number: existing.number,
        workflowId: existing.workflow_id,
        total: Number(existing.total),
        currency: existing.currency,
      };
  }
  const supplier = await tx('suppliers').where({ id: o.supplierId }).first('currency');
  const seq = await tx.raw(`SELECT nextval('purchase_order_number_seq') AS n`);
  const number = `PO-${String(seq.rows[0].n).padStart(6, '0')}`;
  const poId = randomUUID();
  const total = o.lines.reduce((s, l) => s + l.quantity * l.unitPrice, 0);
  await tx('purchase_orders').insert({
    id: poId,
    number,
    workflow_id: purchaseWorkflowId(number),
    supplier_id: o.supplierId,
    warehouse_id: o.warehouseId,
    origin: o.origin,
    run_id: o.runId ?? null,
    currency: supplier.currency,
    total,
    note: o.note ?? null,
    request_key: o.requestKey ?? null,
  });
  await tx('purchase_order_lines').insert(
    o.lines.map((l) => ({
      po_id: poId,
      product_id: l.productId,
      quantity: l.quantity,
      unit_price: l.unitPrice,
      explanation: l.explanation === undefined ? null : JSON.stringify(l.explanation),
    })),
  );
  return { poId, number, workflowId: purchaseWorkflowId(number), total, currency: supplier.currency };
}

export async function purchaseOrderView(db: Db, poId: string) {
  const po = await db('purchase_orders as po')
    .join('suppliers as s', 's.id', 'po.supplier_id')
    .join('warehouses as w', 'w.id', 'po.warehouse_id')
    .where('po.id', poId)
    .first('po.*', 's.code as supplier', 's.name as supplier_name', 'w.code as warehouse');
  if (!po) return undefined;
  const [lines, receipts, bills, payments] = await Promise.all([
    db('purchase_order_lines as l')
      .join('products as p', 'p.id', 'l.product_id')
      .where('l.po_id', poId)
      .orderBy('l.id')
      .select('l.*', 'p.sku'),
    db('purchase_receipts').where({ po_id: poId }).orderBy('received_at'),
    db('vendor_bills').where({ po_id: poId }).orderBy('received_at'),
    db('supplier_payments as sp').join('vendor_bills as b', 'b.id', 'sp.bill_id').where('b.po_id', poId).select('sp.*'),
  ]);
  return {
    poId: po.id,
    number: po.number,
    workflowId: po.workflow_id,
    status: po.status,
    origin: po.origin,
    supplier: po.supplier,
    supplierName: po.supplier_name,
    warehouse: po.warehouse,
    currency: po.currency,
    total: Number(po.total),
    note: po.note ?? undefined,
    supplierRef: po.supplier_ref ?? undefined,
    decidedBy: po.decided_by ?? undefined,
    createdAt: po.created_at,
    sentAt: po.sent_at ?? undefined,
    expectedAt: po.expected_at ?? undefined,
    closedAt: po.closed_at ?? undefined,
    lines: lines.map((l) => ({
      sku: l.sku,
      quantity: l.quantity,
      unitPrice: Number(l.unit_price),
      received: l.received_qty,
      quarantined: l.quarantined_qty,
      billed: l.billed_qty,
      cancelled: l.cancelled_qty,
      explanation: l.explanation ?? undefined,
    })),
    receipts: receipts.map((r) => ({ receiptId: r.id, receivedAt: r.received_at })),
    bills: bills.map((b) => ({
      billId: b.id,
      kind: b.kind,
      supplierInvoiceRef: b.supplier_invoice_ref,
      status: b.status,
      subtotal: Number(b.subtotal),
      tax: Number(b.tax),
      total: Number(b.total),
      match: b.match ?? undefined,
      postedAt: b.posted_at ?? undefined,
      dueAt: b.due_at ?? undefined,
    })),
    payments: payments.map((p) => ({
      billId: p.bill_id,
      amount: Number(p.amount),
      bankReference: p.bank_reference,
      paidAt: p.paid_at,
    })),
  };
}

// ---------------------------------------------------------------------------
// Suppliers, their prices and reorder rules (master data).

/** One row per supplier, upserted by code. */
export async function upsertSuppliers(tx: Tx, rows: Record<string, unknown>[]): Promise<void> {
  for (const row of rows) await tx('suppliers').insert(row).onConflict(['code']).merge(row);
}

/** One row per supplier and product, upserted. */
export async function upsertSupplierPrices(tx: Tx, rows: Record<string, unknown>[]): Promise<void> {
  for (const row of rows) await tx('supplier_prices').insert(row).onConflict(['supplier_id', 'product_id']).merge(row);
}

/** One row per product and warehouse, upserted. */
export async function upsertReorderRules(tx: Tx, rows: Record<string, unknown>[]): Promise<void> {
  for (const row of rows) await tx('reorder_rules').insert(row).onConflict(['product_id', 'warehouse_id']).merge(row);
}

/** Suppliers by code, with their default lead time. */
export async function suppliersByCodes(db: Db | Tx, codes: string[]) {
  return db('suppliers').whereIn('code', codes).select('id', 'code', 'lead_time_days');
}

export async function allSuppliers(db: Db | Tx) {
  return db('suppliers').orderBy('code');
}

/** Every supplier price with its SKU, by SKU. */
export async function allSupplierPrices(db: Db | Tx) {
  return db('supplier_prices as sp')
    .join('products as p', 'p.id', 'sp.product_id')
    .orderBy('p.sku')
    .select('sp.*', 'p.sku');
}

export async function activeSupplierByCode(tx: Db | Tx, code: string) {
  return tx('suppliers').where({ code, active: true }).first('id');
}

/** The supplier's price of one product, if it has one. */
export async function supplierPrice(tx: Db | Tx, supplierId: number, productId: number) {
  return tx('supplier_prices').where({ supplier_id: supplierId, product_id: productId }).first('unit_price');
}

/** The supplier's prices of these products. */
export async function supplierPricesFor(tx: Db | Tx, supplierId: number, productIds: number[]) {
  return tx('supplier_prices').where({ supplier_id: supplierId }).whereIn('product_id', productIds);
}

/** Prices of active suppliers for these products, cheapest (then fastest) first. */
export async function cheapestSupplierPrices(tx: Db | Tx, productIds: number[]) {
  return tx('supplier_prices as sp')
    .join('suppliers as s', 's.id', 'sp.supplier_id')
    .where('s.active', true)
    .whereIn('sp.product_id', productIds)
    .orderBy(['sp.unit_price', 'sp.lead_time_days', 's.id'])
    .select('sp.*', 's.code as supplier');
}

// ---------------------------------------------------------------------------
// Replenishment runs.

/** Two planning runs at once queue here. */
export async function lockReplenishmentPlanning(tx: Tx): Promise<void> {
  await tx.raw(`SELECT pg_advisory_xact_lock(hashtext('replenishment-planning'))`);
}

/** The run's recorded row (its result), if the run already happened. */
export async function replenishmentRun(tx: Db | Tx, runId: string) {
  return tx('replenishment_runs').where({ id: runId }).first('result');
}

export async function startReplenishmentRun(tx: Tx, runId: string, trigger: string): Promise<void> {
  await tx('replenishment_runs').insert({ id: runId, trigger, result: '{}' });
}

export async function finishReplenishmentRun(tx: Tx, runId: string, result: object): Promise<void> {
  await tx('replenishment_runs')
    .where({ id: runId })
    .update({ result: JSON.stringify(result) });
}

/** Reorder rules of active products, with the product, the warehouse and its stock location. */
export async function reorderRulesToPlan(tx: Db | Tx) {
  return tx('reorder_rules as r')
    .join('products as p', 'p.id', 'r.product_id')
    .join('warehouses as w', 'w.id', 'r.warehouse_id')
    .join('locations as l', function () {
      this.on('l.warehouse_id', 'w.id').andOnVal('l.type', 'stock');
    })
    .where('p.active', true)
    .orderBy(['p.sku', 'w.priority', 'w.id'])
    .select('r.*', 'p.sku', 'p.price', 'p.cost', 'w.code as warehouse', 'w.priority', 'l.id as location_id');
}

export interface NewReplenishmentLine {
  run_id: string;
  product_id: number;
  warehouse_id: number;
  abc_class: string;
  projected: number;
  reorder_point: number;
  proposed_qty: number;
  stockout_risk: boolean;
  decision: string;
  po_id: string | null;
  explanation: string;
}

export async function recordReplenishmentLines(tx: Tx, lines: NewReplenishmentLine[]): Promise<void> {
  await tx('replenishment_lines').insert(lines);
}

// ---------------------------------------------------------------------------
// Purchase orders in their process.

/** The order with its supplier's terms and the warehouse code, locked FOR UPDATE. */
export async function lockPurchaseOrder(tx: Tx, poId: string) {
  return tx('purchase_orders as po')
    .join('suppliers as s', 's.id', 'po.supplier_id')
    .join('warehouses as w', 'w.id', 'po.warehouse_id')
    .where('po.id', poId)
    .forUpdate('po')
    .first(
      'po.*',
      's.code as supplier_code',
      's.name as supplier_name',
      's.payment_terms_days',
      's.lead_time_days as supplier_lead_time',
      'w.code as warehouse',
    );
}

/** The order's lines with their SKU, in line order. */
export async function purchaseOrderLines(tx: Db | Tx, poId: string) {
  return tx('purchase_order_lines as l')
    .join('products as p', 'p.id', 'l.product_id')
    .where('l.po_id', poId)
    .orderBy('l.id')
    .select('l.*', 'p.sku');
}

/** The order by id or by number, as the API finds it. */
export async function purchaseOrderRef(db: Db | Tx, key: { id: string } | { number: string }) {
  return db('purchase_orders').where(key).first('id', 'number', 'workflow_id', 'warehouse_id');
}

/** The SKUs on the order. */
export async function orderedSkus(db: Db | Tx, poId: string): Promise<string[]> {
  return db('purchase_order_lines as l')
    .join('products as p', 'p.id', 'l.product_id')
    .where('l.po_id', poId)
    .pluck('p.sku');
}

/** Purchase orders, newest first, optionally of one status. */
/** Purchase orders by status and supplier code; the caller orders and pages. */
export function purchaseOrdersMatching(db: Db | Tx, q: { status?: string; supplier?: string }) {
  return db('purchase_orders as po')
    .join('suppliers as s', 's.id', 'po.supplier_id')
    .join('warehouses as w', 'w.id', 'po.warehouse_id')
    .modify((b) => {
      if (q.status) b.where('po.status', q.status);
      if (q.supplier) b.where('s.code', q.supplier);
    })
    .select(
      'po.id',
      'po.number',
      'po.status',
      'po.origin',
      'po.total',
      'po.currency',
      'po.created_at',
      'po.expected_at',
      's.code as supplier',
      'w.code as warehouse',
    );
}

export async function setPurchaseOrderStatus(tx: Db | Tx, poId: string, status: string): Promise<void> {
  await tx('purchase_orders').where({ id: poId }).update({ status });
}

/** A draft under the approval limit needs nobody. */
export async function approveAutomatically(tx: Tx, poId: string): Promise<void> {
  await tx('purchase_orders')
    .where({ id: poId })
    .update({ status: 'approved', decided_by: 'automatic (under the limit)' });
}

/** A person's decision on an order waiting for approval (no-op otherwise). */
export async function recordPurchaseDecision(db: Db | Tx, poId: string, d: PurchaseDecision): Promise<void> {
  await db('purchase_orders')
    .where({ id: poId, status: 'awaiting_approval' })
    .update({
      status: d.decision === 'approve' ? 'approved' : 'rejected',
      decided_by: d.decidedBy ?? null,
      note: d.note,
    });
}

/** The order with its supplier's code, to send it. */
export async function purchaseOrderToSend(db: Db | Tx, poId: string) {
  return db('purchase_orders as po')
    .join('suppliers as s', 's.id', 'po.supplier_id')
    .where('po.id', poId)
    .first('po.*', 's.code as supplier_code');
}

/** SKU, quantity and price of each line, as the supplier receives them. */
export async function purchaseOrderLinesToSend(db: Db | Tx, poId: string) {
  return db('purchase_order_lines as l')
    .join('products as p', 'p.id', 'l.product_id')
    .where('l.po_id', poId)
    .select('p.sku', 'l.quantity', 'l.unit_price');
}

/** An approved order went to the supplier. */
export async function markPurchaseOrderSent(
  db: Db,
  poId: string,
  supplierRef: string,
  expectedAt: Date,
): Promise<void> {
  await db('purchase_orders')
    .where({ id: poId, status: 'approved' })
    .update({ status: 'sent', supplier_ref: supplierRef, sent_at: db.fn.now(), expected_at: expectedAt });
}

/** Closes the order unless it is already closed, rejected or cancelled. */
export async function markPurchaseOrderClosed(db: Db, poId: string): Promise<void> {
  await db('purchase_orders')
    .where({ id: poId })
    .whereNotIn('status', ['closed', 'rejected', 'cancelled'])
    .update({ status: 'closed', closed_at: db.fn.now() });
}

export async function setReceivedQuantities(
  tx: Tx,
  lineId: number,
  received: number,
  quarantined: number,
): Promise<void> {
  await tx('purchase_order_lines')
    .where({ id: lineId })
    .update({ received_qty: received, quarantined_qty: quarantined });
}

/** Units held in quarantine were accepted into stock. */
export async function clearQuarantined(tx: Tx, lineId: number): Promise<void> {
  await tx('purchase_order_lines').where({ id: lineId }).update({ quarantined_qty: 0 });
}

/** Units held in quarantine went back to the supplier: they no longer count as received. */
export async function returnQuarantined(tx: Tx, lineId: number, received: number): Promise<void> {
  await tx('purchase_order_lines').where({ id: lineId }).update({ quarantined_qty: 0, received_qty: received });
}

export async function setCancelledQuantity(tx: Tx, lineId: number, cancelled: number): Promise<void> {
  await tx('purchase_order_lines').where({ id: lineId }).update({ cancelled_qty: cancelled });
}

export async function setBilledQuantity(tx: Tx, lineId: number, billed: number): Promise<void> {
  await tx('purchase_order_lines').where({ id: lineId }).update({ billed_qty: billed });
}

// ---------------------------------------------------------------------------
// Receipts.

/** What a receipt already put away, per line (empty when it is new). */
export async function receiptLines(tx: Db | Tx, receiptId: string) {
  return tx('purchase_receipt_lines as rl')
    .join('purchase_order_lines as l', 'l.id', 'rl.po_line_id')
    .join('products as p', 'p.id', 'l.product_id')
    .where('rl.receipt_id', receiptId)
    .select('p.sku', 'rl.quantity', 'rl.quarantined', 'rl.unit_cost');
}

export async function recordPurchaseReceipt(
  tx: Tx,
  receiptId: string,
  poId: string,
  warehouseId: number,
): Promise<void> {
  await tx('purchase_receipts').insert({ id: receiptId, po_id: poId, warehouse_id: warehouseId });
}

export async function addReceiptLine(
  tx: Tx,
  l: { receiptId: string; poLineId: number; quantity: number; quarantined: number; unitCost: number },
): Promise<void> {
  await tx('purchase_receipt_lines').insert({
    receipt_id: l.receiptId,
    po_line_id: l.poLineId,
    quantity: l.quantity,
    quarantined: l.quarantined,
    unit_cost: l.unitCost,
  });
}

// ---------------------------------------------------------------------------
// Vendor bills, supplier credit notes and payments.

export async function vendorBill(tx: Db | Tx, billId: string) {
  return tx('vendor_bills').where({ id: billId }).first();
}

/** The bill's id and status, locked FOR UPDATE. */
export async function lockVendorBill(tx: Tx, billId: string) {
  return tx('vendor_bills').where({ id: billId }).forUpdate().first('id', 'status');
}

/** The credit note of a bill that is not rejected, if any. */
export async function creditNoteOf(tx: Db | Tx, billId: string) {
  return tx('vendor_bills').where({ credit_note_for: billId }).whereNot('status', 'rejected').first();
}

/** A supplier's document by its own reference, if already recorded. */
export async function billBySupplierRef(tx: Db | Tx, supplierId: number, supplierInvoiceRef: string) {
  return tx('vendor_bills')
    .where({ supplier_id: supplierId, supplier_invoice_ref: supplierInvoiceRef })
    .first('id', 'po_id', 'credit_note_for');
}

/** The order's bill of that reference held for a credit note, if any. */
export async function billAwaitingCreditNote(tx: Db | Tx, poId: string, supplierInvoiceRef: string) {
  return tx('vendor_bills')
    .where({ po_id: poId, supplier_invoice_ref: supplierInvoiceRef, kind: 'bill', status: 'awaiting_credit_note' })
    .first('id');
}

/** SKU, quantity and price of each line of a bill (or credit note). */
export async function vendorBillLines(tx: Db | Tx, billId: string): Promise<BillLine[]> {
  const rows = await tx('vendor_bill_lines as bl')
    .join('purchase_order_lines as l', 'l.id', 'bl.po_line_id')
    .join('products as p', 'p.id', 'l.product_id')
    .where('bl.bill_id', billId)
    .orderBy('bl.id')
    .select('p.sku', 'bl.quantity', 'bl.unit_price');
  return rows.map((r) => ({ sku: r.sku, quantity: r.quantity, unitPrice: Number(r.unit_price) }));
}

/** Writes a bill (or a credit note for `creditNoteFor`) and its lines. */
export async function insertVendorBill(
  tx: Tx,
  po: { id: string; supplier_id: number; currency: string },
  billId: string,
  input: BillInput,
  orderLines: { id: number; sku: string }[],
  creditNoteFor?: string,
): Promise<void> {
  const subtotal = input.lines.reduce((s, l) => s + l.quantity * l.unitPrice, 0);
  await tx('vendor_bills').insert({
    id: billId,
    po_id: po.id,
    supplier_id: po.supplier_id,
    supplier_invoice_ref: input.supplierInvoiceRef,
    kind: creditNoteFor ? 'credit_note' : 'bill',
    credit_note_for: creditNoteFor ?? null,
    currency: po.currency,
    subtotal,
    tax: input.tax,
    total: subtotal + input.tax,
  });
  await tx('vendor_bill_lines').insert(
    input.lines.map((l) => ({
      bill_id: billId,
      po_line_id: orderLines.find((o) => o.sku === l.sku)!.id,
      quantity: l.quantity,
      unit_price: l.unitPrice,
    })),
  );
}

/** The result of the three-way match on the bill. */
export async function recordBillMatch(
  tx: Tx,
  billId: string,
  status: 'matched' | 'mismatch',
  match: MatchLine[],
): Promise<void> {
  await tx('vendor_bills')
    .where({ id: billId })
    .update({ status, match: JSON.stringify(match) });
}

export async function setBillStatus(tx: Tx, billId: string, status: string): Promise<void> {
  await tx('vendor_bills').where({ id: billId }).update({ status });
}

/** Rejects every credit note of the bill. */
export async function rejectCreditNotesOf(tx: Tx, billId: string): Promise<void> {
  await tx('vendor_bills').where({ credit_note_for: billId }).update({ status: 'rejected' });
}

export async function markCreditNotePosted(tx: Tx, creditNoteId: string): Promise<void> {
  await tx('vendor_bills').where({ id: creditNoteId }).update({ status: 'credited', posted_at: tx.fn.now() });
}

/** The bill is on the books as payable, due at `dueAt`. */
export async function markBillPosted(tx: Tx, billId: string, dueAt: Date): Promise<void> {
  await tx('vendor_bills').where({ id: billId }).update({ posted_at: tx.fn.now(), due_at: dueAt });
}

/** The bill with its supplier's code and the order number, to pay it. */
export async function billToPay(db: Db | Tx, billId: string) {
  return db('vendor_bills as b')
    .join('suppliers as s', 's.id', 'b.supplier_id')
    .join('purchase_orders as po', 'po.id', 'b.po_id')
    .where('b.id', billId)
    .first('b.*', 's.code as supplier_code', 'po.number');
}

/** Total of the posted credit notes of the bill. */
export async function creditedTotal(db: Db | Tx, billId: string): Promise<number> {
  const credit = await db('vendor_bills')
    .where({ credit_note_for: billId, status: 'credited' })
    .sum({ t: 'total' })
    .first();
  return Number(credit?.t ?? 0);
}

export async function paymentOfBill(db: Db | Tx, billId: string) {
  return db('supplier_payments').where({ bill_id: billId }).first();
}

/** Records the payment once per bill; false when it was already recorded. */
export async function recordSupplierPayment(
  tx: Tx,
  billId: string,
  amount: number,
  bankReference: string,
): Promise<boolean> {
  const inserted = await tx('supplier_payments')
    .insert({ id: billId, bill_id: billId, amount, bank_reference: bankReference })
    .onConflict('bill_id')
    .ignore()
    .returning('id');
  return inserted.length > 0;
}

// ---------------------------------------------------------------------------
// The sandbox supplier and bank: their own records, keyed by our idempotency keys.

/** Records the order at the sandbox supplier once per key; answers the supplier's reference. */
export async function sandboxSupplierOrder(
  db: Db,
  o: { key: string; supplierCode: string; supplierRef: string; payload: object },
): Promise<string> {
  await db('sandbox_supplier_orders')
    .insert({
      idempotency_key: o.key,
      supplier_code: o.supplierCode,
      supplier_ref: o.supplierRef,
      payload: JSON.stringify(o.payload),
    })
    .onConflict('idempotency_key')
    .ignore();
  const row = await db('sandbox_supplier_orders').where({ idempotency_key: o.key }).first('supplier_ref');
  return row.supplier_ref;
}

/** Records the transfer at the sandbox bank once per key; answers the bank's reference. */
export async function sandboxBankTransfer(
  db: Db,
  t: { key: string; payee: string; amount: number; currency: string; reference: string; bankReference: string },
): Promise<string> {
  await db('sandbox_bank_transfers')
    .insert({
      idempotency_key: t.key,
      payee: t.payee,
      amount: t.amount,
      currency: t.currency,
      reference: t.reference,
      bank_reference: t.bankReference,
    })
    .onConflict('idempotency_key')
    .ignore();
  const row = await db('sandbox_bank_transfers').where({ idempotency_key: t.key }).first('bank_reference');
  return row.bank_reference;
}

/** The purchase order a vendor bill belongs to, if the bill exists. */
export async function poOfBill(db: Db | Tx, billId: string): Promise<string | undefined> {
  return (await db('vendor_bills').where({ id: billId }).first('po_id'))?.po_id;
}
