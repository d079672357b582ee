/**
 * Procure-to-pay: one workflow per purchase order, id `po-<number>`.
 *
 *   approval (automatic under the limit, else an approver with an SLA that escalates)
 *     ─► sent to the supplier (expected date = lead time)
 *     ─► receipts (partial allowed; beyond tolerance → quarantine + over_receipt case;
 *                  nothing complete by expected date + grace → late_supplier case)
 *     ─► bills: three-way match → posted, or a three_way_mismatch case
 *               (accept, reject, or wait for the supplier's credit note)
 *     ─► each posted bill paid when its payment terms fall due (a timer)
 *     ─► closed when received and paid in full
 *
 * Receipts and bills arrive as updates at any time after sending; cases and
 * payments run beside the main line, which waits for all of them before closing.
 */
import { condition, getExternalWorkflowHandle, proxyActivities, setHandler, sleep, uuid4, allHandlersFinished } from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common/lib/time';
import type { Activities } from '../activities';
import { openCase } from './cases';
import { stockAvailableSignal } from '../contracts/order-messages';
import { purchaseBillUpdate, purchaseDecisionUpdate, purchaseProcessQuery, purchaseReceiptUpdate } from '../contracts/purchase-messages';
import type { BillResult, PurchaseDecision, PurchaseInput, PurchaseStage } from '../contracts/purchase-types';
import { purchaseWorkflowId } from '../contracts/workflow-ids';

const act = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const TAKES_GOODS: PurchaseStage[] = ['sent', 'partially_received', 'received'];

