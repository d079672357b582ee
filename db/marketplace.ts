/**
 * What a marketplace must hear of its orders here (`channel_order_updates`): a parcel shipped (with its
 * tracking), an order cancelled. Written in the transaction of the change itself, for marketplace orders,
 * once per key; the channel's sync delivers them and records the marketplace's answer.
 */
import type { Db, Tx } from './index';

/** The reason an order cancelled on the marketplace is cancelled with here: such a cancel is not told back. */
export const CANCELLED_ON_MARKETPLACE = 'cancelled on the marketplace';

export type MarketplaceUpdateKind = 'shipped' | 'cancelled';

export interface MarketplaceUpdate {
  id: number;
  orderId: string;
  externalRef: string;
  kind: MarketplaceUpdateKind;
  payload: { ref?: string; carrier?: string; trackingNumber?: string; reason?: string };
}

/** Queues an update for the order's marketplace (told once it is connected); nothing for any other channel's order. */
export async function queueMarketplaceUpdate(
  tx: Tx,
  u: { key: string; orderId: string; kind: MarketplaceUpdateKind; payload: MarketplaceUpdate['payload'] },
): Promise<void> {
  await tx.raw(
    `INSERT INTO channel_order_updates (key, channel_id, order_id, external_ref, kind, payload)
     SELECT ?, o.channel_id, o.id, o.external_ref, ?, ?::jsonb
       FROM sales_orders o JOIN channels c ON c.id = o.channel_id
      WHERE o.id = ? AND c.kind = 'marketplace'
     ON CONFLICT (key) DO NOTHING`,
    [u.key, u.kind, JSON.stringify(u.payload), u.orderId],
  );
}

/** The channel's untold updates, oldest first. */
export async function pendingMarketplaceUpdates(
  db: Db,
  channelId: number,
  limit: number,
): Promise<MarketplaceUpdate[]> {
  const rows = await db('channel_order_updates')
    .where({ channel_id: channelId })
    .whereNull('sent_at')
    .orderBy('id')
    .limit(limit)
    .select('id', 'order_id', 'external_ref', 'kind', 'payload');
  return rows.map((r) => ({
    id: Number(r.id),
    orderId: r.order_id,
    externalRef: r.external_ref,
    kind: r.kind,
    payload: r.payload,
  }));
}

/** The marketplace answered (`outcome`: 'told', or why it refused); or the call failed and is tried again. */
export async function recordMarketplaceAnswer(
  db: Db,
  id: number,
  a: { outcome: string } | { error: string },
): Promise<void> {
  await db('channel_order_updates')
    .where({ id })
    .update(
      'outcome' in a
        ? { sent_at: db.fn.now(), outcome: a.outcome, attempts: db.raw('attempts + 1'), last_error: null }
        : { attempts: db.raw('attempts + 1'), last_error: a.error },
    );
}

/** Every update of one order (the order view and the tests read what the marketplace was told). */
export async function marketplaceUpdatesOf(db: Db | Tx, orderId: string) {
  return db('channel_order_updates')
    .where({ order_id: orderId })
    .orderBy('id')
    .select(
      'kind',
      'payload',
      'created_at as createdAt',
      'sent_at as sentAt',
      'outcome',
      'attempts',
      'last_error as lastError',
    );
}

/** How many updates the channel has not yet told its marketplace. */
export async function untoldUpdates(db: Db, channelId: number): Promise<number> {
  const r = await db('channel_order_updates')
    .where({ channel_id: channelId })
    .whereNull('sent_at')
    .count({ n: '*' })
    .first();
  return Number(r?.n ?? 0);
}
