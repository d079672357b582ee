/**
 * Channels and what each may promise. A channel sells from the pool of its warehouses (sellable on hand −
 * reserved); it holds back a buffer for the others (the larger of its units and its percentage of the pool)
 * and shows at most its cap. Reservation takes the same numbers under row locks, so a channel can never
 * take more than it may promise. Also the availability change feed (`availability_changes`).
 */
import { preparedRows, type Db, type Tx } from './index';
import { kitsContaining, productSkus } from './catalog';
import type { ChannelKind } from '../contracts/channels';

export interface ChannelConnection {
  endpoint: string;
  credentialsRef: string; // the name of a secret, never the secret
  ratePerSecond: number;
  pollSeconds?: number; // a marketplace's order feed is read this often (default MARKETPLACE_POLL_SECONDS)
}

export interface ChannelRules {
  id: number;
  code: string;
  name: string;
  kind: ChannelKind;
  bufferUnits: number;
  bufferPct: number;
  cap: number | null;
  warehouseIds: number[] | null; // null: every warehouse
  connection: ChannelConnection | null;
}

export interface ChannelInput {
  code: string;
  name: string;
  kind: ChannelKind;
  warehouseIds: number[] | null;
  bufferUnits: number;
  bufferPct: number;
  cap: number | null;
  connection: ChannelConnection | null;
}

/** What a channel may promise from its pool: the pool less its buffer, capped, never below 0. */
export function promise(pool: number, r: Pick<ChannelRules, 'bufferUnits' | 'bufferPct' | 'cap'>): number {
  // In hundredths of a percent (the column's precision), so the rounding is exact and equals the database's
  // channel_promise (migration 039): 0.56 % of 1,250 in floating point is 7.000000000000001, whose ceiling is 8.
  const buffer = Math.max(r.bufferUnits, Math.ceil((Math.max(0, pool) * Math.round(r.bufferPct * 100)) / 10000));
  const free = Math.max(0, pool - buffer);
  return r.cap === null ? free : Math.min(free, r.cap);
}

interface ChannelRow {
  id: number;
  code: string;
  name: string;
  kind: ChannelKind;
  buffer_units: number;
  buffer_pct: number;
  cap: number | null;
  connection: ChannelConnection | null;
  warehouse_ids: number[] | null;
}

const rules = (r: ChannelRow): ChannelRules => ({
  id: r.id,
  code: r.code,
  name: r.name,
  kind: r.kind,
  bufferUnits: r.buffer_units,
  bufferPct: Number(r.buffer_pct),
  cap: r.cap,
  warehouseIds: r.warehouse_ids?.length ? r.warehouse_ids : null,
  connection: r.connection,
});

function channelRows(db: Db | Tx) {
  return db('channels as c').select(
    'c.id',
    'c.code',
    'c.name',
    'c.kind',
    'c.buffer_units',
    'c.buffer_pct',
    'c.cap',
    'c.connection',
    db.raw(
      `(SELECT array_agg(cw.warehouse_id ORDER BY cw.warehouse_id) FROM channel_warehouses cw WHERE cw.channel_id = c.id) AS warehouse_ids`,
    ),
  );
}

export async function allChannels(db: Db | Tx): Promise<ChannelRules[]> {
  return ((await channelRows(db).orderBy('c.code')) as ChannelRow[]).map(rules);
}

export async function channelByCode(db: Db | Tx, code: string): Promise<ChannelRules | undefined> {
  const row = (await channelRows(db).where('c.code', code).first()) as ChannelRow | undefined;
  return row && rules(row);
}

export async function channelById(db: Db | Tx, id: number): Promise<ChannelRules> {
  return rules((await channelRows(db).where('c.id', id).first()) as ChannelRow);
}

/**
 * Writes the channels and the warehouses that serve them, in the caller's transaction, and notes every SKU
 * of each written channel as changed: a buffer or cap moves all its numbers.
 */
