/**
 * What approvers and the warehouse and accounts payable tell a purchase order: a decision, receipts and
 * bills. Validators refuse what the order cannot take, before it enters the history.
 */
import { condition, setHandler, uuid4 } from '@temporalio/workflow';
import {
  purchaseBillUpdate,
  purchaseDecisionUpdate,
  purchaseProcessQuery,
  purchaseReceiptUpdate,
} from '../../contracts/purchase-messages';
import type {
  BillInput,
  BillResult,
  PurchaseDecision,
  PurchaseLine,
  ReceiptResult,
} from '../../contracts/purchase-types';
import { afterBill } from './bills';
import { overReceipt } from './receipts';
import { act, notifyWaitingOrders, TAKES_GOODS, type PurchaseProcess } from './state';

export function listen(p: PurchaseProcess): void {
  setHandler(purchaseProcessQuery, () => ({ stage: p.stage, waitingFor: p.waits.all, timeline: p.timeline.steps }));
  setHandler(
    purchaseDecisionUpdate,
    (d) => {
      p.decision = d;
      p.mark(`decision: ${d.decision}${d.decidedBy ? ` by ${d.decidedBy}` : ''}`);
      return { accepted: true };
    },
    {
      validator: (_d: PurchaseDecision) => {
        if (!p.awaitingDecision || p.decision)
          throw new Error(`no decision is awaited (the purchase order is ${p.stage})`);
      },
    },
  );
  setHandler(purchaseReceiptUpdate, ({ lines }) => receive(p, lines), {
    validator: ({ lines }) => {
      if (!TAKES_GOODS.includes(p.stage) && p.stage !== 'approved')
        throw new Error(`purchase order ${p.input.number} is ${p.stage}; it takes no goods`);
      if (lines.length === 0) throw new Error('a receipt needs at least one line');
      onTheOrder(p, lines);
    },
  });
  setHandler(purchaseBillUpdate, (bill) => recordBill(p, bill), {
    validator: (bill) => {
      if (!TAKES_GOODS.includes(p.stage))
        throw new Error(`purchase order ${p.input.number} is ${p.stage}; it takes no bills`);
      if (bill.lines.length === 0) throw new Error('a bill needs at least one line');
      onTheOrder(p, bill.lines);
      if (bill.creditNoteFor && !p.awaitingCredit.has(bill.creditNoteFor))
        throw new Error(`no bill ${bill.creditNoteFor} of ${p.input.number} is waiting for a credit note`);
    },
  });
}

function onTheOrder(p: PurchaseProcess, lines: { sku: string }[]): void {
  for (const l of lines)
    if (!p.skus.includes(l.sku)) throw new Error(`${l.sku} is not on purchase order ${p.input.number}`);
}

async function receive(p: PurchaseProcess, lines: PurchaseLine[]): Promise<ReceiptResult> {
  // Goods can arrive while the order is still being sent (the status already reads sent): apply them once it is.
  if (p.stage === 'approved') await condition(() => p.stage !== 'approved');
  const r = await act.receivePurchase({
    poId: p.poId,
    receiptId: uuid4(),
    lines,
    tolerancePct: p.input.policy.receiptTolerancePct,
  });
  p.received = r.received;
  p.ordered = r.ordered;
  if (TAKES_GOODS.includes(p.stage)) p.stage = p.received >= p.ordered ? 'received' : 'partially_received';
  p.mark(
    `received ${lines.map((l) => `${l.quantity} ${l.sku}`).join(', ')} (${p.received} of ${p.ordered})${r.quarantined ? `; ${r.quarantined} beyond tolerance held in quarantine` : ''}`,
  );
  await notifyWaitingOrders(r.ordersWaiting);
  if (r.quarantined > 0)
    p.beside('a decision on the over-receipt (exception case)', () => overReceipt(p, r.receiptId, r.quarantined));
  return r;
}

async function recordBill(p: PurchaseProcess, bill: BillInput): Promise<BillResult> {
  const r = await act.recordBill({ poId: p.poId, billId: uuid4(), bill, tolerances: p.tolerances, dayMs: p.day });
  if (r.repeat) return r;
  p.billRefs.set(r.billId, bill.creditNoteFor ?? bill.supplierInvoiceRef);
  if (bill.creditNoteFor) p.awaitingCredit.delete(bill.creditNoteFor);
  const round = bill.creditNoteFor ? (p.mismatchRounds.get(r.billId) ?? 1) : 1; // a credit note that still mismatches opens a new case
  p.mark(
    `${bill.creditNoteFor ? `credit note ${bill.supplierInvoiceRef} for ${bill.creditNoteFor}` : `bill ${bill.supplierInvoiceRef}`}: ${r.matched ? 'three-way match' : 'mismatch'}`,
  );
  afterBill(p, r, round);
  return r;
}
