/** Inventory activities: reserve stock for an order, release it, and the cycle count. */
import { randomUUID } from 'node:crypto';
import { inTransaction, Tx } from '../../db';
import { allocate, Allocation, DemandLine, WarehouseStock } from '../../db/inventory';
import { raiseException } from '../../db/outbox';
import type { ActivityDeps } from '../deps';

/**
 * What the order's stock position is after reserving: a state, not a delta,
 * so a retried call answers exactly like the first one.
 */
export interface ReservationResult {
  readyToShip: number; // order-line units reserved and not yet on a shipment
  shortUnits: number; // order-line units still without stock
  warehouses: string[]; // where the ready units are
}

/** Order lines with what is still to allocate, kits expanded into their components. */
export async function demandOf(tx: Tx, orderId: string): Promise<DemandLine[]> {
  const lines = await tx('sales_order_lines as l')
    .join('products as p', 'p.id', 'l.product_id')
    .where('l.order_id', orderId)
    .orderBy('l.line_no')
    .select('l.id', 'l.quantity', 'l.quantity_cancelled', 'l.product_id', 'p.kind');
  const allocated = await tx
    .from(tx('reservations').where({ order_id: orderId }).whereNot('state', 'released').distinct('allocation_id', 'order_line_id', 'line_units').as('a'))
    .groupBy('order_line_id')
    .select('order_line_id', tx.raw('SUM(line_units)::int AS units'));
  const done = new Map<number, number>(allocated.map((a: { order_line_id: number; units: number }) => [a.order_line_id, a.units]));
  const kitIds = lines.filter((l) => l.kind === 'kit').map((l) => l.product_id);
  const components = kitIds.length ? await tx('kit_components').whereIn('kit_product_id', kitIds) : [];
  return lines.map((l) => ({
    lineId: l.id,
    remaining: l.quantity - l.quantity_cancelled - (done.get(l.id) ?? 0),
    components:
      l.kind === 'kit'
        ? components.filter((c) => c.kit_product_id === l.product_id).map((c) => ({ productId: c.component_product_id, perUnit: c.quantity }))
        : [{ productId: l.product_id, perUnit: 1 }],
  }));
}

/** Locks the stock quants of every warehouse for these products, in a fixed order, and reads what is available. */
export async function lockStock(tx: Tx, productIds: number[], safetyBuffer: number): Promise<WarehouseStock[]> {
  const warehouses = await tx('warehouses as w')
    .join('locations as l', function () {
      this.on('l.warehouse_id', 'w.id').andOnVal('l.type', 'stock');
    })
    .select('w.id as warehouseId', 'l.id as locationId', 'w.priority');
  const quants = await tx('quants')
    .whereIn('location_id', warehouses.map((w) => w.locationId))
    .whereIn('product_id', productIds)
    .orderBy(['location_id', 'product_id'])
    .forUpdate()
    .select('location_id', 'product_id', 'on_hand', 'reserved');
  return warehouses.map((w) => ({
    ...w,
    available: new Map(
      quants.filter((q) => q.location_id === w.locationId).map((q) => [q.product_id, Math.max(0, q.on_hand - q.reserved - safetyBuffer)]),
    ),
  }));
}

