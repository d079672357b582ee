import type { EventType } from '../contracts/events';
/**
 * Outbound webhooks as stored: subscriptions, the events recorded by triggers (migration 035_webhooks) and one
 * delivery per event and subscription. Deliveries are leased, not held in a transaction while the receiver is
 * called: a dispatcher that dies mid-call leaves a lease that runs out, and the delivery goes again with the
 * same webhook-id (the receiver drops the repeat).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Db, Tx } from './index';

export interface SubscriptionRow {
  id: string;
  url: string;
  event_types: string[];
  description: string | null;
  created_by: string | null;
  created_at: Date;
  deleted_at: Date | null;
}

export interface DeliveryRow {
  id: string;
  event_id: string;
  subscription_id: string;
  status: 'pending' | 'delivered' | 'dead' | 'cancelled';
  attempts: number;
  next_attempt_at: Date;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: Date | null;
  created_at: Date;
  type: string;
  subject_type: string;
  subject_id: string;
}

/** A claimed delivery with what sending it needs. */
export interface DueDelivery {
  id: string;
  event_id: string;
  subscription_id: string;
  attempts: number;
  url: string;
  secret: string;
  type: string;
  data: Record<string, unknown>;
  event_created_at: Date;
  retrying_since: Date;
}

const SUBSCRIPTION_COLUMNS = ['id', 'url', 'event_types', 'description', 'created_by', 'created_at', 'deleted_at'];

/** A new subscription with its signing secret (the only time the secret leaves the database). */
export async function createSubscription(
  db: Db | Tx,
  s: { url: string; eventTypes: string[]; description?: string; createdBy: string; requestKey?: string },
): Promise<SubscriptionRow & { secret: string }> {
  const [row] = await db('webhook_subscriptions')
    .insert({
      id: randomUUID(),
      url: s.url,
      event_types: s.eventTypes,
      description: s.description ?? null,
      created_by: s.createdBy,
      request_key: s.requestKey ?? null,
      secret: `whsec_${randomBytes(32).toString('base64')}`,
    })
    .onConflict('request_key')
    .ignore()
    .returning([...SUBSCRIPTION_COLUMNS, 'secret']);
  // A retry of the same request (its answer lost) finds the subscription, and its secret, the first one made.
  return (
    row ??
    db('webhook_subscriptions')
      .where({ request_key: s.requestKey })
      .first([...SUBSCRIPTION_COLUMNS, 'secret'])
  );
}

/**
 * Records events that no status trigger sees (a channel's stock levels as its sync told them), each with one
 * delivery per subscription that wants it, in the caller's transaction: the function the triggers call, one
 * statement for the lot.
 */
export async function recordBusinessEvents(
  tx: Tx,
  type: EventType,
  subjectType: string,
  events: { subjectId: string; data: Record<string, unknown> }[],
): Promise<void> {
  if (!events.length) return;
  await tx.raw(
    `SELECT record_business_event(?, ?, x.subject, x.data)
       FROM unnest(?::text[], ?::jsonb[]) WITH ORDINALITY AS x(subject, data, n) ORDER BY x.n`,
    [type, subjectType, events.map((e) => e.subjectId), events.map((e) => JSON.stringify(e.data))],
  );
}

export async function activeSubscriptions(db: Db | Tx): Promise<SubscriptionRow[]> {
  return db('webhook_subscriptions').whereNull('deleted_at').orderBy('created_at').select(SUBSCRIPTION_COLUMNS);
}

export async function subscriptionById(db: Db | Tx, id: string): Promise<SubscriptionRow | undefined> {
  return db('webhook_subscriptions').where({ id }).whereNull('deleted_at').first(SUBSCRIPTION_COLUMNS);
}

/** Ends a subscription: nothing more is recorded for it and what it had not taken yet is cancelled. */
export async function deleteSubscription(tx: Tx, id: string): Promise<boolean> {
  const n = await tx('webhook_subscriptions').where({ id }).whereNull('deleted_at').update({ deleted_at: tx.fn.now() });
  await tx('webhook_deliveries').where({ subscription_id: id, status: 'pending' }).update({ status: 'cancelled' });
  return n > 0;
}

