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
import { PaymentProvider, ProviderResult, ProviderTimeoutError } from './provider';

const FLAKY_FAILURES = 2;

export function sandboxPaymentProvider(db: Db): PaymentProvider {
  async function once(key: string, operation: string, compute: () => Promise<Omit<ProviderResult, 'providerRef'>>, extra: { token?: string; parentRef?: string; amount: number }): Promise<ProviderResult> {
    const existing = await db('sandbox_payment_ledger').where({ idempotency_key: key }).first();
    if (existing) return { approved: existing.outcome === 'approved', providerRef: existing.provider_ref };
    const result = await compute();
    const providerRef = `sbx_${operation.slice(0, 4)}_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const inserted = await db('sandbox_payment_ledger')
      .insert({ idempotency_key: key, operation, token: extra.token, parent_ref: extra.parentRef, amount: extra.amount, provider_ref: providerRef, outcome: result.approved ? 'approved' : 'declined' })
      .onConflict('idempotency_key')
      .ignore()
      .returning('provider_ref');
    if (inserted.length === 0) return once(key, operation, compute, extra); // a concurrent twin won; answer with its result
    return { ...result, providerRef };
  }

  async function countAttempt(key: string): Promise<number> {
    const rows = await db.raw(
      `INSERT INTO sandbox_payment_attempts (idempotency_key, attempts) VALUES (?, 1)
       ON CONFLICT (idempotency_key) DO UPDATE SET attempts = sandbox_payment_attempts.attempts + 1 RETURNING attempts`,
      [key],
    );
    return rows.rows[0].attempts;
  }

  async function requireAuthorization(ref: string, amount: number) {
    const auth = await db('sandbox_payment_ledger').where({ provider_ref: ref, operation: 'authorize', outcome: 'approved' }).first();
    if (!auth) return { approved: false, reason: 'unknown authorization' };
    const used = await db('sandbox_payment_ledger').where({ parent_ref: ref, outcome: 'approved' }).whereIn('operation', ['capture', 'void']).sum({ s: 'amount' }).first();
    if ((used?.s ?? 0) + amount > auth.amount) return { approved: false, reason: 'amount exceeds the authorization' };
    return { approved: true };
  }

  async function requireCapture(ref: string, amount: number) {
    const capture = await db('sandbox_payment_ledger').where({ provider_ref: ref, operation: 'capture', outcome: 'approved' }).first();
    if (!capture) return { approved: false, reason: 'unknown capture' };
    const refunded = await db('sandbox_payment_ledger').where({ parent_ref: ref, operation: 'refund', outcome: 'approved' }).sum({ s: 'amount' }).first();
    if ((refunded?.s ?? 0) + amount > capture.amount) return { approved: false, reason: 'refund exceeds the capture' };
    return { approved: true };
  }

  return {
    name: 'sandbox',
    async assessRisk({ token }) {
      return token === 'tok_review' ? 'review' : 'approve';
    },
    async authorize({ token, amount, idempotencyKey }) {
      if (token === 'tok_flaky' && (await countAttempt(idempotencyKey)) <= FLAKY_FAILURES) {
        throw new ProviderTimeoutError('sandbox provider timed out (tok_flaky); retry with the same idempotency key');
      }
      return once(idempotencyKey, 'authorize', async () => (token === 'tok_decline' ? { approved: false, reason: 'card declined' } : { approved: true }), { token, amount });
    },
    async capture({ authorizationRef, amount, idempotencyKey }) {
      return once(idempotencyKey, 'capture', () => requireAuthorization(authorizationRef, amount), { parentRef: authorizationRef, amount });
    },
    async void({ authorizationRef, amount, idempotencyKey }) {
      return once(idempotencyKey, 'void', () => requireAuthorization(authorizationRef, amount), { parentRef: authorizationRef, amount });
    },
    async refund({ captureRef, amount, idempotencyKey }) {
      return once(idempotencyKey, 'refund', () => requireCapture(captureRef, amount), { parentRef: captureRef, amount });
    },
    async lookup(idempotencyKey) {
      const row = await db('sandbox_payment_ledger').where({ idempotency_key: idempotencyKey }).first();
      return row ? { amount: row.amount, approved: row.outcome === 'approved', providerRef: row.provider_ref } : undefined;
    },
  };
}
