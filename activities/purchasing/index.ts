/**
 * Procure-to-pay side effects. Each is one transaction and idempotent by the
 * business key it is given (a receipt id, a bill's supplier reference, a
 * bill id for its payment), so a retried activity changes nothing twice.
 *
 * The books, at each step:
 *   receipt      Dr inventory (at the new average)  Cr goods received not invoiced (at the order price)
 *                rounding of the average → inventory adjustment
 *   bill         Dr GRNI (billed units at the order price), Dr tax, ± purchase price variance  Cr payable
 *   credit note  the mirror of the bill lines it corrects
 *   payment      Dr payable  Cr bank
 */
import { ApplicationFailure } from '@temporalio/activity';
import { inTransaction, Tx } from '../../db';
import { applyMove, ordersWaitingFor, virtualLocation } from '../../db/inventory';
import { ACCOUNT, JournalLine, postEntry } from '../../db/ledger';
import { averageIn, lockCosts } from '../../db/valuation';
import { formatMoney } from '../../lib/money';
import type { BillInput, BillLine, BillResult, PurchaseDecision, PurchaseLine, ReceiptResult } from '../../contracts/purchase-types';
import type { ActivityDeps } from '../deps';
import { netOfCreditNote, threeWayMatch, Tolerances } from './matching';

const refuse = (message: string) => ApplicationFailure.nonRetryable(message, 'PurchaseRefused');

async function lockOrder(tx: Tx, poId: string) {
  const po = await tx('purchase_orders as po').join('suppliers as s', 's.id', 'po.supplier_id').join('warehouses as w', 'w.id', 'po.warehouse_id')
    .where('po.id', poId).forUpdate('po').first('po.*', 's.code as supplier_code', 's.name as supplier_name', 's.payment_terms_days', 's.lead_time_days as supplier_lead_time', 'w.code as warehouse');
  if (!po) throw refuse(`Purchase order ${poId} not found`);
  return po;
}

async function linesOf(tx: Tx, poId: string) {
  return tx('purchase_order_lines as l').join('products as p', 'p.id', 'l.product_id').where('l.po_id', poId).orderBy('l.id').select('l.*', 'p.sku');
}

const receivedTotal = (lines: { received_qty: number }[]) => lines.reduce((s, l) => s + l.received_qty, 0);
const billedTotal = (lines: { billed_qty: number }[]) => lines.reduce((s, l) => s + l.billed_qty, 0);
const fullyReceived = (lines: { received_qty: number; quantity: number; cancelled_qty: number }[]) => lines.every((l) => l.received_qty >= l.quantity - l.cancelled_qty);

export interface OrderFacts {
  number: string;
  total: number;
  currency: string;
  supplier: string;
  leadTimeDays: number;
  paymentTermsDays: number;
  lines: PurchaseLine[];
  needsApproval: boolean;
  reason: string;
}

