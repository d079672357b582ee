/**
 * Stock moves, quants and reservations: the whole inventory truth.
 *
 * Every change of stock goes through `applyMove`, which records the move and
 * updates the quants of internal locations in the caller's transaction, so the
 * balance can never drift from the moves. Reservation locks the quant rows it
 * reads in a fixed order (location, product), so concurrent orders queue on the
 * rows instead of deadlocking, and the CHECK constraints on quants make an
 * oversell impossible even for code that forgets to check.
 */
import type { Db, Tx } from './index';
import { raiseException } from './outbox';

export interface Move {
  productId: number;
  fromLocationId: number;
  toLocationId: number;
  quantity: number;
  unitCost: number;
  sourceType: string;
  sourceId: string;
  key: string; // one move per step: a retry with the same key changes nothing
  consumesReservation?: boolean; // the quantity leaving was reserved (shipping a reservation)
}

/** Records a done move and updates the quants. Returns false when the key was already applied. */
export async function applyMove(tx: Tx, move: Move): Promise<boolean> {
  const inserted = await tx('stock_moves')
    .insert({
      product_id: move.productId,
      from_location_id: move.fromLocationId,
      to_location_id: move.toLocationId,
      quantity: move.quantity,
      unit_cost: move.unitCost,
      source_type: move.sourceType,
      source_id: move.sourceId,
      idempotency_key: move.key,
    })
    .onConflict('idempotency_key')
    .ignore()
    .returning('id');
  if (inserted.length === 0) return false;
  const internal = await tx('locations').whereIn('id', [move.fromLocationId, move.toLocationId]).where('internal', true).pluck('id');
  if (internal.includes(move.fromLocationId)) {
    const reservedDelta = move.consumesReservation ? move.quantity : 0;
    const updated = await tx('quants')
      .where({ location_id: move.fromLocationId, product_id: move.productId })
      .update({ on_hand: tx.raw('on_hand - ?', [move.quantity]), reserved: tx.raw('reserved - ?', [reservedDelta]) });
    if (updated === 0) throw new InsufficientStockError(move.productId, move.fromLocationId, move.quantity);
  }
  if (internal.includes(move.toLocationId)) {
    await tx.raw(
      `INSERT INTO quants (location_id, product_id, on_hand, reserved) VALUES (?, ?, ?, 0)
       ON CONFLICT (location_id, product_id) DO UPDATE SET on_hand = quants.on_hand + EXCLUDED.on_hand`,
      [move.toLocationId, move.productId, move.quantity],
    );
  }
  return true;
}

export class InsufficientStockError extends Error {
  constructor(productId: number, locationId: number, quantity: number) {
    super(`Not enough stock of product ${productId} at location ${locationId} to move ${quantity}`);
  }
}

/** The ids of the installation's virtual locations. */
export async function virtualLocation(tx: Tx, type: 'supplier' | 'customer' | 'inventory_loss' | 'scrap'): Promise<number> {
  const row = await tx('locations').where({ type }).whereNull('warehouse_id').first('id');
  if (!row) throw new Error(`Virtual location ${type} is missing; run the migrations`);
  return row.id;
}

// ---------------------------------------------------------------------------
// Allocation: which warehouse ships which order units.

export interface DemandLine {
  lineId: number;
  remaining: number; // order-line units still to allocate
  components: { productId: number; perUnit: number }[]; // a stocked item is its own single component
}

export interface WarehouseStock {
  warehouseId: number;
  locationId: number;
  priority: number;
  available: Map<number, number>; // productId → on hand − reserved
}

export interface Allocation {
  warehouseId: number;
  locationId: number;
  lines: { lineId: number; units: number }[];
}

/** How many units of each line one warehouse can cover, taking shared components into account. */
function coverage(lines: DemandLine[], remaining: Map<number, number>, stock: Map<number, number>): { lineId: number; units: number }[] {
  const left = new Map(stock);
  const covered: { lineId: number; units: number }[] = [];
  for (const line of lines) {
    const want = remaining.get(line.lineId) ?? 0;
    if (want <= 0) continue;
    let units = want;
    for (const c of line.components) units = Math.min(units, Math.floor((left.get(c.productId) ?? 0) / c.perUnit));
    if (units <= 0) continue;
    for (const c of line.components) left.set(c.productId, (left.get(c.productId) ?? 0) - units * c.perUnit);
    covered.push({ lineId: line.lineId, units });
  }
  return covered;
}

const total = (xs: { units: number }[]) => xs.reduce((s, x) => s + x.units, 0);

/**
 * The allocation strategy: fewest shipments first, then warehouse priority.
 * 1. If one warehouse can ship everything, the highest-priority such warehouse ships it all.
 * 2. Otherwise, repeatedly take the warehouse that covers the most remaining units
 *    (ties go to priority) until the order is covered or no warehouse can add anything.
 * Greedy set cover is not always minimal, but it is predictable and explainable.
 */
