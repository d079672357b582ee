/**
 * Recording a sales order and reading it back. Recording checks the order
 * against master data (channel, SKUs, currency), prices it with tax, and
 * writes the order and its lines in one transaction, idempotently by
 * (channel, externalRef): the storefront's retry finds the first order.
 */
import { fingerprint } from '../lib/fingerprint';
import { randomUUID } from 'node:crypto';
import { inTransaction, Db } from './index';
import { taxOn } from '../lib/money';
import type { BackorderPolicy, ShippingAddress } from '../contracts/order-types';

export interface NewOrder {
  channel: string;
  externalRef: string;
  currency: string;
  customer: { email: string; name: string };
  shippingAddress: ShippingAddress;
  lines: { sku: string; quantity: number; unitPrice: number }[];
  shippingPrice?: number;
  payment: { method: string; token: string };
  backorderPolicy?: BackorderPolicy;
}

export class OrderRejected extends Error {
  constructor(message: string, public details: unknown[] = []) {
    super(message);
  }
}

/** The same (channel, externalRef) with a different request: a second order must not vanish into the first. */
export class OrderConflict extends Error {
  constructor(channel: string, externalRef: string) {
    super(`Order ${externalRef} of channel ${channel} already exists with a different request (lines, customer, address, payment or prices differ); nothing was changed. A new order needs a new externalRef; a retry must repeat the first request exactly.`);
  }
}

import { orderWorkflowId } from '../contracts/workflow-ids';

export { orderWorkflowId };

export async function taxRate(db: Db, country: string, region?: string): Promise<number> {
  const rows = await db('tax_rates').where({ country }).whereIn('region', ['', region ?? '']);
  const specific = rows.find((r) => r.region !== '' && r.region === region);
  return (specific ?? rows.find((r) => r.region === ''))?.rate_bp ?? 0;
}

export async function recordOrder(db: Db, o: NewOrder, baseCurrency: string): Promise<{ orderId: string; workflowId: string; created: boolean }> {
  const workflowId = orderWorkflowId(o.channel, o.externalRef);
  const channel = await db('channels').where({ code: o.channel }).first('id');
  if (!channel) throw new OrderRejected(`Unknown channel "${o.channel}"`, [{ path: 'channel', message: 'not a configured sales channel' }]);
  const requestHash = fingerprint(o);
  const repeatOf = (found: { id: string; request_hash: string | null }) => {
    // Orders placed before fingerprints were kept have none: they answer as repeats, as they always did.
    if (found.request_hash && found.request_hash !== requestHash) throw new OrderConflict(o.channel, o.externalRef);
    return { orderId: found.id, workflowId, created: false };
  };
  const existing = await db('sales_orders').where({ channel_id: channel.id, external_ref: o.externalRef }).first('id', 'request_hash');
  if (existing) return repeatOf(existing);

  if (o.currency !== baseCurrency) throw new OrderRejected(`This installation books in ${baseCurrency}; the order is in ${o.currency}`, [{ path: 'currency', message: `must be ${baseCurrency}` }]);
  const skus = [...new Set(o.lines.map((l) => l.sku))];
  const products = await db('products').whereIn('sku', skus).where({ active: true }).select('id', 'sku');
  const bySku = new Map(products.map((p) => [p.sku as string, p.id as number]));
  const unknown = o.lines.map((l, i) => ({ i, sku: l.sku })).filter((l) => !bySku.has(l.sku));
  if (unknown.length) throw new OrderRejected(`Unknown SKU(s): ${unknown.map((u) => u.sku).join(', ')}`, unknown.map((u) => ({ path: `lines.${u.i}.sku`, message: `unknown SKU ${u.sku}` })));

  const rate = await taxRate(db, o.shippingAddress.country, o.shippingAddress.region);
  const lines = o.lines.map((l, i) => {
    const net = l.quantity * l.unitPrice;
    return { line_no: i + 1, product_id: bySku.get(l.sku)!, quantity: l.quantity, unit_price: l.unitPrice, tax_rate_bp: rate, net, tax: taxOn(net, rate) };
  });
  const subtotal = lines.reduce((s, l) => s + l.net, 0);
  const shippingPrice = o.shippingPrice ?? 0;
  const taxTotal = lines.reduce((s, l) => s + l.tax, 0) + taxOn(shippingPrice, rate);
  const total = subtotal + shippingPrice + taxTotal;
  if (!Number.isSafeInteger(total)) throw new OrderRejected('The order total is too large');

  return inTransaction(db, async (tx) => {
    const [customer] = await tx('customers')
      .insert({ email: o.customer.email.toLowerCase(), name: o.customer.name })
      .onConflict('email')
      .merge({ name: o.customer.name, updated_at: tx.fn.now() })
      .returning('id');
    const orderId = randomUUID();
    const inserted = await tx('sales_orders')
      .insert({
        id: orderId, channel_id: channel.id, external_ref: o.externalRef, workflow_id: workflowId, customer_id: customer.id,
        currency: o.currency, backorder_policy: o.backorderPolicy ?? 'ship_available', shipping_address: JSON.stringify(o.shippingAddress),
        payment_method: o.payment.method, subtotal, shipping_price: shippingPrice, shipping_tax_rate_bp: rate, tax_total: taxTotal, total, request_hash: requestHash,
      })
      .onConflict(['channel_id', 'external_ref'])
      .ignore()
      .returning('id');
    if (inserted.length === 0) {
      // A concurrent twin of this request won the race; answer with its order.
      return repeatOf(await tx('sales_orders').where({ channel_id: channel.id, external_ref: o.externalRef }).first('id', 'request_hash'));
    }
    await tx('sales_order_lines').insert(lines.map((l) => ({ ...l, order_id: orderId })));
    return { orderId, workflowId, created: true };
  });
}