/** What a subscription has been sent and what waits, how often tried and the last answer, newest first. */
export function deliveriesOf(db: Db | Tx, subscriptionId: string, status?: string) {
  return db('webhook_deliveries as d')
    .join('business_events as e', 'e.id', 'd.event_id')
    .where('d.subscription_id', subscriptionId)
    .modify((q) => (status ? q.where('d.status', status) : q))
    .select<DeliveryRow[]>(
      'd.id',
      'd.event_id',
      'd.subscription_id',
      'd.status',
      'd.attempts',
      'd.next_attempt_at',
      'd.last_status_code',
      'd.last_error',
      'd.delivered_at',
      'd.created_at',
      'e.type',
      'e.subject_type',
      'e.subject_id',
    );
}

/**
 * Leases up to `batch` deliveries that are due, each the oldest still pending of its subject for its
 * subscription (so one subject's events reach a receiver in order, the next only once the one before is
 * delivered or dead). SKIP LOCKED lets several dispatchers claim side by side.
 */
export async function claimDueDeliveries(db: Db, batch: number, leaseSeconds: number): Promise<DueDelivery[]> {
  const { rows } = await db.raw(
    `WITH due AS (
       SELECT d.id FROM webhook_deliveries d
       WHERE d.status = 'pending' AND d.next_attempt_at <= now()
         AND (d.leased_until IS NULL OR d.leased_until < now())
         AND EXISTS (SELECT 1 FROM webhook_subscriptions s WHERE s.id = d.subscription_id AND s.deleted_at IS NULL)
         AND NOT EXISTS (
           SELECT 1 FROM webhook_deliveries b
           WHERE b.subscription_id = d.subscription_id AND b.subject_key = d.subject_key
             AND b.status = 'pending' AND b.event_seq < d.event_seq)
       ORDER BY d.event_seq
       LIMIT ?
       FOR UPDATE SKIP LOCKED)
     UPDATE webhook_deliveries d
       SET leased_until = now() + make_interval(secs => ?), attempts = d.attempts + 1,
           retrying_since = CASE WHEN d.attempts = 0 THEN now() ELSE d.retrying_since END -- from the first attempt
     FROM due, business_events e, webhook_subscriptions s
     WHERE d.id = due.id AND e.id = d.event_id AND s.id = d.subscription_id
     RETURNING d.id, d.event_id, d.subscription_id, d.attempts, s.url, s.secret, e.type, e.data,
       e.created_at AS event_created_at, d.retrying_since`,
    [batch, leaseSeconds],
  );
  return rows as DueDelivery[];
}

export async function markDelivered(db: Db | Tx, deliveryId: string, statusCode: number): Promise<void> {
  await db('webhook_deliveries').where({ id: deliveryId, status: 'pending' }).update({
    status: 'delivered',
    delivered_at: db.fn.now(),
    leased_until: null,
    last_status_code: statusCode,
    last_error: null,
  });
}

/** A failed attempt: tried again after `retryInSeconds`, or, with null, given up (dead). */
export async function markFailed(
  db: Db | Tx,
  deliveryId: string,
  f: { statusCode: number | null; error: string; retryInSeconds: number | null },
): Promise<void> {
  await db('webhook_deliveries')
    .where({ id: deliveryId, status: 'pending' })
    .update({
      status: f.retryInSeconds === null ? 'dead' : 'pending',
      next_attempt_at: db.raw('now() + make_interval(secs => ?)', [f.retryInSeconds ?? 0]),
      leased_until: null,
      last_status_code: f.statusCode,
      last_error: f.error.slice(0, 500),
    });
}

/** Sends dead deliveries (all of the subscription's, or those named) again from the first attempt. */
export async function redeliver(tx: Tx, subscriptionId: string, deliveryIds?: string[]): Promise<number> {
  return tx('webhook_deliveries')
    .where({ subscription_id: subscriptionId, status: 'dead' })
    .modify((q) => (deliveryIds ? q.whereIn('id', deliveryIds) : q))
    .update({
      status: 'pending',
      attempts: 0,
      next_attempt_at: tx.fn.now(),
      retrying_since: tx.fn.now(),
      leased_until: null,
    });
}