export function allocate(lines: DemandLine[], warehouses: WarehouseStock[]): { allocations: Allocation[]; shortUnits: number } {
  const byPriority = [...warehouses].sort((a, b) => a.priority - b.priority || a.warehouseId - b.warehouseId);
  const remaining = new Map(lines.map((l) => [l.lineId, l.remaining]));
  const wanted = total(lines.map((l) => ({ units: l.remaining })));
  const allocations: Allocation[] = [];
  const whole = byPriority.find((w) => total(coverage(lines, remaining, w.available)) === wanted);
  const pool = whole ? [whole] : byPriority;
  for (;;) {
    let best: { w: WarehouseStock; covered: { lineId: number; units: number }[] } | undefined;
    for (const w of pool) {
      if (allocations.some((a) => a.warehouseId === w.warehouseId)) continue;
      const covered = coverage(lines, remaining, w.available);
      if (total(covered) > 0 && (!best || total(covered) > total(best.covered))) best = { w, covered };
    }
    if (!best) break;
    allocations.push({ warehouseId: best.w.warehouseId, locationId: best.w.locationId, lines: best.covered });
    for (const c of best.covered) remaining.set(c.lineId, (remaining.get(c.lineId) ?? 0) - c.units);
  }
  return { allocations, shortUnits: total([...remaining.values()].map((units) => ({ units }))) };
}

// ---------------------------------------------------------------------------
// Positions and counts.

/** On hand, reserved and available per warehouse for one SKU (kits: what the components can build). */
export async function stockPosition(tx: Db, productId: number, kind: 'stocked' | 'kit') {
  const warehouses = await tx('warehouses as w').join('locations as l', function () {
    this.on('l.warehouse_id', 'w.id').andOnVal('l.type', 'stock');
  }).orderBy('w.priority').select('w.id', 'w.code', 'l.id as location_id');
  const components = kind === 'kit' ? await tx('kit_components').where({ kit_product_id: productId }) : [{ component_product_id: productId, quantity: 1 }];
  const productIds = components.map((c) => c.component_product_id);
  const quants = await tx('quants').whereIn('location_id', warehouses.map((w) => w.location_id)).whereIn('product_id', productIds);
  const incoming = await incomingUnits(tx, productIds);
  const rows = warehouses.map((w) => {
    const per = components.map((c) => {
      const q = quants.find((x) => x.location_id === w.location_id && x.product_id === c.component_product_id);
      const due = incoming.find((x) => x.warehouse_id === w.id && x.product_id === c.component_product_id)?.units ?? 0;
      return {
        onHand: Math.floor((q?.on_hand ?? 0) / c.quantity), reserved: Math.ceil((q?.reserved ?? 0) / c.quantity), available: Math.floor(((q?.on_hand ?? 0) - (q?.reserved ?? 0)) / c.quantity),
        incoming: Math.floor(due / c.quantity),
      };
    });
    const pick = (k: 'onHand' | 'reserved' | 'available' | 'incoming') => (kind === 'kit' ? Math.min(...per.map((p) => p[k])) : per[0][k]);
    return { warehouse: w.code as string, onHand: pick('onHand'), reserved: kind === 'kit' ? 0 : pick('reserved'), available: pick('available'), incoming: pick('incoming') };
  });
  const sum = (k: 'onHand' | 'reserved' | 'available' | 'incoming') => rows.reduce((s, r) => s + r[k], 0);
  return { warehouses: rows, total: { onHand: sum('onHand'), reserved: sum('reserved'), available: sum('available'), incoming: sum('incoming') } };
}

/**
 * Units on open purchase orders not yet received, per warehouse and product. By default only orders
 * approved or sent (what GET /v1/inventory calls incoming); the planner also counts drafts.
 */
export async function incomingUnits(tx: Db, productIds: number[], statuses: readonly string[] = ['approved', 'sent', 'partially_received']): Promise<{ warehouse_id: number; product_id: number; units: number }[]> {
  return tx('purchase_order_lines as l').join('purchase_orders as po', 'po.id', 'l.po_id')
    .whereIn('po.status', statuses).whereIn('l.product_id', productIds)
    .groupBy('po.warehouse_id', 'l.product_id')
    .select('po.warehouse_id', 'l.product_id', tx.raw('SUM(GREATEST(l.quantity - l.received_qty - l.cancelled_qty, 0))::int AS units'));
}

/** Orders waiting for stock of this product (directly or through a kit), to be nudged when stock arrives. */
export async function ordersWaitingFor(tx: Tx, productId: number): Promise<string[]> {
  return tx('sales_orders as o')
    .join('sales_order_lines as l', 'l.order_id', 'o.id')
    .leftJoin('kit_components as k', 'k.kit_product_id', 'l.product_id')
    .where('o.status', 'backordered')
    .andWhere((q) => q.where('l.product_id', productId).orWhere('k.component_product_id', productId))
    .distinct('o.workflow_id')
    .pluck('o.workflow_id');
}

// ---------------------------------------------------------------------------
// Shortfalls: the shelf holds less than the books promised.

/** An order that lost reserved units to a shortfall. */
export interface Shortfall {
  orderId: string;
  workflowId: string;
  externalRef: string;
  units: number; // order-line units no longer reserved
}

