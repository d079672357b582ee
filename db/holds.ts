/**
 * Checkout holds: units a channel holds for a shopper until a deadline, all or nothing, within what the
 * channel may promise. Held units are reservations owned by the hold; an order placed with the hold takes
 * them over in the transaction that reserves the order (never counted twice, never lost), and the rest
 * goes back. A hold ends once: released, expired, or consumed, whichever locks it first.
 */
import { randomUUID } from 'node:crypto';
import type { Db, Tx } from './index';
import { allocate, holdStock, lockStock, releaseReservations, type DemandLine } from './inventory';
import type { ChannelRules } from './channels';

export type HoldStatus = 'active' | 'released' | 'expired' | 'consumed';

export interface HoldLine {
  productId: number;
  sku: string;
  quantity: number;
}

/** A hold could not be placed: what is short, per SKU (what was asked, what the channel may promise). */
export interface HoldShort {
  sku: string;
  requested: number;
  available: number;
}

/** Places the hold, or answers what is short (nothing written). The caller's transaction. */
export async function placeHold(
  tx: Tx,
  channel: ChannelRules,
  lines: HoldLine[],
  expiresAt: Date,
): Promise<{ holdId: string } | { short: HoldShort[] }> {
  const productIds = [...new Set(lines.map((l) => l.productId))];
  const stock = await lockStock(tx, productIds, channel);
  const asked: DemandLine[] = lines.map((l, i) => ({
    lineId: i,
    remaining: l.quantity,
    components: [{ productId: l.productId, perUnit: 1 }],
  }));
  const { allocations, shortUnits } = await allocate(tx, asked, stock.warehouses, stock.budget);
  if (shortUnits > 0) {
    const short = lines.map((l) => ({
      sku: l.sku,
      requested: l.quantity,
      available: stock.budget.get(l.productId) ?? 0,
    }));
    return { short: short.filter((x) => x.available < x.requested) };
  }
  const holdId = randomUUID();
  await tx('holds').insert({ id: holdId, channel_id: channel.id, expires_at: expiresAt });
  const lineIds: number[] = [];
  for (const l of lines) {
    const [row] = await tx('hold_lines')
      .insert({ hold_id: holdId, product_id: l.productId, quantity: l.quantity })
      .returning('id');
    lineIds.push(row.id);
  }
  const demand = asked.map((d) => ({ ...d, lineId: lineIds[d.lineId] }));
  const placed = allocations.map((a) => ({ ...a, lines: a.lines.map((x) => ({ ...x, lineId: lineIds[x.lineId] })) }));
  await holdStock(tx, { holdId }, demand, placed);
  return { holdId };
}

export async function holdById(db: Db | Tx, holdId: string) {
  return db('holds as h')
    .join('channels as c', 'c.id', 'h.channel_id')
    .where('h.id', holdId)
    .first('h.id', 'h.status', 'h.expires_at', 'h.order_id', 'h.channel_id', 'c.code as channel');
}

export async function holdLines(db: Db | Tx, holdId: string): Promise<{ sku: string; quantity: number }[]> {
  return db('hold_lines as l')
    .join('products as p', 'p.id', 'l.product_id')
    .where('l.hold_id', holdId)
    .orderBy('l.id')
    .select('p.sku', 'l.quantity');
}

/**
 * Ends an active hold (released by the storefront, or expired at its deadline); false when it already ended.
 * A hold an order claimed does not expire: the order takes its units over, or gives them back if it is
 * cancelled first (`releaseClaimedHold`).
 */
export async function endHold(tx: Tx, holdId: string, status: 'released' | 'expired'): Promise<boolean> {
  const hold = await tx('holds').where({ id: holdId }).forUpdate().first('status', 'order_id');
  if (!hold || hold.status !== 'active') return false;
  if (status === 'expired' && hold.order_id) return false;
  await releaseReservations(tx, { holdId });
  await tx('holds').where({ id: holdId }).update({ status, ended_at: tx.fn.now() });
  return true;
}

/** Raised when an order names a hold another order already took. */
export class HoldTaken extends Error {}

/**
 * An order placed with a hold claims it, in the order's transaction. An unknown, ended, expired or other
 * channel's hold is no claim (the order reserves as usual); one another order claimed is refused.
 */
export async function claimHold(tx: Tx, holdId: string, orderId: string, channelId: number): Promise<boolean> {
  const hold = await tx('holds')
    .where({ id: holdId })
    .forUpdate()
    .first('status', 'order_id', 'channel_id', 'expires_at');
  if (!hold || hold.channel_id !== channelId) return false;
  if (hold.order_id && hold.order_id !== orderId)
    throw new HoldTaken(`hold ${holdId} was already used by another order`);
  if (hold.status !== 'active' || new Date(hold.expires_at).getTime() <= Date.now()) return false;
  await tx('holds').where({ id: holdId }).update({ order_id: orderId });
  await tx('sales_orders').where({ id: orderId }).update({ hold_id: holdId });
  return true;
}

/**
 * The order takes over its hold's units, line by line for the same product, in the transaction that reserves
 * it; what the order does not need goes back to stock. Answers the units taken over. A hold that already
 * ended (expired, released) gives nothing: the order reserves as usual.
 */
export async function takeOverHold(tx: Tx, orderId: string, demand: DemandLine[]): Promise<number> {
  const order = await tx('sales_orders').where({ id: orderId }).first('hold_id');
  if (!order?.hold_id) return 0;
  const hold = await tx('holds').where({ id: order.hold_id }).forUpdate().first('status', 'order_id');
  if (!hold || hold.status !== 'active' || hold.order_id !== orderId) return 0;
  const held = await tx('reservations').where({ hold_id: order.hold_id, state: 'active' }).orderBy('id').forUpdate();
  let taken = 0;
  for (const line of demand) {
    if (line.components.length !== 1 || line.components[0].perUnit !== 1) continue; // kits are reserved as usual
    let want = line.remaining;
    for (const r of held.filter((h) => h.product_id === line.components[0].productId && h.quantity > 0)) {
      if (want <= 0) break;
      const units = Math.min(want, r.quantity);
      await tx('reservations').insert({
        order_id: orderId,
        order_line_id: line.lineId,
        warehouse_id: r.warehouse_id,
        location_id: r.location_id,
        product_id: r.product_id,
        quantity: units,
        line_units: units,
        allocation_id: randomUUID(),
      });
      r.quantity -= units;
      await (r.quantity > 0
        ? tx('reservations').where({ id: r.id }).update({ quantity: r.quantity })
        : tx('reservations').where({ id: r.id }).update({ state: 'consumed' }));
      want -= units;
      taken += units;
    }
  }
  await releaseReservations(tx, { holdId: order.hold_id }); // what the order did not need (quants.reserved moved only for these)
  await tx('holds').where({ id: order.hold_id }).update({ status: 'consumed', ended_at: tx.fn.now() });
  return taken;
}

/** A cancelled order gives back the hold it claimed and never took over. */
export async function releaseClaimedHold(tx: Tx, orderId: string): Promise<void> {
  const hold = await tx('holds').where({ order_id: orderId, status: 'active' }).forUpdate().first('id');
  if (!hold) return;
  await releaseReservations(tx, { holdId: hold.id });
  await tx('holds').where({ id: hold.id }).update({ status: 'released', ended_at: tx.fn.now() });
}
