/**
 * Shipping activities: turn reservations into shipments (one per warehouse and
 * wave), record warehouse progress, and dispatch: the stock leaves for the
 * customer location and its cost is booked, all in one transaction.
 */
import { inTransaction } from '../../db';
import { Context } from '@temporalio/activity';
import { componentsOf, skuOf } from '../../db/catalog';
import {
  activeReservationsOfShipment,
  allocate,
  applyMove,
  assignLooseReservations,
  assignReservations,
  consumeReservations,
  holdStock,
  locationOf,
  lockLineReservations,
  lockQuant,
  lockStock,
  NO_CHANNEL_LIMITS,
  looseReservations,
  movedUnits,
  movesByKeyPrefix,
  releaseShipmentReservations,
  settleShortfall,
  takeFromReservation,
  unreserve,
  virtualLocation,
  warehouseCode,
} from '../../db/inventory';
import { stockLostSignal } from '../../contracts/order-messages';
import { lockCosts } from '../../db/valuation';
import { demandOf } from '../../db/inventory';
import { ACCOUNT, entryDebits, postEntry } from '../../db/ledger';
import { queueNotification } from '../../db/notifications';
import {
  addShippedUnits,
  lockOrder,
  moveCancelledToShipped,
  moveShippedToCancelled,
  orderShippingAddress,
} from '../../db/sales';
import { writeOrderStatus } from '../sales/status';
import type { OrderStatus } from '../../contracts/order-types';
import {
  addShipmentLines,
  advanceShipment,
  createShipment,
  lockShipmentForDispatch,
  markShipped,
  parcelOf,
  pickLines,
  reshipsOf,
  setPickedQuantity,
  setShipmentStatus,
  shipmentIsEmpty,
  shipmentLines,
  shipmentsOfOrder,
  shipmentsOfWave,
  shipmentWithCurrency,
  wasShipped,
} from '../../db/shipping';
import { queueMarketplaceUpdate } from '../../db/marketplace';
import type { ActivityDeps } from '../deps';

export interface ShipmentRef {
  shipmentId: string;
  warehouse: string;
  free?: boolean; // a reship of a dispatched parcel: never invoiced or counted again
}

export type ProgressEvent = 'picked' | 'packed' | 'delivered' | 'failed';

/**
 * The sandbox address validator: behaves like a real one for the cases a
 * storefront developer needs to provoke. Postal code 00000 is undeliverable.
 */
export function validateAddressSandbox(a: { postalCode: string }): { valid: boolean; reason?: string } {
  if (a.postalCode.replace(/\s/g, '') === '00000')
    return { valid: false, reason: `postal code ${a.postalCode} is not deliverable` };
  return { valid: true };
}

