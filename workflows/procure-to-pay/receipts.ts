/** Goods in: receipts until the order is complete, a late supplier, and goods beyond the order's tolerance. */
import { condition } from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common/lib/time';
import { openCase } from '../cases';
import { act, notifyWaitingOrders, type PurchaseProcess } from './state';

/** Receipts until the order is complete; past the expected date plus grace the supplier is late (a case). */
export async function receiveAll(p: PurchaseProcess, leadTimeDays: number): Promise<void> {
  const grace = msToNumber(p.input.policy.lateGrace);
  let wait = leadTimeDays * p.day + grace;
  for (let attempt = 1; ; attempt++) {
    if (await p.until('the goods (warehouse receipt)', () => p.received >= p.ordered, wait)) return;
    const c = await openCase({
      type: 'late_supplier',
      key: `late_supplier:${p.poId}:${attempt}`,
      subjectType: 'purchase_order',
      subjectId: p.poId,
      summary: `${p.input.number}: ${p.received} of ${p.ordered} unit(s) received, past the expected date and its grace`,
      ...p.caseTimings,
    });
    p.mark(`supplier late: ${p.received} of ${p.ordered} received`);
    await p.until(
      'the goods, or a decision on the late supplier (exception case)',
      () => p.received >= p.ordered || c.outcome() !== undefined,
    );
    if (p.received >= p.ordered) {
      await c.causeGone('the goods arrived');
      return;
    }
    const o = c.outcome()!;
    if (o.outcome === 'resolved' && o.resolution.action === 'cancel_rest') {
      const { cancelled } = await act.closeShort({ poId: p.poId });
      p.ordered -= cancelled;
      p.mark(`the rest (${cancelled} unit(s)) cancelled; closing on what was received`);
      return;
    }
    wait = grace; // keep waiting: another grace period before asking again
  }
}

/** Units beyond the order and its tolerance wait in quarantine for a person: accepted into stock, or sent back. */
export async function overReceipt(p: PurchaseProcess, receiptId: string, quarantined: number): Promise<void> {
  const c = await openCase({
    type: 'over_receipt',
    key: `over_receipt:${receiptId}`,
    subjectType: 'purchase_order',
    subjectId: p.poId,
    summary: `${quarantined} unit(s) beyond the order and its tolerance arrived for ${p.input.number}; they are held in quarantine`,
    ...p.caseTimings,
  });
  await condition(() => c.outcome() !== undefined);
  const o = c.outcome()!;
  if (o.outcome !== 'resolved') return;
  const action = o.resolution.action as 'accept' | 'return_to_supplier';
  const settled = await act.settleOverReceipt({ poId: p.poId, decisionId: c.exceptionId, action });
  p.received = settled.received;
  p.mark(
    `over-receipt: ${settled.moved} unit(s) ${action === 'accept' ? 'accepted into stock' : 'returned to the supplier'}`,
  );
  await notifyWaitingOrders(settled.ordersWaiting);
}
