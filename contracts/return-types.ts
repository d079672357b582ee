/** Plain types of the return-to-refund process, shared with its activities and the API. */
import type { Duration } from '@temporalio/common';
import type { OrderTimings } from './order-types';

export type Condition = 'new' | 'opened' | 'damaged' | 'defective';
export type Disposition = 'restock' | 'repair' | 'quarantine' | 'scrap';
export type ReturnStatus =
  | 'requested'
  | 'authorised'
  | 'partially_received'
  | 'received'
  | 'inspected'
  | 'awaiting_decision'
  | 'refunding'
  | 'refunded'
  | 'rejected'
  | 'replacement_ordered'
  | 'replaced'
  | 'expired'
  | 'closed';

export interface ReturnPolicy {
  receiptTimeout: Duration;
  inspectionSla: Duration;
  approvalSla: Duration;
  autoApproveLimit: number; // minor units; above it a person decides
  baseCurrency: string;
  orderTimings: OrderTimings; // for a replacement order
}

export interface ReturnInput {
  returnId: string;
  orderId: string;
  resolution: 'refund' | 'replacement';
  policy: ReturnPolicy;
}

export interface ReceiptLine {
  sku: string;
  quantity: number;
}
export interface InspectionLine {
  sku: string;
  quantity: number;
  condition: Condition;
}
export interface InspectedLine extends InspectionLine {
  disposition: Disposition;
}

export interface RefundDecision {
  decision: 'approve' | 'reject' | 'partial';
  amount?: number;
  note: string;
  decidedBy?: string;
}

export interface ReturnProcessState {
  stage: ReturnStatus;
  waitingFor: string | null;
  timeline: { step: string; at: string }[];
}
