/** Payments and refunds of sales orders, the sandbox payment provider's books, and the inbox of provider webhooks. */
import { randomUUID } from 'node:crypto';
import type { Db, Tx } from './index';

/** The refunds of these orders, oldest first. */
export async function refundsOfOrders(db: Db | Tx, orderIds: string[]) {
  return db('payments')
    .whereIn('order_id', orderIds)
    .where({ kind: 'refund' })
    .orderBy('created_at')
    .select('order_id', 'amount', 'currency', 'status', 'return_id', 'created_at');
}

/** Remembers a provider's webhook event; true the first time its id is seen. */
export async function recordWebhookEvent(
  db: Db | Tx,
  provider: string,
  eventId: string,
  payload: unknown,
): Promise<boolean> {
  return (
    (
      await db('webhook_inbox')
        .insert({ provider, event_id: eventId, payload: JSON.stringify(payload) })
        .onConflict(['provider', 'event_id'])
        .ignore()
        .returning('event_id')
    ).length > 0
  );
}

/** Forgets an event whose applying failed for a reason of ours (Temporal away): the provider's retry applies it. */
export async function forgetWebhookEvent(db: Db | Tx, provider: string, eventId: string): Promise<void> {
  await db('webhook_inbox').where({ provider, event_id: eventId }).delete();
}

// ---------------------------------------------------------------------------
// Authorisations, captures and voids.

/** Our record of the provider call made with this idempotency key, if any. */
export async function paymentByKey(db: Db | Tx, idempotencyKey: string) {
  return db('payments').where({ idempotency_key: idempotencyKey }).first();
}

/** The order's succeeded authorisation, if any. */
export async function authorizationOf(db: Db | Tx, orderId: string) {
  return db('payments').where({ order_id: orderId, kind: 'authorization', status: 'succeeded' }).first();
}

export interface NewPayment {
  orderId: string;
  kind: 'authorization' | 'void';
  amount: number;
  currency: string;
  status: 'succeeded' | 'failed';
  provider: string;
  providerRef: string;
  failureReason?: string;
  key: string;
}

/** Records an authorisation or a void once per idempotency key. */
export async function recordPayment(db: Db | Tx, p: NewPayment): Promise<void> {
  await db('payments')
    .insert({
      id: randomUUID(),
      order_id: p.orderId,
      kind: p.kind,
      amount: p.amount,
      currency: p.currency,
      status: p.status,
      provider: p.provider,
      provider_ref: p.providerRef,
      failure_reason: p.failureReason,
      idempotency_key: p.key,
    })
    .onConflict('idempotency_key')
    .ignore();
}

/** Records a capture once per idempotency key; answers its id, or undefined when it was already recorded. */
export async function recordCapture(
  tx: Tx,
  c: {
    orderId: string;
    amount: number;
    currency: string;
    provider: string;
    providerRef: string;
    invoiceId: string;
    key: string;
  },
): Promise<string | undefined> {
  const inserted = await tx('payments')
    .insert({
      id: randomUUID(),
      order_id: c.orderId,
      kind: 'capture',
      amount: c.amount,
      currency: c.currency,
      status: 'succeeded',
      provider: c.provider,
      provider_ref: c.providerRef,
      invoice_id: c.invoiceId,
      idempotency_key: c.key,
    })
    .onConflict('idempotency_key')
    .ignore()
    .returning('id');
  return inserted[0]?.id;
}

/** The total the order's succeeded captures took. */
export async function capturedTotal(db: Db | Tx, orderId: string): Promise<number> {
  const captured = await db('payments')
    .where({ order_id: orderId, kind: 'capture', status: 'succeeded' })
    .sum({ s: 'amount' })
    .first();
  return captured?.s ?? 0;
}

// ---------------------------------------------------------------------------
// Refunds: their rows share an idempotency key prefix per refunded return or shipment.

/** The total of the refunds already promised under this key prefix (0 or null when none). */
export async function refundsPromised(tx: Db | Tx, keyPrefix: string): Promise<number | null> {
  const existing = await tx('payments')
    .where({ kind: 'refund' })
    .where('idempotency_key', 'like', `${keyPrefix}%`)
    .sum({ s: 'amount' })
    .first();
  return existing?.s ?? null;
}

/** The order's succeeded captures, oldest first. */
export async function capturesOf(tx: Db | Tx, orderId: string) {
  return tx('payments').where({ order_id: orderId, kind: 'capture', status: 'succeeded' }).orderBy('created_at');
}

/** Refunded (or about to be) per capture of the order. */
export async function refundedPerCapture(
  tx: Db | Tx,
  orderId: string,
): Promise<{ parent_payment_id: string; s: number }[]> {
  return tx('payments')
    .where({ order_id: orderId, kind: 'refund' })
    .whereIn('status', ['pending', 'succeeded'])
    .groupBy('parent_payment_id')
    .select('parent_payment_id', tx.raw('SUM(amount)::bigint AS s'));
}

