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
import { applyMove, locationOf, ordersWaitingFor, virtualLocation } from '../../db/inventory';
import { ACCOUNT, JournalLine, postEntry } from '../../db/ledger';
import {
  addReceiptLine,
  approveAutomatically,
  billAwaitingCreditNote,
  billBySupplierRef,
  billToPay,
  clearQuarantined,
  creditedTotal,
  creditNoteOf,
  insertVendorBill,
  lockPurchaseOrder,
  lockVendorBill,
  markBillPosted,
  markCreditNotePosted,
  markPurchaseOrderClosed,
  markPurchaseOrderSent,
  paymentOfBill,
  purchaseOrderLines,
  purchaseOrderLinesToSend,
  purchaseOrderToSend,
  receiptLines,
  recordBillMatch,
  recordPurchaseDecision,
  recordPurchaseReceipt,
  recordSupplierPayment,
  rejectCreditNotesOf,
  returnQuarantined,
  setBilledQuantity,
  setBillStatus,
  setCancelledQuantity,
  setPurchaseOrderStatus,
  setReceivedQuantities,
  supplierPricesFor,
  vendorBill,
  vendorBillLines,
} from '../../db/purchasing';
import { averageIn, lockCosts } from '../../db/valuation';
import { formatMoney } from '../../lib/money';
import type {
  BillInput,
  BillResult,
  PurchaseDecision,
  PurchaseLine,
  ReceiptResult,
} from '../../contracts/purchase-types';
import type { ActivityDeps } from '../deps';
import { netOfCreditNote, threeWayMatch, Tolerances } from './matching';

const refuse = (message: string) => ApplicationFailure.nonRetryable(message, 'PurchaseRefused');

async function lockOrder(tx: Tx, poId: string) {
  const po = await lockPurchaseOrder(tx, poId);
  if (!po) throw refuse(`Purchase order ${poId} not found`);
  return po;
}

