/** Plain types of procure-to-pay and replenishment planning, shared with their activities and the API. */
import type { Duration } from '@temporalio/common';

export interface PurchasePolicy {
  autoApproveLimit: number; // minor units; above it an approver decides
  approvalSla: Duration;
  supplierDay: Duration; // one day of lead time or payment terms (tests: a second)
  lateGrace: Duration; // after the expected receipt date, before the supplier counts as late
  receiptTolerancePct: number; // units beyond the order accepted without a case
  matchQtyTolerancePct: number;
  matchPriceTolerancePct: number;
  exceptionSla?: Duration; // overrides of the catalogue's case thresholds (tests, demos)
  exceptionSecondSla?: Duration;
}

export interface PurchaseInput {
  poId: string;
  number: string;
  policy: PurchasePolicy;
}

export type PurchaseStage =
  'awaiting_approval' | 'approved' | 'rejected' | 'sent' | 'partially_received' | 'received' | 'closed' | 'cancelled';

export interface PurchaseLine {
  sku: string;
  quantity: number;
}
export interface BillLine {
  sku: string;
  quantity: number;
  unitPrice: number;
}
export interface BillInput {
  supplierInvoiceRef: string;
  creditNoteFor?: string; // the supplier invoice ref this credit note corrects
  lines: BillLine[];
  tax: number;
  total: number;
}

export interface PurchaseDecision {
  decision: 'approve' | 'reject';
  note: string;
  decidedBy?: string;
}

export interface MatchLine {
  sku: string;
  ordered: number;
  received: number;
  billable: number; // received and not yet billed
  billed: number;
  orderPrice: number;
  billedPrice: number;
  quantityOk: boolean;
  priceOk: boolean;
  problem?: string;
}

export interface BillResult {
  billId: string;
  kind: 'bill' | 'credit_note';
  status: string; // matched, mismatch, ...
  matched: boolean;
  posted: boolean; // on the books as payable (matched, or accepted by a person)
  lines: MatchLine[];
  billedUnits: number; // units billed on the whole order so far (posted bills, net of credit notes)
  repeat?: boolean; // this document was already recorded; nothing changed
}

export interface ReceiptResult {
  receiptId: string;
  lines: { sku: string; intoStock: number; quarantined: number; unitCost: number }[];
  received: number;
  ordered: number;
  quarantined: number;
  ordersWaiting: string[];
}

export interface PurchaseProcessState {
  stage: PurchaseStage;
  waitingFor: string[];
  timeline: { step: string; at: string }[];
}

export interface ReplenishmentInput {
  trigger: 'schedule' | 'manual';
  runId?: string;
  policy: PurchasePolicy;
}

export interface PlannedOrder {
  poId: string;
  number: string;
  supplier: string;
  warehouse: string;
  total: number;
  currency: string;
  lines: { sku: string; quantity: number; unitPrice: number }[];
}