export function shippingActivities({ db }: ActivityDeps) {
  return {
    async validateAddress(input: { orderId: string }): Promise<{ valid: boolean; reason?: string }> {
      return validateAddressSandbox(await orderShippingAddress(db, input.orderId));
    },

    /**
     * Groups the order's unshipped reservations into one shipment per warehouse. Repeating a wave returns its
     * shipments. With `status`, the order's status people see becomes it when the wave has shipments (the
     * process's next status, written in this step's transaction instead of a step of its own).
     */
    async createShipments(input: { orderId: string; wave: number; status?: OrderStatus }): Promise<ShipmentRef[]> {
      return inTransaction(db, async (tx) => {
        await lockOrder(tx, input.orderId);
        const loose = await looseReservations(tx, input.orderId);
        for (const warehouseId of [...new Set(loose.map((r) => r.warehouse_id as number))]) {
          const mine = loose.filter((r) => r.warehouse_id === warehouseId);
          const shipmentId = await createShipment(tx, { orderId: input.orderId, warehouseId, wave: input.wave });
          const units = new Map<number, number>();
          const seen = new Set<string>();
          for (const r of mine) {
            if (seen.has(r.allocation_id)) continue; // kit components share one allocation
            seen.add(r.allocation_id);
            units.set(r.order_line_id, (units.get(r.order_line_id) ?? 0) + r.line_units);
          }
          await addShipmentLines(
            tx,
            shipmentId,
            [...units].map(([orderLineId, quantity]) => ({ orderLineId, quantity })),
          );
          await assignReservations(
            tx,
            mine.map((r) => r.id),
            shipmentId,
          );
        }
        const rows = await shipmentsOfWave(tx, input.orderId, input.wave);
        if (input.status && rows.length > 0)
          await writeOrderStatus(tx, input.orderId, input.status, { forwardOnly: true });
        return rows.map((r) => ({ shipmentId: r.id, warehouse: r.code }));
      });
    },

    /**
     * A failed shipment goes out again, free of charge: fresh stock is reserved for its
     * lines (all or nothing, same allocation strategy) into new shipment(s) marked as
     * its reship. Answers null when the stock is not there. Repeating answers the same.
     */
    async reshipShipment(input: {
      orderId: string;
      failedShipmentId: string;
      wave: number;
    }): Promise<ShipmentRef[] | null> {
      return inTransaction(db, async (tx) => {
        await lockOrder(tx, input.orderId);
        const free = await wasShipped(tx, input.failedShipmentId); // it left and was invoiced; one that never left ships (and bills) as usual
        const existing = await reshipsOf(tx, input.failedShipmentId);
        if (existing.length) return existing.map((r) => ({ shipmentId: r.id, warehouse: r.code, free }));
        const lines = await shipmentLines(tx, input.failedShipmentId);
        const all = await demandOf(tx, input.orderId);
        const demand = lines.map((l) => ({ ...all.find((d) => d.lineId === l.order_line_id)!, remaining: l.quantity }));
        const productIds = [...new Set(demand.flatMap((d) => d.components.map((c) => c.productId)))];
        const stock = await lockStock(tx, productIds, NO_CHANNEL_LIMITS); // already sold: no channel's promise applies
        const { allocations, shortUnits } = await allocate(tx, demand, stock.warehouses);
        if (shortUnits > 0) return null;
        await holdStock(tx, { orderId: input.orderId }, demand, allocations);
        const refs: ShipmentRef[] = [];
        for (const a of allocations) {
          const shipmentId = await createShipment(tx, {
            orderId: input.orderId,
            warehouseId: a.warehouseId,
            wave: input.wave,
            reshipOf: input.failedShipmentId,
          });
          await addShipmentLines(
            tx,
            shipmentId,
            a.lines.map((l) => ({ orderLineId: l.lineId, quantity: l.units })),
          );
          await assignLooseReservations(tx, input.orderId, a.warehouseId, shipmentId);
          refs.push({ shipmentId, warehouse: await warehouseCode(tx, a.warehouseId), free });
        }
        return refs;
      });
    },

    /**
     * The picker found fewer units than the shipment asks: the missing ones come off this shipment and its
     * reservations, and off the books as a loss at average cost (the shelf did not have them). The shipment goes
     * on with what was picked (cancelled when nothing was). Once per shipment: a retry answers what was booked.
     */
    async recordShortPick(input: {
      shipmentId: string;
      picked: { sku: string; quantity: number }[];
    }): Promise<{ missingUnits: number; shipmentEmpty: boolean }> {
      return inTransaction(db, async (tx) => {
        const shipment = await shipmentWithCurrency(tx, input.shipmentId);
        await lockOrder(tx, shipment.order_id); // as creating and dispatching shipments do
        const key = `short-pick:${shipment.id}`;
        if (shipment.status !== 'pending') {
          return { missingUnits: await movedUnits(tx, key), shipmentEmpty: shipment.status === 'cancelled' };
        }
        const lines = await pickLines(tx, shipment.id);
        const loss = await virtualLocation(tx, 'inventory_loss');
        const costs = await lockCosts(
          tx,
          lines.map((l) => l.product_id),
        );
        let missingUnits = 0;
        let value = 0;
        for (const line of lines) {
          const picked = input.picked.find((p) => p.sku === line.sku)?.quantity ?? line.quantity;
          const missing = line.quantity - picked;
          if (missing <= 0) continue;
          let left = missing;
          const held = await lockLineReservations(tx, shipment.id, line.order_line_id);
          for (const r of held) {
            if (left <= 0) break;
            const take = Math.min(left, r.quantity);
            left -= take;
            await unreserve(tx, r.location_id, r.product_id, take);
            await takeFromReservation(tx, r, take);
            await applyMove(tx, {
              productId: r.product_id,
              fromLocationId: r.location_id,
              toLocationId: loss,
              quantity: take,
              unitCost: costs.get(r.product_id)!,
              sourceType: 'short_pick',
              sourceId: shipment.id,
              key: `${key}:${r.id}`,
            });
          }
          await setPickedQuantity(tx, shipment.id, line.order_line_id, picked);
          missingUnits += missing;
          value += missing * costs.get(line.product_id)!;
        }
        if (value > 0) {
          await postEntry(tx, {
            key,
            description: `Short pick on shipment ${shipment.id}: ${missingUnits} unit(s) not on the shelf`,
            sourceType: 'short_pick',
            sourceId: shipment.id,
            currency: shipment.currency,
            lines: [
              { account: ACCOUNT.inventoryLoss, debit: value },
              { account: ACCOUNT.inventory, credit: value },
            ],
          });
        }
        const empty = await shipmentIsEmpty(tx, shipment.id);
        await setShipmentStatus(tx, shipment.id, empty ? 'cancelled' : 'picked');
        return { missingUnits, shipmentEmpty: empty };
      });
    },

    /**
     * A parcel of a cancelled order left after all: its units leave the books to the customer, at cost (cost of
     * goods sold, until a person decides), and the order's lines count them as shipped. Units the released stock
     * was promised to meanwhile are released from those orders, which re-plan. Once per shipment.
     */
    async bookShippedAfterCancel(input: {
      shipmentId: string;
      carrier?: string;
      trackingNumber?: string;
    }): Promise<{ units: number; costOfGoods: number }> {
      const out = await inTransaction(db, async (tx) => {
        const { shipment, lines, units } = await parcelOf(tx, input.shipmentId);
        const key = `shipped-after-cancel:${shipment.id}`;
        if (shipment.status !== 'cancelled') {
          return { units, costOfGoods: await entryDebits(tx, key), hurt: [] as string[] };
        }
        const stock = (await locationOf(tx, shipment.warehouse_id, 'stock'))!.id;
        const customer = await virtualLocation(tx, 'customer');
        const parts = await componentsOf(tx, lines);
        const costs = await lockCosts(
          tx,
          parts.map((p) => p.productId),
        );
        const hurt: string[] = [];
        let costOfGoods = 0;
        for (const part of parts) {
          const quant = await lockQuant(tx, stock, part.productId, ['on_hand']);
          const leaving = Math.min(part.quantity, quant?.on_hand ?? 0); // what the books still hold; a shortfall beyond it is a count's to find
          if (leaving <= 0) continue;
          const sku = await skuOf(tx, part.productId);
          const { hurt: lost } = await settleShortfall(
            tx,
            {
              locationId: stock,
              productId: part.productId,
              onHand: quant.on_hand - leaving,
              sku,
              warehouse: shipment.code,
            },
            {
              key: `${key}:${part.productId}`,
              what: 'A parcel of a cancelled order was shipped',
              details: { shipmentId: shipment.id },
            },
          );
          hurt.push(...lost.map((h) => h.workflowId));
          await applyMove(tx, {
            productId: part.productId,
            fromLocationId: stock,
            toLocationId: customer,
            quantity: leaving,
            unitCost: costs.get(part.productId)!,
            sourceType: 'shipment',
            sourceId: shipment.id,
            key: `${key}:${part.productId}`,
          });
          costOfGoods += leaving * costs.get(part.productId)!;
        }
        if (costOfGoods > 0)
          await postEntry(tx, {
            key,
            description: `Parcel ${shipment.id} shipped after its order was cancelled`,
            sourceType: 'shipment',
            sourceId: shipment.id,
            currency: shipment.currency,
            lines: [
              { account: ACCOUNT.costOfGoodsSold, debit: costOfGoods },
              { account: ACCOUNT.inventory, credit: costOfGoods },
            ],
          });
        for (const l of lines) await moveCancelledToShipped(tx, l.order_line_id, l.quantity);
        await markShipped(tx, shipment.id, input.carrier ?? null, input.trackingNumber ?? null);
        return { units, costOfGoods, hurt };
      });
      await Promise.allSettled(
        out.hurt.map((id) => Context.current().client.workflow.getHandle(id).signal(stockLostSignal)),
      );
      return { units: out.units, costOfGoods: out.costOfGoods };
    },

    /** The carrier brought a parcel shipped after cancel back: its units and their cost return to stock. Once per shipment. */
    async interceptShipment(input: { shipmentId: string }): Promise<{ units: number }> {
      return inTransaction(db, async (tx) => {
        const { shipment, lines, units } = await parcelOf(tx, input.shipmentId);
        if (shipment.status !== 'shipped') return { units };
        const key = `intercept:${shipment.id}`;
        const stock = (await locationOf(tx, shipment.warehouse_id, 'stock'))!.id;
        const customer = await virtualLocation(tx, 'customer');
        const out = await movesByKeyPrefix(tx, `shipped-after-cancel:${shipment.id}`);
        const costs = await lockCosts(
          tx,
          out.map((m) => m.product_id),
        ); // back at today's average, as a restock is, so stock value stays on hand × average
        let value = 0;
        for (const m of out) {
          const cost = costs.get(m.product_id)!;
          await applyMove(tx, {
            productId: m.product_id,
            fromLocationId: customer,
            toLocationId: stock,
            quantity: m.quantity,
            unitCost: cost,
            sourceType: 'intercept',
            sourceId: shipment.id,
            key: `${key}:${m.product_id}`,
          });
          value += m.quantity * cost;
        }
        if (value > 0)
          await postEntry(tx, {
            key,
            description: `Parcel ${shipment.id} intercepted and back in stock`,
            sourceType: 'intercept',
            sourceId: shipment.id,
            currency: shipment.currency,
            lines: [
              { account: ACCOUNT.inventory, debit: value },
              { account: ACCOUNT.costOfGoodsSold, credit: value },
            ],
          });
        for (const l of lines) await moveShippedToCancelled(tx, l.order_line_id, l.quantity);
        await setShipmentStatus(tx, shipment.id, 'cancelled');
        return { units };
      });
    },

    /** The order's shipments as Postgres has them: after a shortfall, some shrank or were cancelled. */
    async shipmentStatuses(input: { orderId: string }): Promise<{ shipmentId: string; status: string }[]> {
      return (await shipmentsOfOrder(db, input.orderId)).map((r) => ({ shipmentId: r.id, status: r.status }));
    },

    /** Warehouse progress that moves no stock. Status only moves forward; repeats are no-ops. */
    async recordShipmentProgress(input: {
      shipmentId: string;
      type: ProgressEvent;
      carrier?: string;
      trackingNumber?: string;
    }): Promise<void> {
      const allowedFrom: Record<ProgressEvent, string[]> = {
        picked: ['pending'],
        packed: ['pending', 'picked'],
        delivered: ['shipped'],
        failed: ['pending', 'picked', 'packed', 'shipped'],
      };
      // The carrier may find a parcel it reported lost: delivered after all.
      if (input.type === 'delivered') allowedFrom.delivered = ['shipped', 'failed'];
      await inTransaction(db, async (tx) => {
        const moved = await advanceShipment(tx, input.shipmentId, allowedFrom[input.type], input.type);
        // A shipment that fails before it left gives its stock back at once.
        if (moved && input.type === 'failed') await releaseShipmentReservations(tx, input.shipmentId);
      });
    },

    /** The shipment leaves: stock moves to the customer, reservations are consumed, cost of goods sold is booked. */
    async dispatchShipment(input: {
      shipmentId: string;
      carrier?: string;
      trackingNumber?: string;
    }): Promise<{ costOfGoods: number }> {
      return inTransaction(db, async (tx) => {
        const shipment = await lockShipmentForDispatch(tx, input.shipmentId);
        if (!shipment) throw new Error(`Shipment ${input.shipmentId} not found`);
        const cogsKey = `shipment:${shipment.id}:cogs`;
        if (['shipped', 'delivered'].includes(shipment.status)) {
          return { costOfGoods: await entryDebits(tx, cogsKey) };
        }
        const customer = await virtualLocation(tx, 'customer');
        const held = await activeReservationsOfShipment(tx, shipment.id);
        const costs = await lockCosts(
          tx,
          held.map((r) => r.product_id),
        );
        let costOfGoods = 0;
        for (const r of held) {
          const cost = costs.get(r.product_id)!;
          await applyMove(tx, {
            productId: r.product_id,
            fromLocationId: r.location_id,
            toLocationId: customer,
            quantity: r.quantity,
            unitCost: cost,
            sourceType: 'shipment',
            sourceId: shipment.id,
            key: `shipment:${shipment.id}:reservation:${r.id}`,
            consumesReservation: true,
          });
          costOfGoods += r.quantity * cost;
        }
        await consumeReservations(
          tx,
          held.map((r) => r.id),
        );
        // A reship of a dispatched parcel replaces units that already counted as shipped (and were invoiced).
        const free = shipment.reship_of ? await wasShipped(tx, shipment.reship_of) : false;
        if (!free) {
          const lines = await shipmentLines(tx, shipment.id);
          for (const l of lines) await addShippedUnits(tx, l.order_line_id, l.quantity);
        }
        await markShipped(
          tx,
          shipment.id,
          input.carrier ?? shipment.carrier,
          input.trackingNumber ?? shipment.tracking_number,
        );
        await queueNotification(tx, {
          key: `shipment:${shipment.id}:shipped`,
          recipient: shipment.email,
          template: 'order_shipped',
          subjectType: 'order',
          subjectId: shipment.order_id,
          payload: {
            externalRef: shipment.external_ref,
            carrier: input.carrier ?? shipment.carrier,
            trackingNumber: input.trackingNumber ?? shipment.tracking_number,
          },
        });
        await queueMarketplaceUpdate(tx, {
          key: `shipped:${shipment.id}`,
          orderId: shipment.order_id,
          kind: 'shipped',
          payload: {
            ref: shipment.id,
            carrier: input.carrier ?? shipment.carrier ?? undefined,
            trackingNumber: input.trackingNumber ?? shipment.tracking_number ?? undefined,
          },
        });
        await postEntry(tx, {
          key: cogsKey,
          description: `Cost of goods shipped (shipment ${shipment.id})`,
          sourceType: 'shipment',
          sourceId: shipment.id,
          currency: shipment.currency,
          lines: [
            { account: ACCOUNT.costOfGoodsSold, debit: costOfGoods },
            { account: ACCOUNT.inventory, credit: costOfGoods },
          ],
        });
        return { costOfGoods };
      });
    },
  };
}