/**
 * Whether anything is left for a dispatcher (a live subscription, or deliveries still pending) and when the
 * next one falls due: only the head of each subject's queue counts, the rest waits behind it.
 */
export async function webhookWorkLeft(
  db: Db,
): Promise<{ subscriptions: number; pending: number; nextDueInMs: number | null }> {
  const { rows } = await db.raw(`SELECT
      (SELECT count(*)::int FROM webhook_subscriptions WHERE deleted_at IS NULL) AS subscriptions,
      (SELECT count(*)::int FROM webhook_deliveries WHERE status = 'pending') AS pending,
      (SELECT GREATEST(0, EXTRACT(EPOCH FROM min(GREATEST(d.next_attempt_at, COALESCE(d.leased_until, d.next_attempt_at))) - now()) * 1000)::int
         FROM webhook_deliveries d
         WHERE d.status = 'pending' AND NOT EXISTS (
           SELECT 1 FROM webhook_deliveries b
           WHERE b.subscription_id = d.subscription_id AND b.subject_key = d.subject_key
             AND b.status = 'pending' AND b.event_seq < d.event_seq)) AS next_due_in_ms`);
  return { subscriptions: rows[0].subscriptions, pending: rows[0].pending, nextDueInMs: rows[0].next_due_in_ms };
}

/** Deliveries fanned out to a subscription in the instant it ended (a concurrent commit): cancelled, never sent. */
export async function cancelForEndedSubscriptions(db: Db | Tx): Promise<void> {
  await db.raw(`UPDATE webhook_deliveries d SET status = 'cancelled'
    FROM webhook_subscriptions s
    WHERE d.status = 'pending' AND s.id = d.subscription_id AND s.deleted_at IS NOT NULL`);
}

/** Dead deliveries of a subscription (a dead-letter case stays open while there are any). */
export async function deadCount(db: Db | Tx, subscriptionId: string): Promise<number> {
  const r = await db('webhook_deliveries')
    .where({ subscription_id: subscriptionId, status: 'dead' })
    .count<{ n: string }[]>('* as n');
  return Number(r[0].n);
}

/** Pending and dead deliveries per subscription (what the subscription views show). */
export async function waitingAndDead(
  db: Db | Tx,
  subscriptionIds: string[],
): Promise<{ subscription_id: string; status: string; n: number }[]> {
  if (!subscriptionIds.length) return [];
  return db('webhook_deliveries')
    .whereIn('subscription_id', subscriptionIds)
    .whereIn('status', ['pending', 'dead'])
    .groupBy('subscription_id', 'status')
    .select('subscription_id', 'status', db.raw('count(*)::int AS n'));
}

/**
 * Forgets what was told long ago: deliveries delivered or cancelled before `before`, then the events older than
 * that with no delivery left (a dead or waiting delivery keeps its event, so ops can still send it). In batches,
 * each its own short statement, so a first run over a long history never holds a long lock or outlives its step.
 */
export async function pruneWebhookHistory(
  db: Db,
  before: Date,
  batch = 5000,
): Promise<{ deliveries: number; events: number }> {
  const drain = async (remove: () => Promise<number>) => {
    let total = 0;
    for (let n = batch; n === batch; total += n) n = await remove();
    return total;
  };
  const deliveries = await drain(() =>
    db('webhook_deliveries')
      .whereIn(
        'id',
        db('webhook_deliveries')
          .whereIn('status', ['delivered', 'cancelled'])
          .where('created_at', '<', before)
          .limit(batch)
          .select('id'),
      )
      .delete(),
  );
  const events = await drain(() =>
    db('business_events')
      .whereIn(
        'id',
        db('business_events as e')
          .where('e.created_at', '<', before)
          .whereNotExists((q) => q.from('webhook_deliveries as d').whereRaw('d.event_id = e.id'))
          .limit(batch)
          .select('e.id'),
      )
      .delete(),
  );
  return { deliveries, events };
}
