/** The messages a purchase order's process understands. All are updates: the caller gets the outcome back. */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type {
  BillInput,
  BillResult,
  PurchaseDecision,
  PurchaseLine,
  PurchaseProcessState,
  ReceiptResult,
} from './purchase-types';

export const purchaseProcessQuery = defineQuery<PurchaseProcessState>('purchaseProcess');
export const purchaseDecisionUpdate = defineUpdate<{ accepted: true }, [PurchaseDecision]>('decide');
export const purchaseReceiptUpdate = defineUpdate<ReceiptResult, [{ warehouse?: string; lines: PurchaseLine[] }]>(
  'receive',
);
export const purchaseBillUpdate = defineUpdate<BillResult, [BillInput]>('bill');
