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
 * Receipts and bills arrive as updates at any time after sending (handlers.ts); cases and payments run
 * beside the main line, which waits for all of them before closing.
 */
import { allHandlersFinished, condition } from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common/lib/time';
import type { PurchaseInput, PurchaseStage } from '../../contracts/purchase-types';
import { purchaseWorkflowId } from '../../contracts/workflow-ids';
import { listen } from './handlers';
import { receiveAll } from './receipts';
import { act, PurchaseProcess } from './state';

export async function procureToPay(input: PurchaseInput): Promise<{ status: PurchaseStage }> {
  const p = new PurchaseProcess(input);
  listen(p);
  const facts = await act.submitPurchaseOrder({ poId: p.poId, autoApproveLimit: input.policy.autoApproveLimit });
  p.skus = facts.lines.map((l) => l.sku);
  p.ordered = facts.lines.reduce((s, l) => s + l.quantity, 0);
  p.paymentTermsDays = facts.paymentTermsDays;
  p.mark(`submitted: ${facts.total} ${facts.currency} to ${facts.supplier}`);
  if (!(await approve(p, facts))) return end(p, 'rejected');
  p.stage = 'approved';

  const sent = await act.sendPurchaseOrder({ poId: p.poId, leadTimeDays: facts.leadTimeDays, dayMs: p.day });
  p.stage = 'sent';
  p.mark(`sent to ${facts.supplier} (${sent.supplierRef}); expected ${sent.expectedAt}`);

  await receiveAll(p, facts.leadTimeDays);
  p.stage = 'received';
  await p.until(
    "the supplier's bill for what was received",
    () => p.billedUnits >= p.received && p.unpaid.size === 0 && p.awaitingCredit.size === 0 && p.settled,
  );
  await act.closePurchaseOrder({ poId: p.poId });
  p.waits.clear();
  p.mark('closed: received and paid in full');
  return end(p, 'closed');
}

type Facts = Awaited<ReturnType<typeof act.submitPurchaseOrder>>;

/** Under the limit: approved at once. Else an approver decides; past the SLA it escalates. False: rejected. */
async function approve(p: PurchaseProcess, facts: Facts): Promise<boolean> {
  if (!facts.needsApproval) {
    p.mark('approved automatically (under the limit)');
    return true;
  }
  const { policy } = p.input;
  p.awaitingDecision = true; // before the inbox shows it: whoever sees it can decide at once
  const { approvalId } = await act.requestApproval({
    key: `po:${p.poId}:approval`,
    kind: 'purchase_order',
    subjectType: 'purchase_order',
    subjectId: p.poId,
    workflowId: purchaseWorkflowId(p.input.number),
    amount: facts.total,
    currency: facts.currency,
    reason: facts.reason,
    slaMs: msToNumber(policy.approvalSla),
  });
  if (!(await p.until("an approver's decision", () => p.decision !== null, msToNumber(policy.approvalSla)))) {
    await act.escalateApproval({ approvalId });
    p.mark('approval SLA lapsed: escalated');
    await p.until("an approver's decision (escalated)", () => p.decision !== null);
  }
  p.awaitingDecision = false;
  const d = p.decision!;
  await act.recordDecision({ approvalId, ...d });
  await act.decidePurchaseOrder({ poId: p.poId, ...d });
  return d.decision !== 'reject';
}

async function end(p: PurchaseProcess, status: PurchaseStage): Promise<{ status: PurchaseStage }> {
  p.stage = status;
  await condition(allHandlersFinished);
  return { status };
}