/**
 * The shelf holds fewer units than are reserved (a count found less): releases whole allocations, the latest
 * promise first (the customer who ordered last is the one told of a delay, as a queue would have it), units in a
 * picker's hands last, until what stays reserved fits what is there. The pending shipments those allocations were
 * on shrink (or are cancelled when empty). The caller holds the quant's row lock; the orders are locked here, as
 * creating and dispatching shipments do, so neither can use a reservation being released.
 */
export async function releaseShortfall(tx: Tx, locationId: number, productId: number, onHand: number): Promise<Shortfall[]> {
  const quant = await tx('quants').where({ location_id: locationId, product_id: productId }).first('reserved');
  let excess = (quant?.reserved ?? 0) - onHand;
  if (excess <= 0) return [];
  const held: { allocation_id: string; quantity: number; order_id: string }[] = await tx('reservations as r').leftJoin('shipments as s', 's.id', 'r.shipment_id')
    .where({ 'r.location_id': locationId, 'r.product_id': productId, 'r.state': 'active' })
    .orderByRaw(`CASE WHEN s.status IN ('picked', 'packed') THEN 1 ELSE 0 END, r.created_at DESC, r.id DESC`)
    .select('r.allocation_id', 'r.quantity', 'r.order_id');
  const chosen = new Set<string>();
  for (const h of held) {
    if (excess <= 0) break;
    if (chosen.has(h.allocation_id)) continue;
    chosen.add(h.allocation_id);
    excess -= h.quantity;
  }
  const orderIds = [...new Set(held.filter((h) => chosen.has(h.allocation_id)).map((h) => h.order_id))].sort();
  await tx('sales_orders').whereIn('id', orderIds).orderBy('id').forUpdate().select('id');
  const rows = await tx('reservations').whereIn('allocation_id', [...chosen]).where('state', 'active').orderBy(['location_id', 'product_id']).forUpdate();
  for (const r of rows) await tx('quants').where({ location_id: r.location_id, product_id: r.product_id }).decrement('reserved', r.quantity);
  await tx('reservations').whereIn('id', rows.map((r) => r.id)).update({ state: 'released' });

  // Line units per order and per shipment line (a kit's rows share one allocation: count it once).
  const lost = new Map<string, number>();
  const onShipments = new Map<string, { shipmentId: string; lineId: number; units: number }>();
  const counted = new Set<string>();
  for (const r of rows) {
    if (counted.has(r.allocation_id)) continue;
    counted.add(r.allocation_id);
    lost.set(r.order_id, (lost.get(r.order_id) ?? 0) + r.line_units);
    if (!r.shipment_id) continue;
    const key = `${r.shipment_id}:${r.order_line_id}`;
    const prev = onShipments.get(key) ?? { shipmentId: r.shipment_id, lineId: r.order_line_id, units: 0 };
    onShipments.set(key, { ...prev, units: prev.units + r.line_units });
  }
  for (const l of onShipments.values()) {
    await tx('shipment_lines').where({ shipment_id: l.shipmentId, order_line_id: l.lineId }).where('quantity', '>', l.units).decrement('quantity', l.units);
    await tx('shipment_lines').where({ shipment_id: l.shipmentId, order_line_id: l.lineId }).where('quantity', '<=', l.units).delete();
  }
  const emptied = [...new Set([...onShipments.values()].map((l) => l.shipmentId))];
  if (emptied.length) {
    await tx('shipments').whereIn('id', emptied).whereIn('status', ['pending', 'picked', 'packed'])
      .whereNotExists(tx('shipment_lines').whereRaw('shipment_lines.shipment_id = shipments.id')).update({ status: 'cancelled' });
  }
  const orders = await tx('sales_orders').whereIn('id', orderIds).select('id', 'workflow_id', 'external_ref');
  return orders.map((o) => ({ orderId: o.id, workflowId: o.workflow_id, externalRef: o.external_ref, units: lost.get(o.id) ?? 0 }));
}

/**
 * What every loss from the shelf does after it is known (a count, a short pick, damage): releases the promises
 * the shelf no longer covers and, when orders were hurt, lists them in one `stock_shortfall` case for the cause.
 */
export async function settleShortfall(tx: Tx, at: { locationId: number; productId: number; onHand: number; sku: string; warehouse: string }, cause: { key: string; what: string; details?: object }): Promise<{ hurt: Shortfall[]; caseId?: string }> {
  const hurt = await releaseShortfall(tx, at.locationId, at.productId, at.onHand);
  if (!hurt.length) return { hurt };
  const caseId = await raiseException(tx, {
    key: `stock_shortfall:${cause.key}`, type: 'stock_shortfall', severity: 'high', queue: 'inventory', subjectType: 'sku', subjectId: at.sku,
    summary: `${cause.what}: ${at.sku} at ${at.warehouse} holds ${at.onHand}, less than was promised; ${hurt.length} order(s) re-plan`,
    details: { ...cause.details, warehouse: at.warehouse, onHand: at.onHand, orders: hurt.map((h) => ({ orderId: h.orderId, externalRef: h.externalRef, units: h.units })) },
  });
  return { hurt, caseId };
}