const receivedTotal = (lines: { received_qty: number }[]) => lines.reduce((s, l) => s + l.received_qty, 0);
const billedTotal = (lines: { billed_qty: number }[]) => lines.reduce((s, l) => s + l.billed_qty, 0);
const fullyReceived = (lines: { received_qty: number; quantity: number; cancelled_qty: number }[]) =>
  lines.every((l) => l.received_qty >= l.quantity - l.cancelled_qty);

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
    const bill = await vendorBill(tx, billId);
    if (bill.posted_at) return;
    const po = await lockOrder(tx, bill.po_id);
    const orderLines = await purchaseOrderLines(tx, po.id);
    const credit = await creditNoteOf(tx, billId);
    const billLines = await vendorBillLines(tx, billId);
    const creditLines = credit ? await vendorBillLines(tx, credit.id) : [];
    const lines: JournalLine[] = [];
    const net = netOfCreditNote(billLines, creditLines);
    for (const b of billLines) {
      const o = orderLines.find((l) => l.sku === b.sku)!;
      lines.push({ account: ACCOUNT.goodsReceivedNotInvoiced, debit: b.quantity * Number(o.unit_price) });
      const variance = b.quantity * (b.unitPrice - Number(o.unit_price));
      lines.push(
        variance >= 0
          ? { account: ACCOUNT.purchasePriceVariance, debit: variance }
          : { account: ACCOUNT.purchasePriceVariance, credit: -variance },
      );
      await setBilledQuantity(tx, o.id, o.billed_qty + net.find((n) => n.sku === b.sku)!.quantity);
    }
    lines.push(
      { account: ACCOUNT.taxPayable, debit: Number(bill.tax) },
      { account: ACCOUNT.payables, credit: Number(bill.total) },
    );
    await postEntry(tx, {
      key: `vendor-bill:${billId}`,
      description: `Vendor bill ${bill.supplier_invoice_ref} for ${po.number}`,
      sourceType: 'vendor_bill',
      sourceId: billId,
      currency: bill.currency,
      lines,
    });
    if (credit) {
      const back: JournalLine[] = [
        { account: ACCOUNT.payables, debit: Number(credit.total) },
        { account: ACCOUNT.taxPayable, credit: Number(credit.tax) },
      ];
      for (const c of creditLines) {
        const o = orderLines.find((l) => l.sku === c.sku)!;
        const billed = billLines.find((b) => b.sku === c.sku);
        if (billed && c.unitPrice === billed.unitPrice) {
          back.push({ account: ACCOUNT.goodsReceivedNotInvoiced, credit: c.quantity * Number(o.unit_price) });
          const variance = c.quantity * (c.unitPrice - Number(o.unit_price));
          back.push(
            variance >= 0
              ? { account: ACCOUNT.purchasePriceVariance, credit: variance }
              : { account: ACCOUNT.purchasePriceVariance, debit: -variance },
          );
        } else {
          back.push({ account: ACCOUNT.purchasePriceVariance, credit: c.quantity * c.unitPrice });
        }
      }
      await postEntry(tx, {
        key: `vendor-credit-note:${credit.id}`,
        description: `Supplier credit note ${credit.supplier_invoice_ref} for ${bill.supplier_invoice_ref}`,
        sourceType: 'vendor_bill',
        sourceId: credit.id,
        currency: credit.currency,
        lines: back,
      });
      await markCreditNotePosted(tx, credit.id);
    }
    await markBillPosted(tx, billId, new Date(Date.now() + po.payment_terms_days * dayMs));
  }

  async function billResult(tx: Tx, billId: string): Promise<BillResult> {
    const b = await vendorBill(tx, billId);
    const lines = await purchaseOrderLines(tx, b.po_id);
    return {
      billId,
      kind: b.kind,
      status: b.status,
      matched: b.status === 'matched',
      posted: b.posted_at !== null,
      lines: b.match ?? [],
      billedUnits: billedTotal(lines),
    };
  }

  return {
    /** The order's facts for its process, and whether a person must approve it. */
    async submitPurchaseOrder(input: { poId: string; autoApproveLimit: number }): Promise<OrderFacts> {
      return inTransaction(db, async (tx) => {
        const po = await lockOrder(tx, input.poId);
        const lines = await purchaseOrderLines(tx, po.id);
        const prices = await supplierPricesFor(
          tx,
          po.supplier_id,
          lines.map((l) => l.product_id),
        );
        const leadTimeDays = Math.max(po.supplier_lead_time, ...prices.map((p) => p.lead_time_days));
        const needsApproval = Number(po.total) > input.autoApproveLimit;
        if (po.status === 'draft')
          await (needsApproval
            ? setPurchaseOrderStatus(tx, po.id, 'awaiting_approval')
            : approveAutomatically(tx, po.id));
        return {
          number: po.number,
          total: Number(po.total),
          currency: po.currency,
          supplier: po.supplier_code,
          leadTimeDays,
          paymentTermsDays: po.payment_terms_days,
          lines: lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
          needsApproval,
          reason: needsApproval
            ? `purchase order ${po.number} of ${formatMoney(Number(po.total), po.currency)} is over the approval limit of ${formatMoney(input.autoApproveLimit, po.currency)}`
            : 'under the approval limit',
        };
      });
    },

    async decidePurchaseOrder(input: { poId: string } & PurchaseDecision): Promise<void> {
      await recordPurchaseDecision(db, input.poId, input);
    },

    /** Places the order with the supplier (once, by key); the expected receipt date follows the lead time. */
    async sendPurchaseOrder(input: {
      poId: string;
      leadTimeDays: number;
      dayMs: number;
    }): Promise<{ supplierRef: string; expectedAt: string }> {
      const po = await purchaseOrderToSend(db, input.poId);
      if (po.supplier_ref) return { supplierRef: po.supplier_ref, expectedAt: new Date(po.expected_at).toISOString() };
      const lines = await purchaseOrderLinesToSend(db, po.id);
      const expectedAt = new Date(Date.now() + input.leadTimeDays * input.dayMs);
      const { supplierRef } = await suppliers.sendPurchaseOrder({
        key: `po:${po.id}`,
        supplierCode: po.supplier_code,
        number: po.number,
        expectedAt,
        lines: lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPrice: Number(l.unit_price) })),
      });
      await markPurchaseOrderSent(db, po.id, supplierRef, expectedAt);
      return { supplierRef, expectedAt: expectedAt.toISOString() };
    },

    /**
     * Goods arrived. Up to the order plus the tolerance go into stock; units
     * beyond it are booked into quarantine and wait for a person. Both are
     * valued at the order price blended into the average cost.
     */
    async receivePurchase(input: {
      poId: string;
      receiptId: string;
      lines: PurchaseLine[];
      tolerancePct: number;
    }): Promise<ReceiptResult> {
      return inTransaction(db, async (tx) => {
        const po = await lockOrder(tx, input.poId);
        const done = await receiptLines(tx, input.receiptId);
        const lines = await purchaseOrderLines(tx, po.id);
        const result = (
          got: { sku: string; intoStock: number; quarantined: number; unitCost: number }[],
          waiting: string[],
          now = lines,
        ): ReceiptResult => ({
          receiptId: input.receiptId,
          lines: got,
          received: receivedTotal(now),
          ordered: now.reduce((s, l) => s + l.quantity - l.cancelled_qty, 0),
          quarantined: got.reduce((s, l) => s + l.quarantined, 0),
          ordersWaiting: waiting,
        });
        if (done.length)
          return result(
            done.map((d) => ({
              sku: d.sku,
              intoStock: d.quantity,
              quarantined: d.quarantined,
              unitCost: Number(d.unit_cost),
            })),
            [],
          );
        if (!['sent', 'partially_received', 'received'].includes(po.status))
          throw refuse(`purchase order ${po.number} is ${po.status}; it takes no goods`);
        const stock = await locationOf(tx, po.warehouse_id, 'stock');
        const quarantine = await locationOf(tx, po.warehouse_id, 'quarantine');
        const supplier = await virtualLocation(tx, 'supplier');
        await recordPurchaseReceipt(tx, input.receiptId, po.id, po.warehouse_id);
        const journal: JournalLine[] = [];
        const got: ReceiptResult['lines'] = [];
        const waiting = new Set<string>();
        for (const [i, r] of input.lines.entries()) {
          const line = lines.find((l) => l.sku === r.sku);
          if (!line) throw refuse(`${r.sku} is not on purchase order ${po.number}`);
          const allowed = Math.max(
            0,
            Math.floor(line.quantity * (1 + input.tolerancePct / 100)) - line.received_qty + line.quarantined_qty,
          );
          const intoStock = Math.min(r.quantity, allowed);
          const held = r.quantity - intoStock;
          if (held > 0 && !quarantine)
            throw refuse(
              `warehouse ${po.warehouse} has no quarantine location for the ${held} unit(s) beyond tolerance`,
            );
          const price = Number(line.unit_price);
          const avg = await averageIn(tx, line.product_id, r.quantity, price);
          const move = (to: number, quantity: number, part: string) =>
            applyMove(tx, {
              productId: line.product_id,
              fromLocationId: supplier,
              toLocationId: to,
              quantity,
              unitCost: avg.newCost,
              sourceType: 'purchase_receipt',
              sourceId: input.receiptId,
              key: `purchase-receipt:${input.receiptId}:${i}:${part}`,
            });
          if (intoStock > 0) await move(stock!.id, intoStock, 'stock');
          if (held > 0) await move(quarantine!.id, held, 'quarantine');
          journal.push(
            { account: ACCOUNT.inventory, debit: avg.inventoryDebit },
            { account: ACCOUNT.goodsReceivedNotInvoiced, credit: r.quantity * price },
          );
          if (avg.residual !== 0)
            journal.push(
              avg.residual > 0
                ? { account: ACCOUNT.inventoryLoss, debit: avg.residual }
                : { account: ACCOUNT.inventoryLoss, credit: -avg.residual },
            );
          await setReceivedQuantities(tx, line.id, line.received_qty + r.quantity, line.quarantined_qty + held);
          line.received_qty += r.quantity;
          line.quarantined_qty += held;
          await addReceiptLine(tx, {
            receiptId: input.receiptId,
            poLineId: line.id,
            quantity: intoStock,
            quarantined: held,
            unitCost: price,
          });
          got.push({ sku: r.sku, intoStock, quarantined: held, unitCost: price });
          if (intoStock > 0) for (const id of await ordersWaitingFor(tx, line.product_id)) waiting.add(id);
        }
        await postEntry(tx, {
          key: `purchase-receipt:${input.receiptId}`,
          description: `Goods received for ${po.number}`,
          sourceType: 'purchase_receipt',
          sourceId: input.receiptId,
          currency: po.currency,
          lines: journal,
        });
        await setPurchaseOrderStatus(tx, po.id, fullyReceived(lines) ? 'received' : 'partially_received');
        return result(got, [...waiting]);
      });
    },

    /** A person decided on units held in quarantine: into stock, or back to the supplier (reversing their receipt). */
    async settleOverReceipt(input: {
      poId: string;
      decisionId: string;
      action: 'accept' | 'return_to_supplier';
    }): Promise<{ moved: number; received: number; ordersWaiting: string[] }> {
      return inTransaction(db, async (tx) => {
        const po = await lockOrder(tx, input.poId);
        const lines = (await purchaseOrderLines(tx, po.id)).filter((l) => l.quarantined_qty > 0);
        const quarantine = await locationOf(tx, po.warehouse_id, 'quarantine');
        const to =
          input.action === 'accept'
            ? (await locationOf(tx, po.warehouse_id, 'stock'))!.id
            : await virtualLocation(tx, 'supplier');
        const costs = await lockCosts(
          tx,
          lines.map((l) => l.product_id),
        );
        const journal: JournalLine[] = [];
        const waiting = new Set<string>();
        let moved = 0;
        for (const l of lines) {
          const cost = costs.get(l.product_id)!;
          await applyMove(tx, {
            productId: l.product_id,
            fromLocationId: quarantine!.id,
            toLocationId: to,
            quantity: l.quarantined_qty,
            unitCost: cost,
            sourceType: 'over_receipt',
            sourceId: input.decisionId,
            key: `over-receipt:${input.decisionId}:${l.id}`,
          });
          moved += l.quarantined_qty;
          if (input.action === 'accept') {
            for (const id of await ordersWaitingFor(tx, l.product_id)) waiting.add(id);
            await clearQuarantined(tx, l.id);
          } else {
            const atOrderPrice = l.quarantined_qty * Number(l.unit_price);
            const atCost = l.quarantined_qty * cost;
            journal.push(
              { account: ACCOUNT.goodsReceivedNotInvoiced, debit: atOrderPrice },
              { account: ACCOUNT.inventory, credit: atCost },
            );
            if (atCost !== atOrderPrice)
              journal.push(
                atCost > atOrderPrice
                  ? { account: ACCOUNT.purchasePriceVariance, debit: atCost - atOrderPrice }
                  : { account: ACCOUNT.purchasePriceVariance, credit: atOrderPrice - atCost },
              );
            await returnQuarantined(tx, l.id, l.received_qty - l.quarantined_qty);
          }
        }
        if (journal.length)
          await postEntry(tx, {
            key: `over-receipt:${input.decisionId}`,
            description: `Over-receipt of ${po.number} returned to the supplier`,
            sourceType: 'over_receipt',
            sourceId: input.decisionId,
            currency: po.currency,
            lines: journal,
          });
        return { moved, received: receivedTotal(await purchaseOrderLines(tx, po.id)), ordersWaiting: [...waiting] };
      });
    },

    /** What has not arrived is cancelled: the order is complete on what was received. */
    async closeShort(input: { poId: string }): Promise<{ cancelled: number }> {
      return inTransaction(db, async (tx) => {
        const po = await lockOrder(tx, input.poId);
        let cancelled = 0;
        for (const l of await purchaseOrderLines(tx, po.id)) {
          const rest = Math.max(0, l.quantity - l.received_qty);
          cancelled += rest;
          await setCancelledQuantity(tx, l.id, rest);
        }
        await setPurchaseOrderStatus(tx, po.id, 'received');
        return { cancelled };
      });
    },

    /**
     * A vendor bill (or a supplier credit note for a held bill) arrives: record
     * it once, match it three ways, and post it when it matches.
     */
    async recordBill(input: {
      poId: string;
      billId: string;
      bill: BillInput;
      tolerances: Tolerances;
      dayMs: number;
    }): Promise<BillResult> {
      return inTransaction(db, async (tx) => {
        const po = await lockOrder(tx, input.poId);
        const existing = await billBySupplierRef(tx, po.supplier_id, input.bill.supplierInvoiceRef);
        if (existing) {
          if (existing.po_id !== po.id)
            throw refuse(
              `supplier invoice ${input.bill.supplierInvoiceRef} was already recorded against another purchase order`,
            );
          const recorded = await billResult(tx, existing.credit_note_for ?? existing.id);
          // This very bill, recorded by an attempt whose answer was lost (a worker died after the commit): answer
          // as the first attempt did, so the process pays it. Only another request with the same reference is a repeat.
          if (existing.id === input.billId)
            return { ...recorded, kind: existing.credit_note_for ? 'credit_note' : 'bill' };
          return { ...recorded, repeat: true };
        }
        const orderLines = await purchaseOrderLines(tx, po.id);
        for (const l of input.bill.lines)
          if (!orderLines.some((o) => o.sku === l.sku)) throw refuse(`${l.sku} is not on purchase order ${po.number}`);
        let billId = input.billId;
        let billLines = input.bill.lines;
        if (input.bill.creditNoteFor) {
          const held = await billAwaitingCreditNote(tx, po.id, input.bill.creditNoteFor);
          if (!held) throw refuse(`no bill ${input.bill.creditNoteFor} of ${po.number} is waiting for a credit note`);
          await insertVendorBill(tx, po, input.billId, input.bill, orderLines, held.id);
          billId = held.id;
          billLines = netOfCreditNote(await vendorBillLines(tx, held.id), input.bill.lines);
        } else {
          await insertVendorBill(tx, po, billId, input.bill, orderLines);
        }
        const match = threeWayMatch(
          orderLines.map((o) => ({
            sku: o.sku,
            ordered: o.quantity,
            received: o.received_qty,
            billedBefore: o.billed_qty,
            orderPrice: Number(o.unit_price),
          })),
          billLines,
          input.tolerances,
        );
        await recordBillMatch(tx, billId, match.matched ? 'matched' : 'mismatch', match.lines);
        if (match.matched) await postBill(tx, billId, input.dayMs);
        const r = await billResult(tx, billId);
        return { ...r, kind: input.bill.creditNoteFor ? 'credit_note' : 'bill' };
      });
    },

    /** A person resolved a three-way mismatch. */
    async settleBill(input: {
      billId: string;
      action: 'accept_bill' | 'reject_bill' | 'await_credit_note';
      dayMs: number;
    }): Promise<BillResult> {
      return inTransaction(db, async (tx) => {
        const bill = await lockVendorBill(tx, input.billId);
        if (bill.status === 'mismatch') {
          if (input.action === 'accept_bill') {
            await setBillStatus(tx, bill.id, 'accepted');
            await postBill(tx, bill.id, input.dayMs);
          } else if (input.action === 'reject_bill') {
            await setBillStatus(tx, bill.id, 'rejected');
            await rejectCreditNotesOf(tx, bill.id);
          } else {
            await setBillStatus(tx, bill.id, 'awaiting_credit_note');
            await rejectCreditNotesOf(tx, bill.id); // a credit note that did not make it match is superseded by the next
          }
        }
        return billResult(tx, bill.id);
      });
    },

    /** Pays a posted bill, net of its credit note, through the bank (once, by bill). */
    async payBill(input: { billId: string }): Promise<{ amount: number; bankReference: string }> {
      const bill = await billToPay(db, input.billId);
      if (!bill.posted_at)
        throw refuse(`bill ${bill.supplier_invoice_ref} is not posted; only a matched or accepted bill is paid`);
      const paid = await paymentOfBill(db, bill.id);
      if (paid) return { amount: Number(paid.amount), bankReference: paid.bank_reference };
      const amount = Number(bill.total) - (await creditedTotal(db, bill.id));
      const { bankReference } = await bank.transfer({
        key: `bill:${bill.id}`,
        payee: bill.supplier_code,
        amount,
        currency: bill.currency,
        reference: `${bill.number} / ${bill.supplier_invoice_ref}`,
      });
      await inTransaction(db, async (tx) => {
        if (!(await recordSupplierPayment(tx, bill.id, amount, bankReference))) return;
        await postEntry(tx, {
          key: `supplier-payment:${bill.id}`,
          description: `Payment of ${bill.supplier_invoice_ref} (${bill.number})`,
          sourceType: 'supplier_payment',
          sourceId: bill.id,
          currency: bill.currency,
          lines: [
            { account: ACCOUNT.payables, debit: amount },
            { account: ACCOUNT.bank, credit: amount },
          ],
        });
        await setBillStatus(tx, bill.id, 'paid');
      });
      return { amount, bankReference };
    },

    async closePurchaseOrder(input: { poId: string }): Promise<void> {
      await markPurchaseOrderClosed(db, input.poId);
    },
  };
}
