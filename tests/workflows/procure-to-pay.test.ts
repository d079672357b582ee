/** Branches of procure-to-pay with stubbed activities (fast layer; tests/e2e runs the real ones). */
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { procureToPay } from '../../workflows/procure-to-pay';
import {
  purchaseBillUpdate,
  purchaseDecisionUpdate,
  purchaseProcessQuery,
  purchaseReceiptUpdate,
} from '../../contracts/purchase-messages';
import type { BillInput, PurchaseInput } from '../../contracts/purchase-types';
import { caseStubs, queryUntil, startHarness, type Harness, type Stubs } from './harness';

let h: Harness;
beforeAll(async () => (h = await startHarness()));
afterAll(async () => h?.stop());

const input = (): PurchaseInput => ({
  poId: randomUUID(),
  number: `PO-${randomUUID().slice(0, 6)}`,
  policy: {
    autoApproveLimit: 1000,
    approvalSla: '1h',
    supplierDay: '100ms',
    lateGrace: '1h',
    receiptTolerancePct: 5,
    matchQtyTolerancePct: 0,
    matchPriceTolerancePct: 1,
  },
});
const bill: BillInput = {
  supplierInvoiceRef: 'SUP-1',
  lines: [{ sku: 'A', quantity: 10, unitPrice: 50 }],
  tax: 0,
  total: 500,
};

function stubs(over: Stubs = {}): Stubs {
  return {
    ...caseStubs(),
    submitPurchaseOrder: () => ({
      lines: [{ sku: 'A', quantity: 10 }],
      total: 500,
      currency: 'EUR',
      supplier: 'Acme',
      needsApproval: false,
      reason: '',
      leadTimeDays: 2,
      paymentTermsDays: 1,
    }),
    requestApproval: () => ({ approvalId: 'ap-1' }),
    escalateApproval: () => undefined,
    recordDecision: () => undefined,
    decidePurchaseOrder: () => undefined,
    sendPurchaseOrder: () => ({ supplierRef: 'S-9', expectedAt: '2026-12-01' }),
    receivePurchase: (i: { receiptId: string; lines: { quantity: number }[] }) => ({
      receiptId: i.receiptId,
      lines: [],
      received: i.lines[0].quantity,
      ordered: 10,
      quarantined: 0,
      ordersWaiting: [],
    }),
    recordBill: (i: { billId: string }) => ({
      billId: i.billId,
      kind: 'bill',
      status: 'matched',
      matched: true,
      posted: true,
      lines: [],
      billedUnits: 10,
    }),
    payBill: () => ({ amount: 500, bankReference: 'BANK-1' }),
    closePurchaseOrder: () => undefined,
    ...over,
  };
}

test('under the limit: approved, sent, received, billed on a match, paid on its terms, closed', async () => {
  h.use(stubs());
  const handle = await h.start(procureToPay, [input()]);
  await queryUntil(
    () => handle.query(purchaseProcessQuery),
    (s) => s.stage === 'sent',
  );
  await expect(
    handle.executeUpdate(purchaseReceiptUpdate, { args: [{ lines: [{ sku: 'B', quantity: 1 }] }] }),
  ).rejects.toThrow(WorkflowUpdateFailedError);
  await handle.executeUpdate(purchaseReceiptUpdate, { args: [{ lines: [{ sku: 'A', quantity: 10 }] }] });
  await handle.executeUpdate(purchaseBillUpdate, { args: [bill] });
  expect(await handle.result()).toEqual({ status: 'closed' });
  expect(h.called('requestApproval')).toEqual([]);
  expect(h.called('payBill')).toHaveLength(1);
  expect(h.called('closePurchaseOrder')).toHaveLength(1);
});

test('over the limit, an approver rejects: nothing is sent', async () => {
  h.use(
    stubs({
      submitPurchaseOrder: () => ({
        lines: [{ sku: 'A', quantity: 10 }],
        total: 5000,
        currency: 'EUR',
        supplier: 'Acme',
        needsApproval: true,
        reason: 'over 1000',
        leadTimeDays: 2,
        paymentTermsDays: 0,
      }),
    }),
  );
  const handle = await h.start(procureToPay, [input()]);
  await queryUntil(
    () => handle.query(purchaseProcessQuery),
    (s) => s.waitingFor.includes("an approver's decision"),
  );
  await handle.executeUpdate(purchaseDecisionUpdate, { args: [{ decision: 'reject', note: 'too dear' }] });
  expect(await handle.result()).toEqual({ status: 'rejected' });
  expect(h.called('sendPurchaseOrder')).toEqual([]);
  await expect(
    handle.executeUpdate(purchaseDecisionUpdate, { args: [{ decision: 'approve', note: 'late' }] }),
  ).rejects.toThrow();
});

test('a mismatched bill waits on a case; accepted, it is paid and the order closes', async () => {
  h.use(
    stubs({
      recordBill: (i: { billId: string }) => ({
        billId: i.billId,
        kind: 'bill',
        status: 'mismatch',
        matched: false,
        posted: false,
        lines: [{ sku: 'A', problem: 'price 60 ≠ 50' }],
        billedUnits: 0,
      }),
      settleBill: (i: { billId: string }) => ({
        billId: i.billId,
        kind: 'bill',
        status: 'accepted',
        matched: false,
        posted: true,
        lines: [],
        billedUnits: 10,
      }),
    }),
  );
  const handle = await h.start(procureToPay, [input()]);
  await queryUntil(
    () => handle.query(purchaseProcessQuery),
    (s) => s.stage === 'sent',
  );
  await handle.executeUpdate(purchaseReceiptUpdate, { args: [{ lines: [{ sku: 'A', quantity: 10 }] }] });
  await handle.executeUpdate(purchaseBillUpdate, { args: [bill] });
  await h.resolveCase('three_way_mismatch', 'accept_bill');
  expect(await handle.result()).toEqual({ status: 'closed' });
  expect(h.called('settleBill')).toEqual([expect.objectContaining({ action: 'accept_bill' })]);
});

test('a late supplier opens a case; cancelling the rest closes on what was received', async () => {
  h.use(
    stubs({
      closeShort: () => ({ cancelled: 6 }),
      recordBill: (i: { billId: string }) => ({
        billId: i.billId,
        kind: 'bill',
        status: 'matched',
        matched: true,
        posted: true,
        lines: [],
        billedUnits: 4,
      }),
    }),
  );
  const handle = await h.start(procureToPay, [{ ...input(), policy: { ...input().policy, lateGrace: '300ms' } }]);
  await queryUntil(
    () => handle.query(purchaseProcessQuery),
    (s) => s.stage === 'sent',
  );
  await handle.executeUpdate(purchaseReceiptUpdate, { args: [{ lines: [{ sku: 'A', quantity: 4 }] }] });
  await h.resolveCase('late_supplier', 'cancel_rest');
  await queryUntil(
    () => handle.query(purchaseProcessQuery),
    (s) => s.stage === 'received',
  );
  await handle.executeUpdate(purchaseBillUpdate, {
    args: [{ ...bill, lines: [{ sku: 'A', quantity: 4, unitPrice: 50 }], total: 200 }],
  });
  expect(await handle.result()).toEqual({ status: 'closed' });
  expect(h.called('closeShort')).toHaveLength(1);
});