export interface RefundIntent {
  orderId: string;
  amount: number;
  currency: string;
  provider: string;
  returnId: string | null;
  captureId: string;
  creditNoteId: string;
  key: string;
}

/** The pending refund rows, one per capture drawn on. */
export async function recordRefundIntents(tx: Tx, refunds: RefundIntent[]): Promise<void> {
  await tx('payments').insert(
    refunds.map((r) => ({
      id: randomUUID(),
      order_id: r.orderId,
      kind: 'refund',
      amount: r.amount,
      currency: r.currency,
      status: 'pending',
      provider: r.provider,
      return_id: r.returnId,
      parent_payment_id: r.captureId,
      credit_note_id: r.creditNoteId,
      idempotency_key: r.key,
    })),
  );
}

/** The refund rows under this key prefix, each with the provider reference of its capture. */
export async function refundsWithCapture(db: Db | Tx, keyPrefix: string) {
  return db('payments as p')
    .join('payments as c', 'c.id', 'p.parent_payment_id')
    .where('p.kind', 'refund')
    .where('p.idempotency_key', 'like', `${keyPrefix}%`)
    .select('p.*', 'c.provider_ref as capture_ref');
}

export async function markRefundFailed(tx: Tx, paymentId: string, reason: string): Promise<void> {
  await tx('payments').where({ id: paymentId }).update({ status: 'failed', failure_reason: reason });
}

/** A pending refund paid out; answers 0 when it was no longer pending. */
export async function markRefundSucceeded(tx: Tx, paymentId: string, providerRef: string): Promise<number> {
  return tx('payments')
    .where({ id: paymentId, status: 'pending' })
    .update({ status: 'succeeded', provider_ref: providerRef });
}

/** Status, amount, order and currency of each refund row under this key prefix. */
export async function refundsSettled(db: Db | Tx, keyPrefix: string) {
  return db('payments')
    .where('kind', 'refund')
    .where('idempotency_key', 'like', `${keyPrefix}%`)
    .select('status', 'amount', 'order_id', 'currency');
}

// ---------------------------------------------------------------------------
// The sandbox provider's own books, keyed by the caller's idempotency key.

export async function sandboxLedgerEntry(db: Db | Tx, idempotencyKey: string) {
  return db('sandbox_payment_ledger').where({ idempotency_key: idempotencyKey }).first();
}

/** Writes the sandbox's record of a call once per key; false when a concurrent twin wrote it first. */
export async function recordSandboxLedgerEntry(
  db: Db | Tx,
  e: {
    key: string;
    operation: string;
    token?: string;
    parentRef?: string;
    amount: number;
    providerRef: string;
    outcome: 'approved' | 'declined';
  },
): Promise<boolean> {
  const inserted = await db('sandbox_payment_ledger')
    .insert({
      idempotency_key: e.key,
      operation: e.operation,
      token: e.token,
      parent_ref: e.parentRef,
      amount: e.amount,
      provider_ref: e.providerRef,
      outcome: e.outcome,
    })
    .onConflict('idempotency_key')
    .ignore()
    .returning('provider_ref');
  return inserted.length > 0;
}

/** Counts one more attempt of the call with this key; answers the count. */
export async function countSandboxAttempt(db: Db | Tx, idempotencyKey: string): Promise<number> {
  const rows = await db.raw(
    `INSERT INTO sandbox_payment_attempts (idempotency_key, attempts) VALUES (?, 1)
       ON CONFLICT (idempotency_key) DO UPDATE SET attempts = sandbox_payment_attempts.attempts + 1 RETURNING attempts`,
    [idempotencyKey],
  );
  return rows.rows[0].attempts;
}

/** The approved sandbox call of that operation with this provider reference, if any. */
export async function sandboxApproved(db: Db | Tx, providerRef: string, operation: 'authorize' | 'capture') {
  return db('sandbox_payment_ledger').where({ provider_ref: providerRef, operation, outcome: 'approved' }).first();
}

/** What approved captures and voids already took from a sandbox authorisation. */
export async function sandboxDrawnOnAuthorization(db: Db | Tx, authorizationRef: string): Promise<number> {
  const used = await db('sandbox_payment_ledger')
    .where({ parent_ref: authorizationRef, outcome: 'approved' })
    .whereIn('operation', ['capture', 'void'])
    .sum({ s: 'amount' })
    .first();
  return used?.s ?? 0;
}

/** What approved refunds already gave back of a sandbox capture. */
export async function sandboxRefundedOnCapture(db: Db | Tx, captureRef: string): Promise<number> {
  const refunded = await db('sandbox_payment_ledger')
    .where({ parent_ref: captureRef, operation: 'refund', outcome: 'approved' })
    .sum({ s: 'amount' })
    .first();
  return refunded?.s ?? 0;
}
