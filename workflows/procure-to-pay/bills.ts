/** Bills: a three-way match posts a bill and pays it on its terms; a mismatch waits on a person (a case). */
import { condition, sleep } from '@temporalio/workflow';
import type { BillResult } from '../../contracts/purchase-types';
import { openCase } from '../cases';
import { act, type PurchaseProcess } from './state';

/** What follows a recorded bill runs beside the main line: its payment, or a decision on its mismatch. */
export function afterBill(p: PurchaseProcess, r: BillResult, attempt = 1): void {
  p.billedUnits = r.billedUnits;
  if (r.posted) p.beside(`payment of bill ${p.billRefs.get(r.billId)} on its terms`, () => pay(p, r.billId));
  else if (r.status === 'mismatch')
    p.beside(`a decision on the mismatch of bill ${p.billRefs.get(r.billId)} (exception case)`, () =>
      mismatch(p, r, attempt),
    );
}

/** A posted bill is paid when its payment terms fall due (a timer). */
async function pay(p: PurchaseProcess, billId: string): Promise<void> {
  p.unpaid.add(billId);
  if (p.paymentTermsDays > 0) await sleep(p.paymentTermsDays * p.day);
  const paid = await act.payBill({ billId });
  p.unpaid.delete(billId);
  p.mark(`paid ${paid.amount} for bill ${p.billRefs.get(billId)} (${paid.bankReference})`);
}

/** A person accepts the bill, rejects it, or waits for the supplier's credit note. */
async function mismatch(p: PurchaseProcess, r: BillResult, attempt: number): Promise<void> {
  const ref = p.billRefs.get(r.billId);
  const problems = r.lines
    .filter((l) => l.problem)
    .map((l) => `${l.sku}: ${l.problem}`)
    .join('; ');
  const c = await openCase({
    type: 'three_way_mismatch',
    key: `three_way_mismatch:${r.billId}:${attempt}`,
    subjectType: 'vendor_bill',
    subjectId: r.billId,
    summary: `Bill ${ref} of ${p.input.number} does not match: ${problems}`,
    details: { lines: r.lines },
    ...p.caseTimings,
  });
  await condition(() => c.outcome() !== undefined);
  const o = c.outcome()!;
  if (o.outcome !== 'resolved') return;
  const action = o.resolution.action as 'accept_bill' | 'reject_bill' | 'await_credit_note';
  // Before the bill reads awaiting_credit_note: a credit note sent at that moment is taken.
  if (action === 'await_credit_note') p.awaitingCredit.set(ref!, r.billId);
  const settled = await act.settleBill({ billId: r.billId, action, dayMs: p.day });
  p.mark(`bill ${ref}: ${action.replace(/_/g, ' ')}`);
  p.mismatchRounds.set(r.billId, attempt + 1);
  afterBill(p, settled, attempt + 1);
}
