/**
 * Shipping activities: turn reservations into shipments (one per warehouse and
 * wave), record warehouse progress, and dispatch: the stock leaves for the
 * customer location and its cost is booked, all in one transaction.
 */
import { randomUUID } from 'node:crypto';
import { inTransaction } from '../../db';
import { Context } from '@temporalio/activity';
import { allocate, applyMove, settleShortfall, virtualLocation } from '../../db/inventory';
import { stockLostSignal } from '../../contracts/order-messages';
import { lockCosts } from '../../db/valuation';
import { demandOf, holdStock, lockStock } from '../inventory';
import { ACCOUNT, postEntry } from '../../db/ledger';
import { queueNotification } from '../../db/outbox';
import type { ActivityDeps } from '../deps';
import type { Tx } from '../../db';

/** A shipment of a cancelled order with its lines, its order locked as creating and dispatching shipments do. */
async function parcelOf(tx: Tx, shipmentId: string) {
  const shipment = await tx('shipments as s').join('sales_orders as o', 'o.id', 's.order_id').join('warehouses as w', 'w.id', 's.warehouse_id')
    .where('s.id', shipmentId).first('s.id', 's.status', 's.order_id', 's.warehouse_id', 'o.currency', 'w.code');
  await tx('sales_orders').where({ id: shipment.order_id }).forUpdate().first('id');
  const lines: { order_line_id: number; quantity: number; product_id: number }[] = await tx('shipment_lines as sl').join('sales_order_lines as l', 'l.id', 'sl.order_line_id')
    .where('sl.shipment_id', shipment.id).select('sl.order_line_id', 'sl.quantity', 'l.product_id');
  return { shipment, lines, units: lines.reduce((n, l) => n + l.quantity, 0) };
}