export async function upsertChannels(tx: Tx, channels: ChannelInput[]): Promise<void> {
  for (const c of channels) {
    const fields = {
      name: c.name,
      kind: c.kind,
      buffer_units: c.bufferUnits,
      buffer_pct: c.bufferPct,
      cap: c.cap,
      connection: c.connection === null ? null : JSON.stringify(c.connection),
    };
    const [{ id }] = await tx('channels')
      .insert({ code: c.code, ...fields })
      .onConflict('code')
      .merge({ ...fields, updated_at: tx.fn.now() })
      .returning('id');
    await tx('channel_warehouses').where({ channel_id: id }).delete();
    if (c.warehouseIds?.length) {
      await tx('channel_warehouses').insert(c.warehouseIds.map((warehouse_id) => ({ channel_id: id, warehouse_id })));
    }
    await tx.raw(`INSERT INTO availability_changes (product_id, channel_id) SELECT id, ? FROM products`, [id]);
  }
}

/** The pool of each product in a channel's warehouses: sellable on hand − reserved. */
export async function channelPools(
  db: Db | Tx,
  channel: Pick<ChannelRules, 'warehouseIds'>,
  productIds: number[],
): Promise<Map<number, number>> {
  const rows: { product_id: number; pool: number }[] = await db('quants as q')
    .join('locations as l', 'l.id', 'q.location_id')
    .where('l.type', 'stock')
    .whereIn('q.product_id', productIds)
    .modify((q) => (channel.warehouseIds ? q.whereIn('l.warehouse_id', channel.warehouseIds) : q))
    .groupBy('q.product_id')
    .select('q.product_id', db.raw('SUM(GREATEST(q.on_hand - q.reserved, 0))::int AS pool'));
  return new Map(rows.map((r) => [r.product_id, r.pool]));
}

/**
 * Every change after `after`, oldest first, for all channels (a reader needs them all to see gaps in the
 * sequence); `forChannel` keeps the ones that concern one channel.
 */