/** The order with everything recorded against it, as `GET /v1/orders/:id` shows it (without the live process). */
export async function orderView(db: Db, orderId: string) {
  const o = await db('sales_orders as o')
    .join('channels as c', 'c.id', 'o.channel_id')
    .join('customers as cu', 'cu.id', 'o.customer_id')
    .where('o.id', orderId)
    .first('o.*', 'c.code as channel', 'cu.email', 'cu.name as customer_name');
  if (!o) return undefined;
  const [lines, reservations, shipments, shipmentLines, payments, invoices, returns, exceptions] = await Promise.all([
    db('sales_order_lines as l').join('products as p', 'p.id', 'l.product_id').where('l.order_id', orderId).orderBy('l.line_no')
      .select('l.id', 'l.line_no', 'p.sku', 'p.name', 'l.quantity', 'l.unit_price', 'l.net', 'l.tax', 'l.quantity_shipped', 'l.quantity_cancelled'),
    db('reservations as r').join('products as p', 'p.id', 'r.product_id').join('warehouses as w', 'w.id', 'r.warehouse_id').where('r.order_id', orderId).orderBy('r.id')
      .select('p.sku', 'w.code as warehouse', 'r.quantity', 'r.state', 'r.shipment_id'),
    db('shipments as s').join('warehouses as w', 'w.id', 's.warehouse_id').where('s.order_id', orderId).orderBy(['s.wave', 'w.priority'])
      .select('s.id', 'w.code as warehouse', 's.status', 's.carrier', 's.tracking_number', 's.shipped_at', 's.delivered_at', 's.wave'),
    db('shipment_lines as sl').join('shipments as s', 's.id', 'sl.shipment_id').join('sales_order_lines as l', 'l.id', 'sl.order_line_id').join('products as p', 'p.id', 'l.product_id')
      .where('s.order_id', orderId).select('sl.shipment_id', 'p.sku', 'sl.quantity'),
    db('payments').where({ order_id: orderId }).orderBy('created_at').select('kind', 'amount', 'currency', 'status', 'provider_ref', 'invoice_id', 'return_id', 'failure_reason', 'created_at'),
    db('invoices').where({ order_id: orderId }).orderBy('issued_at').select('id', 'number', 'subtotal', 'shipping', 'tax', 'total', 'status', 'issued_at'),
    db('returns').where({ order_id: orderId }).orderBy('requested_at').select('id', 'rma_number', 'status', 'resolution', 'refund_amount', 'requested_at'),
    db('exceptions').where({ subject_type: 'order', subject_id: orderId, status: 'open' }).orderBy('opened_at').select('id', 'type', 'severity', 'queue', 'summary', 'opened_at'),
  ]);
  return {
    orderId: o.id as string,
    workflowId: o.workflow_id as string,
    channel: o.channel as string,
    externalRef: o.external_ref as string,
    status: o.status as string,
    currency: o.currency as string,
    customer: { email: o.email, name: o.customer_name },
    shippingAddress: o.shipping_address,
    backorderPolicy: o.backorder_policy,
    totals: { subtotal: o.subtotal, shipping: o.shipping_price, tax: o.tax_total, total: o.total },
    cancelReason: o.cancel_reason ?? undefined,
    placedAt: o.placed_at,
    lines: lines.map((l) => ({ lineNo: l.line_no, sku: l.sku, name: l.name, quantity: l.quantity, unitPrice: l.unit_price, net: l.net, tax: l.tax, quantityShipped: l.quantity_shipped, quantityCancelled: l.quantity_cancelled })),
    reservations: reservations.map((r) => ({ sku: r.sku, warehouse: r.warehouse, quantity: r.quantity, state: r.state, shipmentId: r.shipment_id })),
    shipments: shipments.map((s) => ({
      shipmentId: s.id, warehouse: s.warehouse, status: s.status, wave: s.wave, carrier: s.carrier ?? undefined, trackingNumber: s.tracking_number ?? undefined,
      shippedAt: s.shipped_at ?? undefined, deliveredAt: s.delivered_at ?? undefined,
      lines: shipmentLines.filter((l) => l.shipment_id === s.id).map((l) => ({ sku: l.sku, quantity: l.quantity })),
    })),
    payments: payments.map((p) => ({ kind: p.kind, amount: p.amount, currency: p.currency, status: p.status, providerRef: p.provider_ref, invoiceId: p.invoice_id ?? undefined, returnId: p.return_id ?? undefined, failureReason: p.failure_reason ?? undefined, at: p.created_at })),
    invoices: invoices.map((i) => ({ invoiceId: i.id, number: i.number, subtotal: i.subtotal, shipping: i.shipping, tax: i.tax, total: i.total, status: i.status, issuedAt: i.issued_at })),
    returns: returns.map((r) => ({ returnId: r.id, rmaNumber: r.rma_number ?? undefined, status: r.status, resolution: r.resolution, refundAmount: r.refund_amount ?? undefined, requestedAt: r.requested_at })),
    exceptions: exceptions.map((e) => ({ exceptionId: e.id, type: e.type, severity: e.severity, queue: e.queue, summary: e.summary, openedAt: e.opened_at })),
  };
}
