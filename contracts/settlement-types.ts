/**
 * Money after the sale, as the provider states it and as our processes pass it around: payouts (what the
 * provider paid to the bank and which captures, refunds, fees and dispute movements it settles) and disputes
 * (chargebacks). Plain types: shared by the provider adapters, the activities, the workflows and the API.
 */
import { defineSignal } from '@temporalio/workflow';

export type PayoutLineKind = 'capture' | 'refund' | 'dispute' | 'dispute_reversal' | 'order' | 'adjustment';

export interface PayoutLine {
  kind: PayoutLineKind;
  ref: string; // the provider's capture, refund or dispute reference; a marketplace's order id; an adjustment's own
  amount: number; // minor units, signed: + paid to us (a capture, an order), − taken back (a refund, a dispute)
  fee: number; // the provider's fee on this line (minor units, ≥ 0)
  commission?: number; // a marketplace's commission on the order (minor units, ≥ 0)
}

/** A payment provider's payout, or a marketplace's statement: the same reconciliation takes both. */
export interface Payout {
  payoutId: string;
  currency: string;
  net: number; // paid to the bank
  paidAt: string;
  lines: PayoutLine[];
}

/** A payout to import: the payment provider's (no channel), or a marketplace channel's statement. */
export interface PayoutToImport {
  payoutId: string;
  channel?: string;
}

export type DisputeStatus = 'needs_response' | 'under_review' | 'won' | 'lost';

export interface ProviderDispute {
  disputeId: string;
  captureRef: string;
  amount: number;
  currency: string;
  reason: string;
  status: DisputeStatus;
  evidenceDueBy: string;
}

export type DisputeOutcome = 'won' | 'lost';

/** The provider decided a dispute it had under review (its signed `dispute.closed` webhook). */
export const disputeClosedSignal = defineSignal<[DisputeOutcome]>('disputeClosed');

export type MismatchAction = 'accept' | 'write_off' | 'wait';

export interface SettlementMismatch {
  mismatchId: string;
  kind: 'unknown_reference' | 'amount_differs' | 'net_differs';
  amount: number; // held in suspense, signed: + we received less than expected
  ref: string | null; // the line's reference; null for the payout's total
}
