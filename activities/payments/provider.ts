/** The payment provider as the platform sees it. Real providers and the sandbox implement the same shape. */
import type { Payout, ProviderDispute } from '../../contracts/settlement-types';

export type RiskVerdict = 'approve' | 'review';

export interface ProviderResult {
  approved: boolean;
  providerRef: string;
  reason?: string;
}

export interface PaymentProvider {
  readonly name: string;
  assessRisk(input: { token: string; amount: number; currency: string; email: string }): Promise<RiskVerdict>;
  /** Every money-moving call carries an idempotency key; the provider answers a repeat with the first result. */
  authorize(input: {
    token: string;
    amount: number;
    currency: string;
    idempotencyKey: string;
  }): Promise<ProviderResult>;
  capture(input: { authorizationRef: string; amount: number; idempotencyKey: string }): Promise<ProviderResult>;
  void(input: { authorizationRef: string; amount: number; idempotencyKey: string }): Promise<ProviderResult>;
  refund(input: { captureRef: string; amount: number; idempotencyKey: string }): Promise<ProviderResult>;
  /** The provider's own record of a call, to reconcile our books against. */
  lookup(idempotencyKey: string): Promise<{ amount: number; approved: boolean; providerRef: string } | undefined>;
  /** The ids of the payouts made so far, oldest first (a real provider pages them by date). */
  payouts(): Promise<string[]>;
  /** One payout's report: the net paid and every capture, refund, fee and dispute movement it settles. */
  payout(payoutId: string): Promise<Payout | undefined>;
  dispute(disputeId: string): Promise<ProviderDispute | undefined>;
  /** Answers a chargeback: evidence for the provider to decide on, or accepting the loss. Safe to repeat. */
  respondToDispute(input: { disputeId: string; evidence?: string; accept?: boolean }): Promise<ProviderDispute>;
}

/** A provider that did not answer in time; the activity retries with the same idempotency key. */
export class ProviderTimeoutError extends Error {
  override name = 'ProviderTimeoutError';
}
