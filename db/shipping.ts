/** Shipments of sales orders, their lines, and the warehouse and carrier events reported on them. */
import { randomUUID } from 'node:crypto';
import type { Db, Tx } from './index';
import { lockOrder } from './sales';
import type { ShipmentEvent } from '../contracts/order-types';

/** The order's shipments as Postgres has them (id and status). */
export async function shipmentsOfOrder(tx: Db | Tx, orderId: string) {
  return tx('shipments').where({ order_id: orderId }).select('id', 'status');
}

/** The order's shipments a picker holds (picked or packed), with their warehouse code. */
export async function shipmentsBeingPicked(tx: Db | Tx, orderId: string) {
  return tx('shipments as s')
    .join('warehouses as w', 'w.id', 's.warehouse_id')
    .where('s.order_id', orderId)
    .whereIn('s.status', ['picked', 'packed'])
    .select('s.id', 'w.code');
}

/** Cancels the order's shipments that have not left. */
export async function cancelOpenShipments(tx: Tx, orderId: string): Promise<void> {
  await tx('shipments')
    .where({ order_id: orderId })
    .whereIn('status', ['pending', 'picked', 'packed'])
    .update({ status: 'cancelled' });
}

/** True when a shipment of the order has left (shipped or delivered). */
export async function anyShipmentLeft(tx: Db | Tx, orderId: string): Promise<boolean> {
  return !!(await tx('shipments').where({ order_id: orderId }).whereIn('status', ['shipped', 'delivered']).first('id'));
}

/** True when the shipment was dispatched (it has a shipped_at). */
export async function wasShipped(tx: Db | Tx, shipmentId: string): Promise<boolean> {
  return (await tx('shipments').where({ id: shipmentId }).first('shipped_at')).shipped_at !== null;
}

/** Inserts a pending shipment and answers its id. */
export async function createShipment(
  tx: Tx,
  s: { orderId: string; warehouseId: number; wave: number; reshipOf?: string },
): Promise<string> {
  const [shipment] = await tx('shipments')
    .insert({
      id: randomUUID(),
      order_id: s.orderId,
      warehouse_id: s.warehouseId,
      wave: s.wave,
      ...(s.reshipOf === undefined ? {} : { reship_of: s.reshipOf }),
    })
    .returning('id');
  return shipment.id;
}

export async function addShipmentLines(
  tx: Tx,
  shipmentId: string,
  lines: { orderLineId: number; quantity: number }[],
): Promise<void> {
  await tx('shipment_lines').insert(
    lines.map((l) => ({ shipment_id: shipmentId, order_line_id: l.orderLineId, quantity: l.quantity })),
  );
}

/** The shipments of one wave of the order, with their warehouse code, by warehouse priority. */
export async function shipmentsOfWave(tx: Db | Tx, orderId: string, wave: number) {
  return tx('shipments as s')
    .join('warehouses as w', 'w.id', 's.warehouse_id')
    .where({ 's.order_id': orderId, 's.wave': wave })
    .orderBy('w.priority')
    .select('s.id', 'w.code');
}

/** The shipments that reship a failed one, with their warehouse code. */
export async function reshipsOf(tx: Db | Tx, failedShipmentId: string) {
  return tx('shipments as s')
    .join('warehouses as w', 'w.id', 's.warehouse_id')
    .where('s.reship_of', failedShipmentId)
    .select('s.id', 'w.code');
}

export async function shipmentLines(tx: Db | Tx, shipmentId: string) {
  return tx('shipment_lines').where({ shipment_id: shipmentId });
}

/** A shipment of a cancelled order with its lines, its order locked as creating and dispatching shipments do. */
export async function parcelOf(tx: Tx, shipmentId: string) {
  const shipment = await tx('shipments as s')
    .join('sales_orders as o', 'o.id', 's.order_id')
    .join('warehouses as w', 'w.id', 's.warehouse_id')
    .where('s.id', shipmentId)
    .first('s.id', 's.status', 's.order_id', 's.warehouse_id', 'o.currency', 'w.code');
  await lockOrder(tx, shipment.order_id);
  const lines: { order_line_id: number; quantity: number; product_id: number }[] = await tx('shipment_lines as sl')
    .join('sales_order_lines as l', 'l.id', 'sl.order_line_id')
    .where('sl.shipment_id', shipment.id)
    .select('sl.order_line_id', 'sl.quantity', 'l.product_id');
  return { shipment, lines, units: lines.reduce((n, l) => n + l.quantity, 0) };
}