/** The stocked units a shipment's lines stand for: a kit line is its components. */
async function componentsOf(tx: Tx, lines: { product_id: number; quantity: number }[]): Promise<{ productId: number; quantity: number }[]> {
  const parts = new Map<number, number>();
  for (const l of lines) {
    const kit = await tx('kit_components').where({ kit_product_id: l.product_id }).select('component_product_id', 'quantity');
    for (const c of kit.length ? kit : [{ component_product_id: l.product_id, quantity: 1 }]) parts.set(c.component_product_id, (parts.get(c.component_product_id) ?? 0) + c.quantity * l.quantity);
  }
  return [...parts].sort(([a], [b]) => a - b).map(([productId, quantity]) => ({ productId, quantity }));
}

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
          await postEntry(tx, { key, description: `Short pick on shipment ${shipment.id}: ${missingUnits} unit(s) not on the shelf`, sourceType: 'short_pick', sourceId: shipment.id, currency: shipment.currency, lines: [{ account: ACCOUNT.inventoryLoss, debit: value }, { account: ACCOUNT.inventory, credit: value }] });
        }
        const empty = !(await tx('shipment_lines').where({ shipment_id: shipment.id }).first('shipment_id'));
        await tx('shipments').where({ id: shipment.id }).update({ status: empty ? 'cancelled' : 'picked' });
        return { missingUnits, shipmentEmpty: empty };
      });
    },

    /**
     * A parcel of a cancelled order left after all: its units leave the books to the customer, at cost (cost of
     * goods sold, until a person decides), and the order's lines count them as shipped. Units the released stock
     * was promised to meanwhile are released from those orders, which re-plan. Once per shipment.
     */
    async bookShippedAfterCancel(input: { shipmentId: string; carrier?: string; trackingNumber?: string }): Promise<{ units: number; costOfGoods: number }> {
      const out = await inTransaction(db, async (tx) => {
        const { shipment, lines, units } = await parcelOf(tx, input.shipmentId);
        const key = `shipped-after-cancel:${shipment.id}`;
        if (shipment.status !== 'cancelled') {
          const entry = await tx('journal_entries as e').join('journal_lines as l', 'l.entry_id', 'e.id').where('e.idempotency_key', key).sum({ s: 'l.debit' }).first();
          return { units, costOfGoods: Number(entry?.s ?? 0), hurt: [] as string[] };
        }
        const stock = (await tx('locations').where({ warehouse_id: shipment.warehouse_id, type: 'stock' }).first('id')).id as number;
        const customer = await virtualLocation(tx, 'customer');
        const parts = await componentsOf(tx, lines);
        const costs = await lockCosts(tx, parts.map((p) => p.productId));
        const hurt: string[] = [];
        let costOfGoods = 0;
        for (const part of parts) {
          const quant = await tx('quants').where({ location_id: stock, product_id: part.productId }).forUpdate().first('on_hand');
          const leaving = Math.min(part.quantity, quant?.on_hand ?? 0); // what the books still hold; a shortfall beyond it is a count's to find
          if (leaving <= 0) continue;
          const sku = (await tx('products').where({ id: part.productId }).first('sku')).sku;
          const { hurt: lost } = await settleShortfall(tx, { locationId: stock, productId: part.productId, onHand: quant.on_hand - leaving, sku, warehouse: shipment.code }, { key: `${key}:${part.productId}`, what: 'A parcel of a cancelled order was shipped', details: { shipmentId: shipment.id } });
          hurt.push(...lost.map((h) => h.workflowId));
          await applyMove(tx, { productId: part.productId, fromLocationId: stock, toLocationId: customer, quantity: leaving, unitCost: costs.get(part.productId)!, sourceType: 'shipment', sourceId: shipment.id, key: `${key}:${part.productId}` });
          costOfGoods += leaving * costs.get(part.productId)!;
        }
        if (costOfGoods > 0) await postEntry(tx, { key, description: `Parcel ${shipment.id} shipped after its order was cancelled`, sourceType: 'shipment', sourceId: shipment.id, currency: shipment.currency, lines: [{ account: ACCOUNT.costOfGoodsSold, debit: costOfGoods }, { account: ACCOUNT.inventory, credit: costOfGoods }] });
        for (const l of lines) await tx('sales_order_lines').where({ id: l.order_line_id }).update({ quantity_shipped: tx.raw('quantity_shipped + ?', [l.quantity]), quantity_cancelled: tx.raw('quantity_cancelled - ?', [l.quantity]) });
        await tx('shipments').where({ id: shipment.id }).update({ status: 'shipped', shipped_at: tx.fn.now(), carrier: input.carrier ?? null, tracking_number: input.trackingNumber ?? null });
        return { units, costOfGoods, hurt };
      });
      await Promise.allSettled(out.hurt.map((id) => Context.current().client.workflow.getHandle(id).signal(stockLostSignal)));
      return { units: out.units, costOfGoods: out.costOfGoods };
    },

    /** The carrier brought a parcel shipped after cancel back: its units and their cost return to stock. Once per shipment. */
    async interceptShipment(input: { shipmentId: string }): Promise<{ units: number }> {
      return inTransaction(db, async (tx) => {
        const { shipment, lines, units } = await parcelOf(tx, input.shipmentId);
        if (shipment.status !== 'shipped') return { units };
        const key = `intercept:${shipment.id}`;
        const stock = (await tx('locations').where({ warehouse_id: shipment.warehouse_id, type: 'stock' }).first('id')).id as number;
        const customer = await virtualLocation(tx, 'customer');
        const out = await tx('stock_moves').where('idempotency_key', 'like', `shipped-after-cancel:${shipment.id}:%`).select('product_id', 'quantity');
        const costs = await lockCosts(tx, out.map((m) => m.product_id)); // back at today's average, as a restock is, so stock value stays on hand × average
        let value = 0;
        for (const m of out) {
          const cost = costs.get(m.product_id)!;
          await applyMove(tx, { productId: m.product_id, fromLocationId: customer, toLocationId: stock, quantity: m.quantity, unitCost: cost, sourceType: 'intercept', sourceId: shipment.id, key: `${key}:${m.product_id}` });
          value += m.quantity * cost;
        }
        if (value > 0) await postEntry(tx, { key, description: `Parcel ${shipment.id} intercepted and back in stock`, sourceType: 'intercept', sourceId: shipment.id, currency: shipment.currency, lines: [{ account: ACCOUNT.inventory, debit: value }, { account: ACCOUNT.costOfGoodsSold, credit: value }] });
        for (const l of lines) await tx('sales_order_lines').where({ id: l.order_line_id }).update({ quantity_shipped: tx.raw('quantity_shipped - ?', [l.quantity]), quantity_cancelled: tx.raw('quantity_cancelled + ?', [l.quantity]) });
        await tx('shipments').where({ id: shipment.id }).update({ status: 'cancelled' });
        return { units };
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
          lines: [{ account: ACCOUNT.costOfGoodsSold, debit: costOfGoods }, { account: ACCOUNT.inventory, credit: costOfGoods }],
        });
        return { costOfGoods };
      });
    },
  };
}
