/** Inventory activities: reserve stock for an order, release it, and the cycle count. */
import { endHold, takeOverHold } from '../../db/holds';
import { inTransaction } from '../../db';
import {
  demandOf,
  locationCodeAndSku,
  recomputedBalances,
  releaseReservations,
  reserveOrder,
  type ReservationResult,
} from '../../db/inventory';
import { raiseException } from '../../db/exceptions';
import { lockOrderForReservation } from '../../db/sales';
import { writeOrderStatus } from '../sales/status';
import type { OrderStatus } from '../../contracts/order-types';
import type { ActivityDeps } from '../deps';

export function inventoryActivities({ db }: ActivityDeps) {
  /** One statement; an order that claimed a checkout hold takes the held units over first, in a transaction. */
  async function reserveOrRest(input: { orderId: string; allowPartial: boolean }): Promise<ReservationResult> {
    const result = await reserveOrder(db, input.orderId, input.allowPartial);
    if (!result) throw new Error(`Order ${input.orderId} not found`);
    if (!('takeOverHold' in result)) return result;
    return inTransaction(db, async (tx) => {
      await lockOrderForReservation(tx, input.orderId);
      await takeOverHold(
        tx,
        input.orderId,
        (await demandOf(tx, input.orderId)).filter((l) => l.remaining > 0),
      );
      const rest = await reserveOrder(tx, input.orderId, input.allowPartial);
      if (!rest || 'takeOverHold' in rest) throw new Error(`Order ${input.orderId}: its hold was not taken over`);
      return rest;
    });
  }

  return {
    /**
     * Reserves what is still unallocated on the order. With allowPartial false it reserves all or nothing.
     * Safe to repeat: a retry after a commit finds nothing left to allocate. One statement (`reserve_order`),
     * so a hot SKU's row is locked for that statement only; an order that claimed a checkout hold takes the
     * held units over first, in a transaction, and reserves the rest in it.
     */
    async reserveStock(input: {
      orderId: string;
      allowPartial: boolean;
      /** The status people see after this step, written by it (the process's next status, without a step of its own). */
      status?: { whenReserved: OrderStatus; whenShort?: OrderStatus };
    }): Promise<ReservationResult> {
      const result = await reserveOrRest(input);
      const status = input.status && (result.shortUnits === 0 ? input.status.whenReserved : input.status.whenShort);
      if (status) await inTransaction(db, (tx) => writeOrderStatus(tx, input.orderId, status, { forwardOnly: true }));
      return result;
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