/** The shipment with its order's currency. */
export async function shipmentWithCurrency(tx: Db | Tx, shipmentId: string) {
  return tx('shipments as s')
    .join('sales_orders as o', 'o.id', 's.order_id')
    .where('s.id', shipmentId)
    .first('s.id', 's.status', 's.order_id', 'o.currency');
}

/** The shipment locked for dispatch, with the order's currency and reference and the customer's email. */
export async function lockShipmentForDispatch(tx: Tx, shipmentId: string) {
  return tx('shipments as s')
    .join('sales_orders as o', 'o.id', 's.order_id')
    .join('customers as c', 'c.id', 'o.customer_id')
    .where('s.id', shipmentId)
    .forUpdate('s')
    .first('s.*', 'o.currency', 'o.external_ref', 'c.email');
}

/** The shipment's lines with the order line's SKU and product id, as a picker reports them. */
export async function pickLines(tx: Db | Tx, shipmentId: string) {
  return tx('shipment_lines as sl')
    .join('sales_order_lines as l', 'l.id', 'sl.order_line_id')
    .join('products as p', 'p.id', 'l.product_id')
    .where('sl.shipment_id', shipmentId)
    .select('sl.order_line_id', 'sl.quantity', 'p.sku', 'p.id as product_id');
}

/** The shipment's lines with SKU and product kind, to check a picked report against. */
export async function shipmentLineSkus(
  db: Db | Tx,
  shipmentId: string,
): Promise<{ sku: string; quantity: number; kind: string }[]> {
  return db('shipment_lines as sl')
    .join('sales_order_lines as l', 'l.id', 'sl.order_line_id')
    .join('products as p', 'p.id', 'l.product_id')
    .where('sl.shipment_id', shipmentId)
    .select('p.sku', 'sl.quantity', 'p.kind');
}

/** The shipment's lines with what the order line sold, for its invoice. */
export async function shippedLinesToInvoice(tx: Db | Tx, shipmentId: string) {
  return tx('shipment_lines as sl')
    .join('sales_order_lines as l', 'l.id', 'sl.order_line_id')
    .join('products as p', 'p.id', 'l.product_id')
    .where('sl.shipment_id', shipmentId)
    .orderBy('l.line_no')
    .select('l.id', 'l.quantity as ordered', 'l.unit_price', 'l.tax', 'p.sku', 'p.name', 'sl.quantity');
}

/** What the picker found of one line: the line goes when nothing was, else it shrinks to what was picked. */
export async function setPickedQuantity(
  tx: Tx,
  shipmentId: string,
  orderLineId: number,
  picked: number,
): Promise<void> {
  if (picked === 0) await tx('shipment_lines').where({ shipment_id: shipmentId, order_line_id: orderLineId }).delete();
  else
    await tx('shipment_lines')
      .where({ shipment_id: shipmentId, order_line_id: orderLineId })
      .update({ quantity: picked });
}

/** True when the shipment has no lines left. */
export async function shipmentIsEmpty(tx: Db | Tx, shipmentId: string): Promise<boolean> {
  return !(await tx('shipment_lines').where({ shipment_id: shipmentId }).first('shipment_id'));
}

export async function setShipmentStatus(tx: Tx, shipmentId: string, status: string): Promise<void> {
  await tx('shipments').where({ id: shipmentId }).update({ status });
}

/** The shipment left now, with the carrier and tracking number it left with. */
export async function markShipped(
  tx: Tx,
  shipmentId: string,
  carrier: string | null,
  trackingNumber: string | null,
): Promise<void> {
  await tx('shipments')
    .where({ id: shipmentId })
    .update({ status: 'shipped', shipped_at: tx.fn.now(), carrier, tracking_number: trackingNumber });
}