export function inventoryActivities({ db }: ActivityDeps) {
  return {
    /**
     * Reserves what is still unallocated on the order, in one transaction.
     * With allowPartial false it reserves all or nothing. Safe to repeat: a retry
     * after a commit finds nothing left to allocate.
     */
    async reserveStock(input: { orderId: string; allowPartial: boolean }): Promise<ReservationResult> {
      return inTransaction(db, async (tx) => {
        const order = await tx('sales_orders as o').join('channels as c', 'c.id', 'o.channel_id').where('o.id', input.orderId).forUpdate('o').first('o.status', 'c.safety_buffer');
        if (!order) throw new Error(`Order ${input.orderId} not found`);
        if (order.status === 'cancelled') return { readyToShip: 0, shortUnits: 0, warehouses: [] };
        const demand = (await demandOf(tx, input.orderId)).filter((l) => l.remaining > 0);
        if (demand.length === 0) return readyToShip(tx, input.orderId, 0);
        const productIds = [...new Set(demand.flatMap((l) => l.components.map((c) => c.productId)))];
        const stock = await lockStock(tx, productIds, order.safety_buffer);
        const { allocations, shortUnits } = allocate(demand, stock);
        if (shortUnits > 0 && !input.allowPartial) return readyToShip(tx, input.orderId, demand.reduce((s, l) => s + l.remaining, 0));
        await holdStock(tx, input.orderId, demand, allocations);
        return readyToShip(tx, input.orderId, shortUnits);
      });
    },

    /**
     * Recomputes every internal balance from the moves and the active reservations, in one
     * consistent snapshot, and opens a stock_drift case (with the numbers) for each difference.
     * Nothing is corrected here: a drift has a cause a person must find.
     */
    async reconcileStock(): Promise<{ checked: number; drifts: { locationId: number; productId: number; onHand: number; fromMoves: number; reserved: number; fromReservations: number }[] }> {
      return inTransaction(db, async (tx) => {
        const rows = (await tx.raw(`
          WITH moved AS (
            SELECT m.location_id, m.product_id, SUM(m.qty)::int AS qty FROM (
              SELECT to_location_id AS location_id, product_id, quantity AS qty FROM stock_moves WHERE state = 'done'
              UNION ALL SELECT from_location_id, product_id, -quantity FROM stock_moves WHERE state = 'done') m
            JOIN locations l ON l.id = m.location_id AND l.internal GROUP BY 1, 2),
          held AS (SELECT location_id, product_id, SUM(quantity)::int AS qty FROM reservations WHERE state = 'active' GROUP BY 1, 2)
          SELECT COALESCE(q.location_id, m.location_id) AS location_id, COALESCE(q.product_id, m.product_id) AS product_id,
                 COALESCE(q.on_hand, 0) AS on_hand, COALESCE(m.qty, 0) AS from_moves, COALESCE(q.reserved, 0) AS reserved, COALESCE(h.qty, 0) AS from_reservations
            FROM quants q FULL OUTER JOIN moved m ON m.location_id = q.location_id AND m.product_id = q.product_id
            LEFT JOIN held h ON h.location_id = COALESCE(q.location_id, m.location_id) AND h.product_id = COALESCE(q.product_id, m.product_id)`)).rows;
        const drifts = rows.filter((r: { on_hand: number; from_moves: number; reserved: number; from_reservations: number }) => r.on_hand !== r.from_moves || r.reserved !== r.from_reservations)
          .map((r: { location_id: number; product_id: number; on_hand: number; from_moves: number; reserved: number; from_reservations: number }) => ({ locationId: r.location_id, productId: r.product_id, onHand: r.on_hand, fromMoves: r.from_moves, reserved: r.reserved, fromReservations: r.from_reservations }));
        const day = new Date().toISOString().slice(0, 10);
        for (const d of drifts) {
          const where = await tx('locations as l').join('products as p', 'p.id', tx.raw('?', [d.productId])).where('l.id', d.locationId).first('l.code', 'p.sku');
          await raiseException(tx, {
            key: `stock_drift:${d.locationId}:${d.productId}:${day}`, type: 'stock_drift', severity: 'high', queue: 'inventory', subjectType: 'sku', subjectId: where.sku,
            summary: `${where.sku} at ${where.code}: on hand ${d.onHand} but moves sum to ${d.fromMoves}; reserved ${d.reserved} but active reservations hold ${d.fromReservations}`,
            details: { ...d, location: where.code, sku: where.sku },
          });
        }
        return { checked: rows.length, drifts };
      });
    },

    /** Releases every active reservation of the order that has not shipped (compensation). */
    async releaseReservations(input: { orderId: string }): Promise<void> {
      await inTransaction(db, async (tx) => releaseActive(tx, input.orderId));
    },
  };
}

/** Writes the reservations of an allocation and raises the reserved quantity of each quant. */
export async function holdStock(tx: Tx, orderId: string, demand: DemandLine[], allocations: Allocation[]): Promise<void> {
  for (const a of allocations) {
    for (const { lineId, units } of a.lines) {
      const line = demand.find((l) => l.lineId === lineId)!;
      const allocationId = randomUUID();
      for (const c of line.components) {
        await tx('reservations').insert({
          order_id: orderId, order_line_id: lineId, warehouse_id: a.warehouseId, location_id: a.locationId,
          product_id: c.productId, quantity: units * c.perUnit, line_units: units, allocation_id: allocationId,
        });
        await tx('quants').where({ location_id: a.locationId, product_id: c.productId }).increment('reserved', units * c.perUnit);
      }
    }
  }
}

/** Units reserved for the order and not yet on a shipment, and where they are. */
async function readyToShip(tx: Tx, orderId: string, shortUnits: number): Promise<ReservationResult> {
  const rows = await tx
    .from(tx('reservations').where({ order_id: orderId, state: 'active' }).whereNull('shipment_id').distinct('allocation_id', 'line_units', 'warehouse_id').as('a'))
    .join('warehouses as w', 'w.id', 'a.warehouse_id')
    .select('w.code', 'a.line_units');
  return {
    readyToShip: rows.reduce((s: number, r: { line_units: number }) => s + r.line_units, 0),
    shortUnits,
    warehouses: [...new Set(rows.map((r: { code: string }) => r.code))].sort(),
  };
}

/** Gives active, unshipped reservations back to available stock. Used by cancellation too. */
export async function releaseActive(tx: Tx, orderId: string): Promise<number> {
  const active = await tx('reservations').where({ order_id: orderId, state: 'active' }).orderBy(['location_id', 'product_id']).forUpdate();
  for (const r of active) {
    await tx('quants').where({ location_id: r.location_id, product_id: r.product_id }).decrement('reserved', r.quantity);
  }
  await tx('reservations').whereIn('id', active.map((r) => r.id)).update({ state: 'released' });
  return active.length;
}