export function purchasingActivities({ db, suppliers, bank }: ActivityDeps) {
  /** Posts a bill (and the credit note that corrects it, if any) as payable; counts the billed units. */
  async function postBill(tx: Tx, billId: string, dayMs: number): Promise<void> {
    const bill = await tx('vendor_bills').where({ id: billId }).first();
    if (bill.posted_at) return;
    const po = await lockOrder(tx, bill.po_id);
    const orderLines = await linesOf(tx, po.id);
    const credit = await tx('vendor_bills').where({ credit_note_for: billId }).whereNot('status', 'rejected').first();
    const billLines = await billLinesOf(tx, billId);
    const creditLines = credit ? await billLinesOf(tx, credit.id) : [];
    const lines: JournalLine[] = [];
    const net = netOfCreditNote(billLines, creditLines);
    for (const b of billLines) {
      const o = orderLines.find((l) => l.sku === b.sku)!;
      lines.push({ account: ACCOUNT.goodsReceivedNotInvoiced, debit: b.quantity * Number(o.unit_price) });
      const variance = b.quantity * (b.unitPrice - Number(o.unit_price));
      lines.push(variance >= 0 ? { account: ACCOUNT.purchasePriceVariance, debit: variance } : { account: ACCOUNT.purchasePriceVariance, credit: -variance });
      await tx('purchase_order_lines').where({ id: o.id }).update({ billed_qty: o.billed_qty + net.find((n) => n.sku === b.sku)!.quantity });
    }
    lines.push({ account: ACCOUNT.taxPayable, debit: Number(bill.tax) }, { account: ACCOUNT.payables, credit: Number(bill.total) });
    await postEntry(tx, { key: `vendor-bill:${billId}`, description: `Vendor bill ${bill.supplier_invoice_ref} for ${po.number}`, sourceType: 'vendor_bill', sourceId: billId, currency: bill.currency, lines });
    if (credit) {
      const back: JournalLine[] = [{ account: ACCOUNT.payables, debit: Number(credit.total) }, { account: ACCOUNT.taxPayable, credit: Number(credit.tax) }];
      for (const c of creditLines) {
        const o = orderLines.find((l) => l.sku === c.sku)!;
        const billed = billLines.find((b) => b.sku === c.sku);
        if (billed && c.unitPrice === billed.unitPrice) {
          back.push({ account: ACCOUNT.goodsReceivedNotInvoiced, credit: c.quantity * Number(o.unit_price) });
          const variance = c.quantity * (c.unitPrice - Number(o.unit_price));
          back.push(variance >= 0 ? { account: ACCOUNT.purchasePriceVariance, credit: variance } : { account: ACCOUNT.purchasePriceVariance, debit: -variance });
        } else {
          back.push({ account: ACCOUNT.purchasePriceVariance, credit: c.quantity * c.unitPrice });
        }
      }
      await postEntry(tx, { key: `vendor-credit-note:${credit.id}`, description: `Supplier credit note ${credit.supplier_invoice_ref} for ${bill.supplier_invoice_ref}`, sourceType: 'vendor_bill', sourceId: credit.id, currency: credit.currency, lines: back });
      await tx('vendor_bills').where({ id: credit.id }).update({ status: 'credited', posted_at: tx.fn.now() });
    }
    await tx('vendor_bills').where({ id: billId }).update({ posted_at: tx.fn.now(), due_at: new Date(Date.now() + po.payment_terms_days * dayMs) });
  }

  async function billLinesOf(tx: Tx, billId: string): Promise<BillLine[]> {
    const rows = await tx('vendor_bill_lines as bl').join('purchase_order_lines as l', 'l.id', 'bl.po_line_id').join('products as p', 'p.id', 'l.product_id')
      .where('bl.bill_id', billId).orderBy('bl.id').select('p.sku', 'bl.quantity', 'bl.unit_price');
    return rows.map((r) => ({ sku: r.sku, quantity: r.quantity, unitPrice: Number(r.unit_price) }));
  }

  async function billResult(tx: Tx, billId: string): Promise<BillResult> {
    const b = await tx('vendor_bills').where({ id: billId }).first();
    const lines = await linesOf(tx, b.po_id);
    return { billId, kind: b.kind, status: b.status, matched: b.status === 'matched', posted: b.posted_at !== null, lines: b.match ?? [], billedUnits: billedTotal(lines) };
  }

  async function insertBill(tx: Tx, po: { id: string; supplier_id: number; currency: string }, billId: string, input: BillInput, orderLines: { id: number; sku: string }[], creditNoteFor?: string) {
    const subtotal = input.lines.reduce((s, l) => s + l.quantity * l.unitPrice, 0);
    await tx('vendor_bills').insert({
      id: billId, po_id: po.id, supplier_id: po.supplier_id, supplier_invoice_ref: input.supplierInvoiceRef, kind: creditNoteFor ? 'credit_note' : 'bill', credit_note_for: creditNoteFor ?? null,
      currency: po.currency, subtotal, tax: input.tax, total: subtotal + input.tax,
    });
    await tx('vendor_bill_lines').insert(input.lines.map((l) => ({ bill_id: billId, po_line_id: orderLines.find((o) => o.sku === l.sku)!.id, quantity: l.quantity, unit_price: l.unitPrice })));
  }

  return {
    /** The order's facts for its process, and whether a person must approve it. */
    async submitPurchaseOrder(input: { poId: string; autoApproveLimit: number }): Promise<OrderFacts> {
      return inTransaction(db, async (tx) => {
        const po = await lockOrder(tx, input.poId);
        const lines = await linesOf(tx, po.id);
        const prices = await tx('supplier_prices').where({ supplier_id: po.supplier_id }).whereIn('product_id', lines.map((l) => l.product_id));
        const leadTimeDays = Math.max(po.supplier_lead_time, ...prices.map((p) => p.lead_time_days));
        const needsApproval = Number(po.total) > input.autoApproveLimit;
        if (po.status === 'draft') await tx('purchase_orders').where({ id: po.id }).update(needsApproval ? { status: 'awaiting_approval' } : { status: 'approved', decided_by: 'automatic (under the limit)' });
        return {
          number: po.number, total: Number(po.total), currency: po.currency, supplier: po.supplier_code, leadTimeDays, paymentTermsDays: po.payment_terms_days,
          lines: lines.map((l) => ({ sku: l.sku, quantity: l.quantity })), needsApproval,
          reason: needsApproval
            ? `purchase order ${po.number} of ${formatMoney(Number(po.total), po.currency)} is over the approval limit of ${formatMoney(input.autoApproveLimit, po.currency)}`
            : 'under the approval limit',
        };
      });
    },

    async decidePurchaseOrder(input: { poId: string } & PurchaseDecision): Promise<void> {
      await db('purchase_orders').where({ id: input.poId, status: 'awaiting_approval' })
        .update({ status: input.decision === 'approve' ? 'approved' : 'rejected', decided_by: input.decidedBy ?? null, note: input.note });
    },

    /** Places the order with the supplier (once, by key); the expected receipt date follows the lead time. */
    async sendPurchaseOrder(input: { poId: string; leadTimeDays: number; dayMs: number }): Promise<{ supplierRef: string; expectedAt: string }> {
      const po = await db('purchase_orders as po').join('suppliers as s', 's.id', 'po.supplier_id').where('po.id', input.poId).first('po.*', 's.code as supplier_code');
      if (po.supplier_ref) return { supplierRef: po.supplier_ref, expectedAt: new Date(po.expected_at).toISOString() };
      const lines = await db('purchase_order_lines as l').join('products as p', 'p.id', 'l.product_id').where('l.po_id', po.id).select('p.sku', 'l.quantity', 'l.unit_price');
      const expectedAt = new Date(Date.now() + input.leadTimeDays * input.dayMs);
      const { supplierRef } = await suppliers.sendPurchaseOrder({
        key: `po:${po.id}`, supplierCode: po.supplier_code, number: po.number, expectedAt, lines: lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPrice: Number(l.unit_price) })),
      });
      await db('purchase_orders').where({ id: po.id, status: 'approved' }).update({ status: 'sent', supplier_ref: supplierRef, sent_at: db.fn.now(), expected_at: expectedAt });
      return { supplierRef, expectedAt: expectedAt.toISOString() };
    },

    /**
     * Goods arrived. Up to the order plus the tolerance go into stock; units
     * beyond it are booked into quarantine and wait for a person. Both are
     * valued at the order price blended into the average cost.
     */
    async receivePurchase(input: { poId: string; receiptId: string; lines: PurchaseLine[]; tolerancePct: number }): Promise<ReceiptResult> {
      return inTransaction(db, async (tx) => {
        const po = await lockOrder(tx, input.poId);
        const done = await tx('purchase_receipt_lines as rl').join('purchase_order_lines as l', 'l.id', 'rl.po_line_id').join('products as p', 'p.id', 'l.product_id')
          .where('rl.receipt_id', input.receiptId).select('p.sku', 'rl.quantity', 'rl.quarantined', 'rl.unit_cost');
        const lines = await linesOf(tx, po.id);
        const result = (got: { sku: string; intoStock: number; quarantined: number; unitCost: number }[], waiting: string[], now = lines): ReceiptResult => ({
          receiptId: input.receiptId, lines: got, received: receivedTotal(now), ordered: now.reduce((s, l) => s + l.quantity - l.cancelled_qty, 0),
          quarantined: got.reduce((s, l) => s + l.quarantined, 0), ordersWaiting: waiting,
        });
        if (done.length) return result(done.map((d) => ({ sku: d.sku, intoStock: d.quantity, quarantined: d.quarantined, unitCost: Number(d.unit_cost) })), []);
        if (!['sent', 'partially_received', 'received'].includes(po.status)) throw refuse(`purchase order ${po.number} is ${po.status}; it takes no goods`);
        const stock = await tx('locations').where({ warehouse_id: po.warehouse_id, type: 'stock' }).first('id');
        const quarantine = await tx('locations').where({ warehouse_id: po.warehouse_id, type: 'quarantine' }).first('id');
        const supplier = await virtualLocation(tx, 'supplier');
        await tx('purchase_receipts').insert({ id: input.receiptId, po_id: po.id, warehouse_id: po.warehouse_id });
        const journal: JournalLine[] = [];
        const got: ReceiptResult['lines'] = [];
        const waiting = new Set<string>();
        for (const [i, r] of input.lines.entries()) {
          const line = lines.find((l) => l.sku === r.sku);
          if (!line) throw refuse(`${r.sku} is not on purchase order ${po.number}`);
          const allowed = Math.max(0, Math.floor(line.quantity * (1 + input.tolerancePct / 100)) - line.received_qty + line.quarantined_qty);
          const intoStock = Math.min(r.quantity, allowed);
          const held = r.quantity - intoStock;
          if (held > 0 && !quarantine) throw refuse(`warehouse ${po.warehouse} has no quarantine location for the ${held} unit(s) beyond tolerance`);
          const price = Number(line.unit_price);
          const avg = await averageIn(tx, line.product_id, r.quantity, price);
          const move = (to: number, quantity: number, part: string) => applyMove(tx, {
            productId: line.product_id, fromLocationId: supplier, toLocationId: to, quantity, unitCost: avg.newCost, sourceType: 'purchase_receipt', sourceId: input.receiptId, key: `purchase-receipt:${input.receiptId}:${i}:${part}`,
          });
          if (intoStock > 0) await move(stock.id, intoStock, 'stock');
          if (held > 0) await move(quarantine.id, held, 'quarantine');
          journal.push({ account: ACCOUNT.inventory, debit: avg.inventoryDebit }, { account: ACCOUNT.goodsReceivedNotInvoiced, credit: r.quantity * price });
          if (avg.residual !== 0) journal.push(avg.residual > 0 ? { account: ACCOUNT.inventoryLoss, debit: avg.residual } : { account: ACCOUNT.inventoryLoss, credit: -avg.residual });
          await tx('purchase_order_lines').where({ id: line.id }).update({ received_qty: line.received_qty + r.quantity, quarantined_qty: line.quarantined_qty + held });
          line.received_qty += r.quantity;
          line.quarantined_qty += held;
          await tx('purchase_receipt_lines').insert({ receipt_id: input.receiptId, po_line_id: line.id, quantity: intoStock, quarantined: held, unit_cost: price });
          got.push({ sku: r.sku, intoStock, quarantined: held, unitCost: price });
          if (intoStock > 0) for (const id of await ordersWaitingFor(tx, line.product_id)) waiting.add(id);
        }
        await postEntry(tx, { key: `purchase-receipt:${input.receiptId}`, description: `Goods received for ${po.number}`, sourceType: 'purchase_receipt', sourceId: input.receiptId, currency: po.currency, lines: journal });
        await tx('purchase_orders').where({ id: po.id }).update({ status: fullyReceived(lines) ? 'received' : 'partially_received' });
        return result(got, [...waiting]);
      });
    },

    /** A person decided on units held in quarantine: into stock, or back to the supplier (reversing their receipt). */
    async settleOverReceipt(input: { poId: string; decisionId: string; action: 'accept' | 'return_to_supplier' }): Promise<{ moved: number; received: number; ordersWaiting: string[] }> {
      return inTransaction(db, async (tx) => {
        const po = await lockOrder(tx, input.poId);
        const lines = (await linesOf(tx, po.id)).filter((l) => l.quarantined_qty > 0);
        const quarantine = await tx('locations').where({ warehouse_id: po.warehouse_id, type: 'quarantine' }).first('id');
        const to = input.action === 'accept' ? (await tx('locations').where({ warehouse_id: po.warehouse_id, type: 'stock' }).first('id')).id : await virtualLocation(tx, 'supplier');
        const costs = await lockCosts(tx, lines.map((l) => l.product_id));
        const journal: JournalLine[] = [];
        const waiting = new Set<string>();
        let moved = 0;
        for (const l of lines) {
          const cost = costs.get(l.product_id)!;
          await applyMove(tx, { productId: l.product_id, fromLocationId: quarantine.id, toLocationId: to, quantity: l.quarantined_qty, unitCost: cost, sourceType: 'over_receipt', sourceId: input.decisionId, key: `over-receipt:${input.decisionId}:${l.id}` });
          moved += l.quarantined_qty;
          if (input.action === 'accept') {
            for (const id of await ordersWaitingFor(tx, l.product_id)) waiting.add(id);
            await tx('purchase_order_lines').where({ id: l.id }).update({ quarantined_qty: 0 });
          } else {
            const atOrderPrice = l.quarantined_qty * Number(l.unit_price);
            const atCost = l.quarantined_qty * cost;
            journal.push({ account: ACCOUNT.goodsReceivedNotInvoiced, debit: atOrderPrice }, { account: ACCOUNT.inventory, credit: atCost });
            if (atCost !== atOrderPrice) journal.push(atCost > atOrderPrice ? { account: ACCOUNT.purchasePriceVariance, debit: atCost - atOrderPrice } : { account: ACCOUNT.purchasePriceVariance, credit: atOrderPrice - atCost });
            await tx('purchase_order_lines').where({ id: l.id }).update({ quarantined_qty: 0, received_qty: l.received_qty - l.quarantined_qty });
          }
        }
        if (journal.length) await postEntry(tx, { key: `over-receipt:${input.decisionId}`, description: `Over-receipt of ${po.number} returned to the supplier`, sourceType: 'over_receipt', sourceId: input.decisionId, currency: po.currency, lines: journal });
        return { moved, received: receivedTotal(await linesOf(tx, po.id)), ordersWaiting: [...waiting] };
      });
    },

    /** What has not arrived is cancelled: the order is complete on what was received. */
    async closeShort(input: { poId: string }): Promise<{ cancelled: number }> {
      return inTransaction(db, async (tx) => {
        const po = await lockOrder(tx, input.poId);
        let cancelled = 0;
        for (const l of await linesOf(tx, po.id)) {
          const rest = Math.max(0, l.quantity - l.received_qty);
          cancelled += rest;
          await tx('purchase_order_lines').where({ id: l.id }).update({ cancelled_qty: rest });
        }
        await tx('purchase_orders').where({ id: po.id }).update({ status: 'received' });
        return { cancelled };
      });
    },

    /**
     * A vendor bill (or a supplier credit note for a held bill) arrives: record
     * it once, match it three ways, and post it when it matches.
     */
    async recordBill(input: { poId: string; billId: string; bill: BillInput; tolerances: Tolerances; dayMs: number }): Promise<BillResult> {
      return inTransaction(db, async (tx) => {
        const po = await lockOrder(tx, input.poId);
        const existing = await tx('vendor_bills').where({ supplier_id: po.supplier_id, supplier_invoice_ref: input.bill.supplierInvoiceRef }).first('id', 'po_id', 'credit_note_for');
        if (existing) {
          if (existing.po_id !== po.id) throw refuse(`supplier invoice ${input.bill.supplierInvoiceRef} was already recorded against another purchase order`);
          return { ...(await billResult(tx, existing.credit_note_for ?? existing.id)), repeat: true };
        }
        const orderLines = await linesOf(tx, po.id);
        for (const l of input.bill.lines) if (!orderLines.some((o) => o.sku === l.sku)) throw refuse(`${l.sku} is not on purchase order ${po.number}`);
        let billId = input.billId;
        let billLines = input.bill.lines;
        if (input.bill.creditNoteFor) {
          const held = await tx('vendor_bills').where({ po_id: po.id, supplier_invoice_ref: input.bill.creditNoteFor, kind: 'bill', status: 'awaiting_credit_note' }).first('id');
          if (!held) throw refuse(`no bill ${input.bill.creditNoteFor} of ${po.number} is waiting for a credit note`);
          await insertBill(tx, po, input.billId, input.bill, orderLines, held.id);
          billId = held.id;
          billLines = netOfCreditNote(await billLinesOf(tx, held.id), input.bill.lines);
        } else {
          await insertBill(tx, po, billId, input.bill, orderLines);
        }
        const match = threeWayMatch(orderLines.map((o) => ({ sku: o.sku, ordered: o.quantity, received: o.received_qty, billedBefore: o.billed_qty, orderPrice: Number(o.unit_price) })), billLines, input.tolerances);
        await tx('vendor_bills').where({ id: billId }).update({ status: match.matched ? 'matched' : 'mismatch', match: JSON.stringify(match.lines) });
        if (match.matched) await postBill(tx, billId, input.dayMs);
        const r = await billResult(tx, billId);
        return { ...r, kind: input.bill.creditNoteFor ? 'credit_note' : 'bill' };
      });
    },

    /** A person resolved a three-way mismatch. */
    async settleBill(input: { billId: string; action: 'accept_bill' | 'reject_bill' | 'await_credit_note'; dayMs: number }): Promise<BillResult> {
      return inTransaction(db, async (tx) => {
        const bill = await tx('vendor_bills').where({ id: input.billId }).forUpdate().first('id', 'status');
        if (bill.status === 'mismatch') {
          if (input.action === 'accept_bill') {
            await tx('vendor_bills').where({ id: bill.id }).update({ status: 'accepted' });
            await postBill(tx, bill.id, input.dayMs);
          } else if (input.action === 'reject_bill') {
            await tx('vendor_bills').where({ id: bill.id }).update({ status: 'rejected' });
            await tx('vendor_bills').where({ credit_note_for: bill.id }).update({ status: 'rejected' });
          } else {
            await tx('vendor_bills').where({ id: bill.id }).update({ status: 'awaiting_credit_note' });
            await tx('vendor_bills').where({ credit_note_for: bill.id }).update({ status: 'rejected' }); // a credit note that did not make it match is superseded by the next
          }
        }
        return billResult(tx, bill.id);
      });
    },

    /** Pays a posted bill, net of its credit note, through the bank (once, by bill). */
    async payBill(input: { billId: string }): Promise<{ amount: number; bankReference: string }> {
      const bill = await db('vendor_bills as b').join('suppliers as s', 's.id', 'b.supplier_id').join('purchase_orders as po', 'po.id', 'b.po_id')
        .where('b.id', input.billId).first('b.*', 's.code as supplier_code', 'po.number');
      if (!bill.posted_at) throw refuse(`bill ${bill.supplier_invoice_ref} is not posted; only a matched or accepted bill is paid`);
      const paid = await db('supplier_payments').where({ bill_id: bill.id }).first();
      if (paid) return { amount: Number(paid.amount), bankReference: paid.bank_reference };
      const credit = await db('vendor_bills').where({ credit_note_for: bill.id, status: 'credited' }).sum({ t: 'total' }).first();
      const amount = Number(bill.total) - Number(credit?.t ?? 0);
      const { bankReference } = await bank.transfer({ key: `bill:${bill.id}`, payee: bill.supplier_code, amount, currency: bill.currency, reference: `${bill.number} / ${bill.supplier_invoice_ref}` });
      await inTransaction(db, async (tx) => {
        const inserted = await tx('supplier_payments').insert({ id: bill.id, bill_id: bill.id, amount, bank_reference: bankReference }).onConflict('bill_id').ignore().returning('id');
        if (inserted.length === 0) return;
        await postEntry(tx, { key: `supplier-payment:${bill.id}`, description: `Payment of ${bill.supplier_invoice_ref} (${bill.number})`, sourceType: 'supplier_payment', sourceId: bill.id, currency: bill.currency, lines: [{ account: ACCOUNT.payables, debit: amount }, { account: ACCOUNT.bank, credit: amount }] });
        await tx('vendor_bills').where({ id: bill.id }).update({ status: 'paid' });
      });
      return { amount, bankReference };
    },

    async closePurchaseOrder(input: { poId: string }): Promise<void> {
      await db('purchase_orders').where({ id: input.poId }).whereNotIn('status', ['closed', 'rejected', 'cancelled']).update({ status: 'closed', closed_at: db.fn.now() });
    },
  };
}