export async function procureToPay(input: PurchaseInput): Promise<{ status: PurchaseStage }> {
  const { poId, policy } = input;
  const day = msToNumber(policy.supplierDay);
  const tolerances = { qtyPct: policy.matchQtyTolerancePct, pricePct: policy.matchPriceTolerancePct };
  const caseTimings = { sla: policy.exceptionSla, secondSla: policy.exceptionSecondSla };
  let stage: PurchaseStage = 'awaiting_approval';
  const waiting = new Set<string>();
  const timeline: { step: string; at: string }[] = [];
  let decision = null as PurchaseDecision | null;
  let skus: string[] = [];
  let ordered = 0;
  let received = 0;
  let billedUnits = 0;
  let paymentTermsDays = 0;
  const unpaid = new Set<string>(); // posted bills whose terms have not fallen due
  const awaitingCredit = new Map<string, string>(); // supplier invoice ref → held bill id
  const billRefs = new Map<string, string>(); // bill id → supplier invoice ref
  let running = 0; // cases and payments in progress beside the main line
  let failure: unknown = null;
  let awaitingDecision = false;
  const mismatchRounds = new Map<string, number>(); // bill id → the round of its next mismatch case

  const mark = (step: string) => timeline.push({ step, at: new Date().toISOString() });
  /** Work beside the main line (a case, a payment); a failure of it fails the process instead of vanishing. */
  function beside(what: string, work: () => Promise<void>) {
    running++;
    waiting.add(what);
    void work().catch((err) => void (failure ??= err)).finally(() => {
      running--;
      waiting.delete(what);
    });
  }
  async function until(what: string, ready: () => boolean, timeoutMs?: number): Promise<boolean> {
    waiting.add(what);
    const check = () => ready() || failure !== null;
    const ok = timeoutMs === undefined ? (await condition(check), true) : await condition(check, timeoutMs);
    waiting.delete(what);
    if (failure) throw failure;
    return ok;
  }
  async function notifyWaitingOrders(workflowIds: string[]) {
    // Backorders waiting for these SKUs re-try their reservation now, not at their next timer.
    await Promise.all(workflowIds.map((id) => getExternalWorkflowHandle(id).signal(stockAvailableSignal).catch(() => undefined)));
  }

  setHandler(purchaseProcessQuery, () => ({ stage, waitingFor: [...waiting], timeline }));
  setHandler(purchaseDecisionUpdate, (d) => {
    decision = d;
    mark(`decision: ${d.decision}${d.decidedBy ? ` by ${d.decidedBy}` : ''}`);
    return { accepted: true };
  }, {
    validator: (_d: PurchaseDecision) => {
      if (!awaitingDecision || decision) throw new Error(`no decision is awaited (the purchase order is ${stage})`);
    },
  });

  setHandler(purchaseReceiptUpdate, async ({ lines }) => {
    // Goods can arrive while the order is still being sent (the status already reads sent): apply them once it is.
    if (stage === 'approved') await condition(() => stage !== 'approved');
    const r = await act.receivePurchase({ poId, receiptId: uuid4(), lines, tolerancePct: policy.receiptTolerancePct });
    received = r.received;
    ordered = r.ordered;
    if (TAKES_GOODS.includes(stage)) stage = received >= ordered ? 'received' : 'partially_received';
    mark(`received ${lines.map((l) => `${l.quantity} ${l.sku}`).join(', ')} (${received} of ${ordered})${r.quarantined ? `; ${r.quarantined} beyond tolerance held in quarantine` : ''}`);
    await notifyWaitingOrders(r.ordersWaiting);
    if (r.quarantined > 0) beside('a decision on the over-receipt (exception case)', () => overReceipt(r.receiptId, r.quarantined));
    return r;
  }, {
    validator: ({ lines }) => {
      if (!TAKES_GOODS.includes(stage) && stage !== 'approved') throw new Error(`purchase order ${input.number} is ${stage}; it takes no goods`);
      if (lines.length === 0) throw new Error('a receipt needs at least one line');
      for (const l of lines) if (!skus.includes(l.sku)) throw new Error(`${l.sku} is not on purchase order ${input.number}`);
    },
  });

  setHandler(purchaseBillUpdate, async (bill) => {
    const r = await act.recordBill({ poId, billId: uuid4(), bill, tolerances, dayMs: day });
    if (r.repeat) return r;
    billRefs.set(r.billId, bill.creditNoteFor ?? bill.supplierInvoiceRef);
    if (bill.creditNoteFor) awaitingCredit.delete(bill.creditNoteFor);
    const round = bill.creditNoteFor ? (mismatchRounds.get(r.billId) ?? 1) : 1; // a credit note that still mismatches opens a new case
    mark(`${bill.creditNoteFor ? `credit note ${bill.supplierInvoiceRef} for ${bill.creditNoteFor}` : `bill ${bill.supplierInvoiceRef}`}: ${r.matched ? 'three-way match' : 'mismatch'}`);
    afterBill(r, round);
    return r;
  }, {
    validator: (bill) => {
      if (!TAKES_GOODS.includes(stage)) throw new Error(`purchase order ${input.number} is ${stage}; it takes no bills`);
      if (bill.lines.length === 0) throw new Error('a bill needs at least one line');
      for (const l of bill.lines) if (!skus.includes(l.sku)) throw new Error(`${l.sku} is not on purchase order ${input.number}`);
      if (bill.creditNoteFor && !awaitingCredit.has(bill.creditNoteFor)) throw new Error(`no bill ${bill.creditNoteFor} of ${input.number} is waiting for a credit note`);
    },
  });

  function afterBill(r: BillResult, attempt = 1) {
    billedUnits = r.billedUnits;
    if (r.posted) beside(`payment of bill ${billRefs.get(r.billId)} on its terms`, () => pay(r.billId));
    else if (r.status === 'mismatch') beside(`a decision on the mismatch of bill ${billRefs.get(r.billId)} (exception case)`, () => mismatch(r, attempt));
  }

  async function pay(billId: string) {
    unpaid.add(billId);
    if (paymentTermsDays > 0) await sleep(paymentTermsDays * day);
    const paid = await act.payBill({ billId });
    unpaid.delete(billId);
    mark(`paid ${paid.amount} for bill ${billRefs.get(billId)} (${paid.bankReference})`);
  }

  async function mismatch(r: BillResult, attempt: number) {
    const problems = r.lines.filter((l) => l.problem).map((l) => `${l.sku}: ${l.problem}`).join('; ');
    const c = await openCase({
      type: 'three_way_mismatch', key: `three_way_mismatch:${r.billId}:${attempt}`, subjectType: 'vendor_bill', subjectId: r.billId,
      summary: `Bill ${billRefs.get(r.billId)} of ${input.number} does not match: ${problems}`, details: { lines: r.lines }, ...caseTimings,
    });
    await condition(() => c.outcome() !== undefined);
    const o = c.outcome()!;
    if (o.outcome !== 'resolved') return;
    const action = o.resolution.action as 'accept_bill' | 'reject_bill' | 'await_credit_note';
    // Before the bill reads awaiting_credit_note: a credit note sent at that moment is taken.
    if (action === 'await_credit_note') awaitingCredit.set(billRefs.get(r.billId)!, r.billId);
    const settled = await act.settleBill({ billId: r.billId, action, dayMs: day });
    mark(`bill ${billRefs.get(r.billId)}: ${action.replace(/_/g, ' ')}`);
    mismatchRounds.set(r.billId, attempt + 1);
    afterBill(settled, attempt + 1);
  }

  async function overReceipt(receiptId: string, quarantined: number) {
    const c = await openCase({
      type: 'over_receipt', key: `over_receipt:${receiptId}`, subjectType: 'purchase_order', subjectId: poId,
      summary: `${quarantined} unit(s) beyond the order and its tolerance arrived for ${input.number}; they are held in quarantine`, ...caseTimings,
    });
    await condition(() => c.outcome() !== undefined);
    const o = c.outcome()!;
    if (o.outcome !== 'resolved') return;
    const action = o.resolution.action as 'accept' | 'return_to_supplier';
    const settled = await act.settleOverReceipt({ poId, decisionId: c.exceptionId, action });
    received = settled.received;
    mark(`over-receipt: ${settled.moved} unit(s) ${action === 'accept' ? 'accepted into stock' : 'returned to the supplier'}`);
    await notifyWaitingOrders(settled.ordersWaiting);
  }

  /** Receipts until the order is complete; past the expected date plus grace the supplier is late (a case). */
  async function receiveAll(leadTimeDays: number) {
    const grace = msToNumber(policy.lateGrace);
    let wait = leadTimeDays * day + grace;
    for (let attempt = 1; ; attempt++) {
      if (await until('the goods (warehouse receipt)', () => received >= ordered, wait)) return;
      const c = await openCase({
        type: 'late_supplier', key: `late_supplier:${poId}:${attempt}`, subjectType: 'purchase_order', subjectId: poId,
        summary: `${input.number}: ${received} of ${ordered} unit(s) received, past the expected date and its grace`, ...caseTimings,
      });
      mark(`supplier late: ${received} of ${ordered} received`);
      await until('the goods, or a decision on the late supplier (exception case)', () => received >= ordered || c.outcome() !== undefined);
      if (received >= ordered) {
        await c.causeGone('the goods arrived');
        return;
      }
      const o = c.outcome()!;
      if (o.outcome === 'resolved' && o.resolution.action === 'cancel_rest') {
        const { cancelled } = await act.closeShort({ poId });
        ordered -= cancelled;
        mark(`the rest (${cancelled} unit(s)) cancelled; closing on what was received`);
        return;
      }
      wait = grace; // keep waiting: another grace period before asking again
    }
  }

  // 1. Approval.
  const facts = await act.submitPurchaseOrder({ poId, autoApproveLimit: policy.autoApproveLimit });
  skus = facts.lines.map((l) => l.sku);
  ordered = facts.lines.reduce((s, l) => s + l.quantity, 0);
  paymentTermsDays = facts.paymentTermsDays;
  mark(`submitted: ${facts.total} ${facts.currency} to ${facts.supplier}`);
  if (facts.needsApproval) {
    awaitingDecision = true; // before the inbox shows it: whoever sees it can decide at once
    const { approvalId } = await act.requestApproval({
      key: `po:${poId}:approval`, kind: 'purchase_order', subjectType: 'purchase_order', subjectId: poId, workflowId: purchaseWorkflowId(input.number),
      amount: facts.total, currency: facts.currency, reason: facts.reason, slaMs: msToNumber(policy.approvalSla),
    });
    if (!(await until('an approver\'s decision', () => decision !== null, msToNumber(policy.approvalSla)))) {
      await act.escalateApproval({ approvalId });
      mark('approval SLA lapsed: escalated');
      await until('an approver\'s decision (escalated)', () => decision !== null);
    }
    awaitingDecision = false;
    const d = decision!;
    await act.recordDecision({ approvalId, ...d });
    await act.decidePurchaseOrder({ poId, ...d });
    if (d.decision === 'reject') {
      stage = 'rejected';
      await condition(allHandlersFinished);
      return { status: stage };
    }
  } else {
    mark('approved automatically (under the limit)');
  }
  stage = 'approved';

  // 2. Sent to the supplier.
  const sent = await act.sendPurchaseOrder({ poId, leadTimeDays: facts.leadTimeDays, dayMs: day });
  stage = 'sent';
  mark(`sent to ${facts.supplier} (${sent.supplierRef}); expected ${sent.expectedAt}`);

  // 3. Receipts, 4. bills and 5. payments; close when everything is settled.
  await receiveAll(facts.leadTimeDays);
  stage = 'received';
  await until('the supplier\'s bill for what was received', () => billedUnits >= received && unpaid.size === 0 && awaitingCredit.size === 0 && running === 0);
  await act.closePurchaseOrder({ poId });
  stage = 'closed';
  waiting.clear();
  mark('closed: received and paid in full');
  await condition(allHandlersFinished);
  return { status: stage };
}