async function availabilityChangesAfter(
  db: Db | Tx,
  after: number,
  limit: number,
): Promise<{ seq: number; product_id: number; channel_id: number | null; changed_at: Date }[]> {
  const rows = await db('availability_changes')
    .where('seq', '>', after)
    .orderBy('seq')
    .limit(limit)
    .select('seq', 'product_id', 'channel_id', 'changed_at');
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

const forChannel = (channelId: number) => (r: { channel_id: number | null }) =>
  r.channel_id === null || r.channel_id === channelId;

/**
 * The changes a reader may take now. Sequence numbers are handed out before commit, so a gap can be a
 * transaction still running (its change would appear behind the reader's cursor): the feed stops at a gap
 * until `settleMs` has passed since the change after it, when the gap is taken as rolled back.
 */
function settledChanges<T extends { seq: number; changed_at: Date }>(
  rows: T[],
  after: number,
  now: number,
  settleMs = 5000,
): T[] {
  const taken: T[] = [];
  let expected = after + 1;
  for (const r of rows) {
    if (r.seq !== expected && now - r.changed_at.getTime() < settleMs) break;
    taken.push(r);
    expected = r.seq + 1;
  }
  return taken;
}

export interface SkuAvailability {
  sku: string;
  available: number;
  incoming: { date: string; quantity: number }[];
}

/**
 * What a channel may promise of each SKU now, and what is coming on open purchase orders by expected day.
 * A kit is as available as its scarcest component allows. Unknown SKUs are left out (the caller says so).
 * One statement (storefronts ask on every product page): the products, a kit's components, each stocked
 * product's pool in the channel's warehouses, and the incoming by day; the buffer and cap apply in `promise`.
 */
export async function availabilityOf(db: Db | Tx, channel: ChannelRules, skus: string[]): Promise<SkuAvailability[]> {
  const rows = await preparedRows<{
    sku: string;
    kind: string;
    parts: { quantity: number; pool: number }[] | null;
    incoming: { date: string; quantity: number }[] | null;
  }>(db, 'availability_of', AVAILABILITY_SQL, [skus, channel.warehouseIds]);
  const bySku = new Map(rows.map((r) => [r.sku, r]));
  return skus.flatMap((sku) => {
    const p = bySku.get(sku);
    if (!p) return [];
    const available = Math.min(...(p.parts ?? []).map((c) => Math.floor(promise(c.pool, channel) / c.quantity)));
    return [
      {
        sku,
        available: Number.isFinite(available) ? available : 0,
        incoming: p.kind === 'kit' ? [] : (p.incoming ?? []),
      },
    ];
  });
}

// A stocked product is its own single part; a kit's parts are its components (a kit without any: 0 available).
const AVAILABILITY_SQL = `
WITH asked AS (SELECT id, sku, kind FROM products WHERE sku = ANY($1::text[])),
parts AS (
  SELECT a.id AS asked_id, a.id AS product_id, 1 AS quantity FROM asked a WHERE a.kind <> 'kit'
  UNION ALL
  SELECT k.kit_product_id, k.component_product_id, k.quantity
    FROM kit_components k JOIN asked a ON a.id = k.kit_product_id AND a.kind = 'kit'
),
pools AS (
  SELECT q.product_id, SUM(GREATEST(q.on_hand - q.reserved, 0))::int AS pool
    FROM quants q JOIN locations l ON l.id = q.location_id
   WHERE l.type = 'stock' AND q.product_id IN (SELECT product_id FROM parts)
     AND ($2::int[] IS NULL OR l.warehouse_id = ANY($2::int[]))
   GROUP BY q.product_id
),
incoming AS (
  SELECT product_id, json_agg(json_build_object('date', day, 'quantity', quantity) ORDER BY day) AS incoming
    FROM (
      SELECT l.product_id, to_char(po.expected_at::date, 'YYYY-MM-DD') AS day,
             SUM(GREATEST(l.quantity - l.received_qty - l.cancelled_qty, 0))::int AS quantity
        FROM purchase_order_lines l JOIN purchase_orders po ON po.id = l.po_id
       WHERE po.status IN ('approved', 'sent', 'partially_received') AND po.expected_at IS NOT NULL
         AND l.product_id IN (SELECT id FROM asked WHERE kind <> 'kit')
         AND ($2::int[] IS NULL OR po.warehouse_id = ANY($2::int[]))
       GROUP BY l.product_id, po.expected_at::date
      HAVING SUM(GREATEST(l.quantity - l.received_qty - l.cancelled_qty, 0)) > 0
    ) by_day
   GROUP BY product_id
)
SELECT a.sku, a.kind, pa.parts, i.incoming
  FROM asked a
  LEFT JOIN LATERAL (
    SELECT json_agg(json_build_object('quantity', p.quantity, 'pool', COALESCE(pl.pool, 0))) AS parts
      FROM parts p LEFT JOIN pools pl ON pl.product_id = p.product_id
     WHERE p.asked_id = a.id
  ) pa ON true
  LEFT JOIN incoming i ON i.product_id = a.id`;

/**
 * The SKUs whose level changed, with the newest change of each: the products changed, and the kits built from
 * them (a kit has no stock of its own; it moves when a component does).
 */
async function changedSkus(db: Db | Tx, newest: Map<number, number>): Promise<Map<string, number>> {
  const ids = [...newest.keys()];
  if (ids.length === 0) return new Map();
  const out = new Map<string, number>();
  const bump = (sku: string, seq: number) => out.set(sku, Math.max(out.get(sku) ?? 0, seq));
  for (const p of await productSkus(db, ids)) bump(p.sku, newest.get(p.id)!);
  for (const k of await kitsContaining(db, ids)) bump(k.kit_sku, newest.get(k.component_product_id)!);
  return out;
}

export interface SyncState {
  cursor: number;
  pushedItems: number;
  pushCalls: number;
  lastError: string | null;
  lastPushedAt: Date | null;
  ordersCursor: number; // a marketplace's order feed, read up to here
  ordersPolledAt: Date | null;
}

/** Where the channel's sync stands (a channel never synced starts at the beginning of the feed). */
export async function syncState(db: Db | Tx, channelId: number): Promise<SyncState> {
  const row = await db('channel_sync').where({ channel_id: channelId }).first();
  return {
    cursor: Number(row?.cursor ?? 0),
    pushedItems: row?.pushed_items ?? 0,
    pushCalls: row?.push_calls ?? 0,
    lastError: row?.last_error ?? null,
    lastPushedAt: row?.last_pushed_at ?? null,
    ordersCursor: Number(row?.orders_cursor ?? 0),
    ordersPolledAt: row?.orders_polled_at ?? null,
  };
}

/** Records a push (the cursor moves on, the counters grow) or an error (the cursor stays). */
export async function recordSync(
  db: Db | Tx,
  channelId: number,
  r: { cursor?: number; items?: number; calls?: number; error?: string | null },
): Promise<void> {
  await db('channel_sync')
    .insert({
      channel_id: channelId,
      cursor: r.cursor ?? 0,
      pushed_items: r.items ?? 0,
      push_calls: r.calls ?? 0,
      last_error: r.error ?? null,
    })
    .onConflict('channel_id')
    .merge({
      ...(r.cursor !== undefined ? { cursor: r.cursor, last_pushed_at: db.fn.now() } : {}),
      pushed_items: db.raw('channel_sync.pushed_items + ?', [r.items ?? 0]),
      push_calls: db.raw('channel_sync.push_calls + ?', [r.calls ?? 0]),
      last_error: r.error ?? null,
      updated_at: db.fn.now(),
    });
}

/** What the channel has not been told yet: SKUs with a change after its cursor, and how old the oldest is. */
export async function syncBacklog(
  db: Db | Tx,
  channelId: number,
  cursor: number,
): Promise<{ pending: number; lagSeconds: number }> {
  const row = await db('availability_changes')
    .where('seq', '>', cursor)
    .andWhere((q) => q.whereNull('channel_id').orWhere('channel_id', channelId))
    .first(
      db.raw('COUNT(DISTINCT product_id)::int AS pending'),
      db.raw('EXTRACT(EPOCH FROM now() - MIN(changed_at))::float AS lag'),
    );
  return { pending: row?.pending ?? 0, lagSeconds: Math.round(row?.lag ?? 0) };
}

/**
 * What moved for a channel after `after`, with each SKU's level now and its newest change, oldest first, and
 * the cursor to read from next. The change feed answers it; the channel's sync pushes it.
 */
export async function changesSince(
  db: Db | Tx,
  channel: ChannelRules,
  after: number,
  limit: number,
): Promise<{ changes: { sku: string; available: number; seq: number }[]; next: number }> {
  const settled = settledChanges(await availabilityChangesAfter(db, after, limit), after, Date.now());
  const newest = new Map<number, number>(); // product → its newest change in this page
  for (const r of settled.filter(forChannel(channel.id))) newest.set(r.product_id, r.seq);
  const seqOf = await changedSkus(db, newest);
  const levels = await availabilityOf(db, channel, [...seqOf.keys()]);
  return {
    changes: levels
      .map((l) => ({ sku: l.sku, available: l.available, seq: seqOf.get(l.sku)! }))
      .sort((a, b) => a.seq - b.seq),
    next: settled.length ? settled[settled.length - 1].seq : after,
  };
}

/** Where a channel's sync stands, with what it has not been told yet (the channel view and /metrics). */
export async function syncStatus(
  db: Db | Tx,
  channelId: number,
): Promise<SyncState & { pending: number; lagSeconds: number }> {
  const state = await syncState(db, channelId);
  return { ...state, ...(await syncBacklog(db, channelId, state.cursor)) };
}

/** The order feed was read up to `cursor`; `drained`: to its end (the next read is due a poll interval later). */
export async function recordOrdersPolled(
  db: Db | Tx,
  channelId: number,
  cursor: number,
  drained: boolean,
): Promise<void> {
  const row = { orders_cursor: cursor, ...(drained ? { orders_polled_at: db.fn.now() } : {}) };
  await db('channel_sync')
    .insert({ channel_id: channelId, ...row })
    .onConflict('channel_id')
    .merge(row);
}