/** Moves the shipment to `status` when it is in one of `from`; answers how many rows moved (0 or 1). */
export async function advanceShipment(tx: Tx, shipmentId: string, from: string[], status: string): Promise<number> {
  return tx('shipments')
    .where({ id: shipmentId })
    .whereIn('status', from)
    .update({ status, ...(status === 'delivered' ? { delivered_at: tx.fn.now() } : {}) });
}

/** Shipments in the given statuses, oldest first (the warehouse pick list). */
export async function shipmentsToWork(db: Db | Tx, q: { statuses: string[]; warehouse?: string; limit: number }) {
  const query = db('shipments as s').join('warehouses as w', 'w.id', 's.warehouse_id').whereIn('s.status', q.statuses);
  if (q.warehouse) query.where('w.code', q.warehouse);
  const rows: {
    id: string;
    order_id: string;
    code: string;
    status: string;
    carrier: string | null;
    tracking_number: string | null;
    created_at: Date;
  }[] = await query
    .orderBy('s.created_at')
    .limit(q.limit)
    .select('s.id', 's.order_id', 'w.code', 's.status', 's.carrier', 's.tracking_number', 's.created_at');
  return rows;
}

export interface ReportedShipment {
  id: string;
  status: string;
  workflow_id: string;
  order_id: string;
  external_ref: string;
  order_status: string;
}

/** A shipment as a warehouse or carrier report needs it: its status and its order's process. */
export async function reportedShipment(db: Db | Tx, shipmentId: string): Promise<ReportedShipment | undefined> {
  return db('shipments as s')
    .join('sales_orders as o', 'o.id', 's.order_id')
    .where('s.id', shipmentId)
    .first('s.id', 's.status', 'o.workflow_id', 'o.id as order_id', 'o.external_ref', 'o.status as order_status');
}

export async function recordShipmentEvent(
  db: Db | Tx,
  shipmentId: string,
  e: ShipmentEvent,
  source: 'api' | 'webhook',
): Promise<void> {
  await db('shipment_events').insert({
    shipment_id: shipmentId,
    type: e.type,
    carrier: e.carrier,
    tracking_number: e.trackingNumber,
    note: e.note,
    source,
  });
}

/** The shipments of these orders with their warehouse code, oldest first. */
export async function shipmentsOfOrders(db: Db | Tx, orderIds: string[]) {
  return db('shipments as s')
    .join('warehouses as w', 'w.id', 's.warehouse_id')
    .whereIn('s.order_id', orderIds)
    .orderBy('s.created_at')
    .select(
      's.id',
      's.order_id',
      'w.code',
      's.status',
      's.carrier',
      's.tracking_number',
      's.shipped_at',
      's.delivered_at',
    );
}

export async function shipmentByTracking(db: Db | Tx, trackingNumber: string): Promise<{ id: string } | undefined> {
  return db('shipments').where({ tracking_number: trackingNumber }).first('id');
}

/** The shipment's order, with its reference, currency and shipping tax rate, to refund the shipment. */
export async function shipmentForRefund(tx: Db | Tx, shipmentId: string) {
  return tx('shipments as s')
    .join('sales_orders as o', 'o.id', 's.order_id')
    .where('s.id', shipmentId)
    .first('s.order_id', 'o.external_ref', 'o.currency', 'o.shipping_tax_rate_bp');
}

/** The location of `type` in the warehouse that first shipped this order line, if it has one. */
export async function shippingWarehouseLocation(
  tx: Db | Tx,
  orderLineId: number,
  type: string,
): Promise<{ id: number } | undefined> {
  return tx('shipment_lines as sl')
    .join('shipments as s', 's.id', 'sl.shipment_id')
    .join('locations as l', function () {
      this.on('l.warehouse_id', 's.warehouse_id').andOnVal('l.type', type);
    })
    .where('sl.order_line_id', orderLineId)
    .whereIn('s.status', ['shipped', 'delivered'])
    .orderBy('s.shipped_at')
    .first('l.id');
}
