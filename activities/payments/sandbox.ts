/**
 * The sandbox payment provider. It behaves like a real one, driven by the
 * card token: tok_decline declines, tok_review is held for fraud review,
 * tok_flaky times out on its first two attempts and then approves, anything
 * else approves. Refunds are checked against their capture. It keeps its own ledger (sandbox_payment_ledger) keyed by the
 * caller's idempotency key, so a retried call never charges twice, and the
 * drills can compare our books with the provider's.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../db';
import {
  countSandboxAttempt,
  recordSandboxLedgerEntry,
  sandboxApproved,
  sandboxDrawnOnAuthorization,
  sandboxLedgerEntry,
  sandboxRefundedOnCapture,
} from '../../db/payments';
import {
  cutDailySandboxPayout,
  respondToSandboxDispute,
  sandboxDispute,
  sandboxPayout,
  sandboxPayoutIds,
} from '../../db/sandbox-payouts';
import { PaymentProvider, ProviderResult, ProviderTimeoutError } from './provider';

const FLAKY_FAILURES = 2;

export function sandboxPaymentProvider(db: Db): PaymentProvider {
  async function once(
    key: string,
    operation: string,
    compute: () => Promise<Omit<ProviderResult, 'providerRef'>>,
    extra: { token?: string; parentRef?: string; amount: number },
  ): Promise<ProviderResult> {
    const existing = await sandboxLedgerEntry(db, key);
    if (existing) return { approved: existing.outcome === 'approved', providerRef: existing.provider_ref };
    const result = await compute();
    const providerRef = `sbx_${operation.slice(0, 4)}_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const inserted = await recordSandboxLedgerEntry(db, {
      key,
      operation,
      token: extra.token,
      parentRef: extra.parentRef,
      amount: extra.amount,
      providerRef,
      outcome: result.approved ? 'approved' : 'declined',
    });
    if (!inserted) return once(key, operation, compute, extra); // a concurrent twin won; answer with its result
    return { ...result, providerRef };
  }

  async function requireAuthorization(ref: string, amount: number) {
    const auth = await sandboxApproved(db, ref, 'authorize');
    if (!auth) return { approved: false, reason: 'unknown authorization' };
    if ((await sandboxDrawnOnAuthorization(db, ref)) + amount > auth.amount)
      return { approved: false, reason: 'amount exceeds the authorization' };
    return { approved: true };
  }

  async function requireCapture(ref: string, amount: number) {
    const capture = await sandboxApproved(db, ref, 'capture');
    if (!capture) return { approved: false, reason: 'unknown capture' };
    if ((await sandboxRefundedOnCapture(db, ref)) + amount > capture.amount)
      return { approved: false, reason: 'refund exceeds the capture' };
    return { approved: true };
  }

  return {
    name: 'sandbox',
    async assessRisk({ token }) {
      return token === 'tok_review' ? 'review' : 'approve';
    },
    async authorize({ token, amount, idempotencyKey }) {
      if (token === 'tok_flaky' && (await countSandboxAttempt(db, idempotencyKey)) <= FLAKY_FAILURES) {
        throw new ProviderTimeoutError('sandbox provider timed out (tok_flaky); retry with the same idempotency key');
      }
      return once(
        idempotencyKey,
        'authorize',
        async () => (token === 'tok_decline' ? { approved: false, reason: 'card declined' } : { approved: true }),
        { token, amount },
      );
    },
    async capture({ authorizationRef, amount, idempotencyKey }) {
      return once(idempotencyKey, 'capture', () => requireAuthorization(authorizationRef, amount), {
        parentRef: authorizationRef,
        amount,
      });
    },
    async void({ authorizationRef, amount, idempotencyKey }) {
      return once(idempotencyKey, 'void', () => requireAuthorization(authorizationRef, amount), {
        parentRef: authorizationRef,
        amount,
      });
    },
    async refund({ captureRef, amount, idempotencyKey }) {
      return once(idempotencyKey, 'refund', () => requireCapture(captureRef, amount), {
        parentRef: captureRef,
        amount,
      });
    },
    async payouts() {
      await cutDailySandboxPayout(db);
      return sandboxPayoutIds(db);
    },
    payout: (payoutId) => sandboxPayout(db, payoutId),
    dispute: (disputeId) => sandboxDispute(db, disputeId),
    respondToDispute: (input) => respondToSandboxDispute(db, input),
    async lookup(idempotencyKey) {
      const row = await sandboxLedgerEntry(db, idempotencyKey);
      return row
        ? { amount: row.amount, approved: row.outcome === 'approved', providerRef: row.provider_ref }
        : undefined;
    },
  };
}
