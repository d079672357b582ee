/** Inventory activities: reserve stock for an order, release it, and the cycle count. */
import { channelById } from '../../db/channels';
import { endHold, takeOverHold } from '../../db/holds';
import { inTransaction, Tx } from '../../db';
import { componentsOfKits } from '../../db/catalog';
import {
  allocate,
  allocatedUnitsByLine,
  DemandLine,
  holdStock,
  locationCodeAndSku,
  lockStock,
  recomputedBalances,
  releaseReservations,
  unshippedAllocations,
} from '../../db/inventory';
import { raiseException } from '../../db/exceptions';
import { lockOrderForReservation, orderLinesForAllocation } from '../../db/sales';
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
  const lines = await orderLinesForAllocation(tx, orderId);
  const allocated = await allocatedUnitsByLine(tx, orderId);
  const done = new Map<number, number>(allocated.map((a) => [a.order_line_id, a.units]));
  const kitIds = lines.filter((l) => l.kind === 'kit').map((l) => l.product_id);
  const components = kitIds.length ? await componentsOfKits(tx, kitIds) : [];
  return lines.map((l) => ({
    lineId: l.id,
    remaining: l.quantity - l.quantity_cancelled - (done.get(l.id) ?? 0),
    components:
      l.kind === 'kit'
        ? components
            .filter((c) => c.kit_product_id === l.product_id)
            .map((c) => ({ productId: c.component_product_id, perUnit: c.quantity }))
        : [{ productId: l.product_id, perUnit: 1 }],
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
        const order = await lockOrderForReservation(tx, input.orderId);
        if (!order) throw new Error(`Order ${input.orderId} not found`);
        if (order.status === 'cancelled') return { readyToShip: 0, shortUnits: 0, warehouses: [] };
        let demand = (await demandOf(tx, input.orderId)).filter((l) => l.remaining > 0);
        // Units held at checkout become this order's first, in this transaction; the rest is reserved as usual.
        if (await takeOverHold(tx, input.orderId, demand)) {
          demand = (await demandOf(tx, input.orderId)).filter((l) => l.remaining > 0);
        }
        if (demand.length === 0) return readyToShip(tx, input.orderId, 0);
        const productIds = [...new Set(demand.flatMap((l) => l.components.map((c) => c.productId)))];
        const stock = await lockStock(tx, productIds, await channelById(tx, order.channel_id));
        const { allocations, shortUnits } = allocate(demand, stock.warehouses, stock.budget);
        if (shortUnits > 0 && !input.allowPartial)
          return readyToShip(
            tx,
            input.orderId,
            demand.reduce((s, l) => s + l.remaining, 0),
          );
        await holdStock(tx, { orderId: input.orderId }, demand, allocations);
        return readyToShip(tx, input.orderId, shortUnits);
      });
    },

    /** A checkout hold's deadline passed: its units go back to stock, once (a hold already ended is left as it is). */
    async expireHold(input: { holdId: string }): Promise<{ expired: boolean }> {
      return { expired: await inTransaction(db, (tx) => endHold(tx, input.holdId, 'expired')) };
    },

    /**
     * Recomputes every internal balance from the moves and the active reservations, in one
     * consistent snapshot, and opens a stock_drift case (with the numbers) for each difference.
     * Nothing is corrected here: a drift has a cause a person must find.
     */
    async reconcileStock(): Promise<{
      checked: number;
      drifts: {
        locationId: number;
        productId: number;
        onHand: number;
        fromMoves: number;
        reserved: number;
        fromReservations: number;
      }[];
    }> {
      return inTransaction(db, async (tx) => {
        const rows = await recomputedBalances(tx);
        const drifts = rows
          .filter((r) => r.on_hand !== r.from_moves || r.reserved !== r.from_reservations)
          .map((r) => ({
            locationId: r.location_id,
            productId: r.product_id,
            onHand: r.on_hand,
            fromMoves: r.from_moves,
            reserved: r.reserved,
            fromReservations: r.from_reservations,
          }));
        const day = new Date().toISOString().slice(0, 10);
        for (const d of drifts) {
          const where = await locationCodeAndSku(tx, d.locationId, d.productId);
          await raiseException(tx, {
            key: `stock_drift:${d.locationId}:${d.productId}:${day}`,
            type: 'stock_drift',
            severity: 'high',
            queue: 'inventory',
            subjectType: 'sku',
            subjectId: where.sku,
            summary: `${where.sku} at ${where.code}: on hand ${d.onHand} but moves sum to ${d.fromMoves}; reserved ${d.reserved} but active reservations hold ${d.fromReservations}`,
            details: { ...d, location: where.code, sku: where.sku },
          });
        }
        return { checked: rows.length, drifts };
      });
    },

    /** Releases every active reservation of the order that has not shipped (compensation). */
    async releaseReservations(input: { orderId: string }): Promise<void> {
      await inTransaction(db, async (tx) => releaseReservations(tx, { orderId: input.orderId }));
    },
  };
}

/** Units reserved for the order and not yet on a shipment, and where they are. */
async function readyToShip(tx: Tx, orderId: string, shortUnits: number): Promise<ReservationResult> {
  const rows = await unshippedAllocations(tx, orderId);
  return {
    readyToShip: rows.reduce((s, r) => s + r.line_units, 0),
    shortUnits,
    warehouses: [...new Set(rows.map((r) => r.code))].sort(),
  };
}
