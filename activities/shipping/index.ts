/**
 * Shipping activities: turn reservations into shipments (one per warehouse and
 * wave), record warehouse progress, and dispatch: the stock leaves for the
 * customer location and its cost is booked, all in one transaction.
 */
import { randomUUID } from 'node:crypto';
import { inTransaction } from '../../db';
import { allocate, applyMove, virtualLocation } from '../../db/inventory';
import { lockCosts } from '../../db/valuation';
import { demandOf, holdStock, lockStock } from '../inventory';
import { postEntry } from '../../db/ledger';
import { queueNotification } from '../../db/outbox';
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
  if (a.postalCode.replace(/\s/g, '') === '00000') return { valid: false, reason: `postal code ${a.postalCode} is not deliverable` };
  return { valid: true };
}

export function shippingActivities({ db }: ActivityDeps) {
  return {
    async validateAddress(input: { orderId: string }): Promise<{ valid: boolean; reason?: string }> {
      const o = await db('sales_orders').where({ id: input.orderId }).first('shipping_address');
      return validateAddressSandbox(o.shipping_address);
    },

    /** Groups the order's unshipped reservations into one shipment per warehouse. Repeating a wave returns its shipments. */
    async createShipments(input: { orderId: string; wave: number }): Promise<ShipmentRef[]> {
      return inTransaction(db, async (tx) => {
        await tx('sales_orders').where({ id: input.orderId }).forUpdate().first('id');
        const loose = await tx('reservations').where({ order_id: input.orderId, state: 'active' }).whereNull('shipment_id');
        for (const warehouseId of [...new Set(loose.map((r) => r.warehouse_id as number))]) {
          const mine = loose.filter((r) => r.warehouse_id === warehouseId);
          const [shipment] = await tx('shipments').insert({ id: randomUUID(), order_id: input.orderId, warehouse_id: warehouseId, wave: input.wave }).returning('id');
          const units = new Map<number, number>();
          const seen = new Set<string>();
          for (const r of mine) {
            if (seen.has(r.allocation_id)) continue; // kit components share one allocation
            seen.add(r.allocation_id);
            units.set(r.order_line_id, (units.get(r.order_line_id) ?? 0) + r.line_units);
          }
          await tx('shipment_lines').insert([...units].map(([lineId, quantity]) => ({ shipment_id: shipment.id, order_line_id: lineId, quantity })));
          await tx('reservations').whereIn('id', mine.map((r) => r.id)).update({ shipment_id: shipment.id });
        }
        const rows = await tx('shipments as s').join('warehouses as w', 'w.id', 's.warehouse_id').where({ 's.order_id': input.orderId, 's.wave': input.wave }).orderBy('w.priority').select('s.id', 'w.code');
        return rows.map((r) => ({ shipmentId: r.id, warehouse: r.code }));
      });
    },

    /**
     * A failed shipment goes out again, free of charge: fresh stock is reserved for its
     * lines (all or nothing, same allocation strategy) into new shipment(s) marked as
     * its reship. Answers null when the stock is not there. Repeating answers the same.
     */
    async reshipShipment(input: { orderId: string; failedShipmentId: string; wave: number }): Promise<ShipmentRef[] | null> {
      return inTransaction(db, async (tx) => {
        await tx('sales_orders').where({ id: input.orderId }).forUpdate().first('id');
        const failed = await tx('shipments').where({ id: input.failedShipmentId }).first('shipped_at');
        const free = failed.shipped_at !== null; // it left and was invoiced; one that never left ships (and bills) as usual
        const existing = await tx('shipments as s').join('warehouses as w', 'w.id', 's.warehouse_id').where('s.reship_of', input.failedShipmentId).select('s.id', 'w.code');
        if (existing.length) return existing.map((r) => ({ shipmentId: r.id, warehouse: r.code, free }));
        const lines = await tx('shipment_lines').where({ shipment_id: input.failedShipmentId });
        const all = await demandOf(tx, input.orderId);
        const demand = lines.map((l) => ({ ...all.find((d) => d.lineId === l.order_line_id)!, remaining: l.quantity }));
        const stock = await lockStock(tx, [...new Set(demand.flatMap((d) => d.components.map((c) => c.productId)))], 0);
        const { allocations, shortUnits } = allocate(demand, stock);
        if (shortUnits > 0) return null;
        await holdStock(tx, input.orderId, demand, allocations);
        const refs: ShipmentRef[] = [];
        for (const a of allocations) {
          const [shipment] = await tx('shipments').insert({ id: randomUUID(), order_id: input.orderId, warehouse_id: a.warehouseId, wave: input.wave, reship_of: input.failedShipmentId }).returning('id');
          await tx('shipment_lines').insert(a.lines.map((l) => ({ shipment_id: shipment.id, order_line_id: l.lineId, quantity: l.units })));
          await tx('reservations').where({ order_id: input.orderId, state: 'active', warehouse_id: a.warehouseId }).whereNull('shipment_id').update({ shipment_id: shipment.id });
          refs.push({ shipmentId: shipment.id, warehouse: (await tx('warehouses').where({ id: a.warehouseId }).first('code')).code, free });
        }
        return refs;
      });
    },

    /**
     * The picker found fewer units than the shipment asks: the missing ones come off this shipment and its
     * reservations, and off the books as a loss at average cost (the shelf did not have them). The shipment goes
     * on with what was picked (cancelled when nothing was). Once per shipment: a retry answers what was booked.
     */
    async recordShortPick(input: { shipmentId: string; picked: { sku: string; quantity: number }[] }): Promise<{ missingUnits: number; shipmentEmpty: boolean }> {
      return inTransaction(db, async (tx) => {
        const shipment = await tx('shipments as s').join('sales_orders as o', 'o.id', 's.order_id').where('s.id', input.shipmentId).first('s.id', 's.status', 's.order_id', 'o.currency');
        await tx('sales_orders').where({ id: shipment.order_id }).forUpdate().first('id'); // as creating and dispatching shipments do
        const key = `short-pick:${shipment.id}`;
        if (shipment.status !== 'pending') {
          const booked = await tx('stock_moves').where('idempotency_key', 'like', `${key}:%`).sum({ n: 'quantity' }).first();
          return { missingUnits: Number(booked?.n ?? 0), shipmentEmpty: shipment.status === 'cancelled' };
        }
        const lines = await tx('shipment_lines as sl').join('sales_order_lines as l', 'l.id', 'sl.order_line_id').join('products as p', 'p.id', 'l.product_id')
          .where('sl.shipment_id', shipment.id).select('sl.order_line_id', 'sl.quantity', 'p.sku', 'p.id as product_id');
        const loss = await virtualLocation(tx, 'inventory_loss');
        const costs = await lockCosts(tx, lines.map((l) => l.product_id));
        let missingUnits = 0;
        let value = 0;
        for (const line of lines) {
          const picked = input.picked.find((p) => p.sku === line.sku)?.quantity ?? line.quantity;
          const missing = line.quantity - picked;
          if (missing <= 0) continue;
          let left = missing;
          const held = await tx('reservations').where({ shipment_id: shipment.id, order_line_id: line.order_line_id, state: 'active' }).orderBy('id').forUpdate();
          for (const r of held) {
            if (left <= 0) break;
            const take = Math.min(left, r.quantity);
            left -= take;
            await tx('quants').where({ location_id: r.location_id, product_id: r.product_id }).decrement('reserved', take);
            await tx('reservations').where({ id: r.id }).update(take === r.quantity ? { state: 'released' } : { quantity: r.quantity - take, line_units: r.line_units - take });
            await applyMove(tx, { productId: r.product_id, fromLocationId: r.location_id, toLocationId: loss, quantity: take, unitCost: costs.get(r.product_id)!, sourceType: 'short_pick', sourceId: shipment.id, key: `${key}:${r.id}` });
          }
          if (picked === 0) await tx('shipment_lines').where({ shipment_id: shipment.id, order_line_id: line.order_line_id }).delete();
          else await tx('shipment_lines').where({ shipment_id: shipment.id, order_line_id: line.order_line_id }).update({ quantity: picked });
          missingUnits += missing;
          value += missing * costs.get(line.product_id)!;
        }
        if (value > 0) {
          await postEntry(tx, { key, description: `Short pick on shipment ${shipment.id}: ${missingUnits} unit(s) not on the shelf`, sourceType: 'short_pick', sourceId: shipment.id, currency: shipment.currency, lines: [{ account: '5100', debit: value }, { account: '1300', credit: value }] });
        }
        const empty = !(await tx('shipment_lines').where({ shipment_id: shipment.id }).first('shipment_id'));
        await tx('shipments').where({ id: shipment.id }).update({ status: empty ? 'cancelled' : 'picked' });
        return { missingUnits, shipmentEmpty: empty };
      });
    },

    /** The order's shipments as Postgres has them: after a shortfall, some shrank or were cancelled. */
    async shipmentStatuses(input: { orderId: string }): Promise<{ shipmentId: string; status: string }[]> {
      return (await db('shipments').where({ order_id: input.orderId }).select('id', 'status')).map((r) => ({ shipmentId: r.id, status: r.status }));
    },

    /** Warehouse progress that moves no stock. Status only moves forward; repeats are no-ops. */
    async recordShipmentProgress(input: { shipmentId: string; type: ProgressEvent; carrier?: string; trackingNumber?: string }): Promise<void> {
      const allowedFrom: Record<ProgressEvent, string[]> = {
        picked: ['pending'],
        packed: ['pending', 'picked'],
        delivered: ['shipped'],
        failed: ['pending', 'picked', 'packed', 'shipped'],
      };
      // The carrier may find a parcel it reported lost: delivered after all.
      if (input.type === 'delivered') allowedFrom.delivered = ['shipped', 'failed'];
      await inTransaction(db, async (tx) => {
        const moved = await tx('shipments')
          .where({ id: input.shipmentId })
          .whereIn('status', allowedFrom[input.type])
          .update({ status: input.type, ...(input.type === 'delivered' ? { delivered_at: tx.fn.now() } : {}) });
        // A shipment that fails before it left gives its stock back at once.
        if (moved && input.type === 'failed') {
          const held = await tx('reservations').where({ shipment_id: input.shipmentId, state: 'active' }).orderBy(['location_id', 'product_id']).forUpdate();
          for (const r of held) await tx('quants').where({ location_id: r.location_id, product_id: r.product_id }).decrement('reserved', r.quantity);
          await tx('reservations').whereIn('id', held.map((r) => r.id)).update({ state: 'released' });
        }
      });
    },

    /** The shipment leaves: stock moves to the customer, reservations are consumed, cost of goods sold is booked. */
    async dispatchShipment(input: { shipmentId: string; carrier?: string; trackingNumber?: string }): Promise<{ costOfGoods: number }> {
      return inTransaction(db, async (tx) => {
        const shipment = await tx('shipments as s').join('sales_orders as o', 'o.id', 's.order_id').join('customers as c', 'c.id', 'o.customer_id')
          .where('s.id', input.shipmentId).forUpdate('s').first('s.*', 'o.currency', 'o.external_ref', 'c.email');
        if (!shipment) throw new Error(`Shipment ${input.shipmentId} not found`);
        const cogsKey = `shipment:${shipment.id}:cogs`;
        if (['shipped', 'delivered'].includes(shipment.status)) {
          const entry = await tx('journal_entries as e').join('journal_lines as l', 'l.entry_id', 'e.id').where({ 'e.idempotency_key': cogsKey }).sum({ s: 'l.debit' }).first();
          return { costOfGoods: entry?.s ?? 0 };
        }
        const customer = await virtualLocation(tx, 'customer');
        const held = await tx('reservations as r').where({ 'r.shipment_id': shipment.id, 'r.state': 'active' }).orderBy(['r.location_id', 'r.product_id']).select('r.*');
        const costs = await lockCosts(tx, held.map((r) => r.product_id));
        let costOfGoods = 0;
        for (const r of held) {
          const cost = costs.get(r.product_id)!;
          await applyMove(tx, {
            productId: r.product_id, fromLocationId: r.location_id, toLocationId: customer, quantity: r.quantity, unitCost: cost,
            sourceType: 'shipment', sourceId: shipment.id, key: `shipment:${shipment.id}:reservation:${r.id}`, consumesReservation: true,
          });
          costOfGoods += r.quantity * cost;
        }
        await tx('reservations').whereIn('id', held.map((r) => r.id)).update({ state: 'consumed' });
        // A reship of a dispatched parcel replaces units that already counted as shipped (and were invoiced).
        const free = shipment.reship_of ? (await tx('shipments').where({ id: shipment.reship_of }).first('shipped_at')).shipped_at !== null : false;
        if (!free) {
          const lines = await tx('shipment_lines').where({ shipment_id: shipment.id });
          for (const l of lines) await tx('sales_order_lines').where({ id: l.order_line_id }).increment('quantity_shipped', l.quantity);
        }
        await tx('shipments').where({ id: shipment.id }).update({ status: 'shipped', shipped_at: tx.fn.now(), carrier: input.carrier ?? shipment.carrier, tracking_number: input.trackingNumber ?? shipment.tracking_number });
        await queueNotification(tx, {
          key: `shipment:${shipment.id}:shipped`, recipient: shipment.email, template: 'order_shipped', subjectType: 'order', subjectId: shipment.order_id,
          payload: { externalRef: shipment.external_ref, carrier: input.carrier ?? shipment.carrier, trackingNumber: input.trackingNumber ?? shipment.tracking_number },
        });
        await postEntry(tx, {
          key: cogsKey, description: `Cost of goods shipped (shipment ${shipment.id})`, sourceType: 'shipment', sourceId: shipment.id, currency: shipment.currency,
          lines: [{ account: '5000', debit: costOfGoods }, { account: '1300', credit: costOfGoods }],
        });
        return { costOfGoods };
      });
    },
  };
}
