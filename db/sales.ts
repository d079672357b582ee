/**
 * Recording a sales order and reading it back. Recording checks the order
 * against master data (channel, SKUs, currency), prices it with tax, and
 * writes the order and its lines in one transaction, idempotently by
 * (channel, externalRef): the storefront's retry finds the first order.
 */
import { fingerprint } from '../lib/fingerprint';
import { randomUUID } from 'node:crypto';
import { inTransaction, Db, Tx } from './index';
import { claimHold } from './holds';
import { taxOn } from '../lib/money';
import type { BackorderPolicy, OrderStatus, ShippingAddress } from '../contracts/order-types';

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
  holdId?: string; // a checkout hold the order takes over (db/holds.ts)
}

export class OrderRejected extends Error {
  constructor(
    message: string,
    public details: unknown[] = [],
  ) {
    super(message);
  }
}

/** The same (channel, externalRef) with a different request: a second order must not vanish into the first. */
export class OrderConflict extends Error {
  constructor(channel: string, externalRef: string) {
    super(
      `Order ${externalRef} of channel ${channel} already exists with a different request (lines, customer, address, payment or prices differ); nothing was changed. A new order needs a new externalRef; a retry must repeat the first request exactly.`,
    );
  }
}

import { orderWorkflowId } from '../contracts/workflow-ids';

export { orderWorkflowId };

export async function taxRate(db: Db, country: string, region?: string): Promise<number> {
  const rows = await db('tax_rates')
    .where({ country })
    .whereIn('region', ['', region ?? '']);
  const specific = rows.find((r) => r.region !== '' && r.region === region);
  return (specific ?? rows.find((r) => r.region === ''))?.rate_bp ?? 0;
}

export async function recordOrder(
  db: Db,
  o: NewOrder,
  baseCurrency: string,
): Promise<{ orderId: string; workflowId: string; created: boolean; customerId: number }> {
  const workflowId = orderWorkflowId(o.channel, o.externalRef);
  const channel = await db('channels').where({ code: o.channel }).first('id');
  if (!channel)
    throw new OrderRejected(`Unknown channel "${o.channel}"`, [
      { path: 'channel', message: 'not a configured sales channel' },
    ]);
  const requestHash = fingerprint(o);
  const repeatOf = (found: { id: string; request_hash: string | null; customer_id: number }) => {
    // Orders placed before fingerprints were kept have none: they answer as repeats, as they always did.
    if (found.request_hash && found.request_hash !== requestHash) throw new OrderConflict(o.channel, o.externalRef);
    return { orderId: found.id, workflowId, created: false, customerId: found.customer_id };
  };
  const existing = await db('sales_orders')
    .where({ channel_id: channel.id, external_ref: o.externalRef })
    .first('id', 'request_hash', 'customer_id');
  if (existing) return repeatOf(existing);

  if (o.currency !== baseCurrency)
    throw new OrderRejected(`This installation books in ${baseCurrency}; the order is in ${o.currency}`, [
      { path: 'currency', message: `must be ${baseCurrency}` },
    ]);
  const skus = [...new Set(o.lines.map((l) => l.sku))];
  const products = await db('products').whereIn('sku', skus).where({ active: true }).select('id', 'sku');
  const bySku = new Map(products.map((p) => [p.sku as string, p.id as number]));
  const unknown = o.lines.map((l, i) => ({ i, sku: l.sku })).filter((l) => !bySku.has(l.sku));
  if (unknown.length)
    throw new OrderRejected(
      `Unknown SKU(s): ${unknown.map((u) => u.sku).join(', ')}`,
      unknown.map((u) => ({ path: `lines.${u.i}.sku`, message: `unknown SKU ${u.sku}` })),
    );

  const rate = await taxRate(db, o.shippingAddress.country, o.shippingAddress.region);
  const lines = o.lines.map((l, i) => {
    const net = l.quantity * l.unitPrice;
    return {
      line_no: i + 1,
      product_id: bySku.get(l.sku)!,
      quantity: l.quantity,
      unit_price: l.unitPrice,
      tax_rate_bp: rate,
      net,
      tax: taxOn(net, rate),
    };
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
        id: orderId,
        channel_id: channel.id,
        external_ref: o.externalRef,
        workflow_id: workflowId,
        customer_id: customer.id,
        currency: o.currency,
        backorder_policy: o.backorderPolicy ?? 'ship_available',
        shipping_address: JSON.stringify(o.shippingAddress),
        payment_method: o.payment.method,
        subtotal,
        shipping_price: shippingPrice,
        shipping_tax_rate_bp: rate,
        tax_total: taxTotal,
        total,
        request_hash: requestHash,
      })
      .onConflict(['channel_id', 'external_ref'])
      .ignore()
      .returning('id');
    if (inserted.length === 0) {
      // A concurrent twin of this request won the race; answer with its order.
      return repeatOf(
        await tx('sales_orders')
          .where({ channel_id: channel.id, external_ref: o.externalRef })
          .first('id', 'request_hash'),
      );
    }
    await tx('sales_order_lines').insert(lines.map((l) => ({ ...l, order_id: orderId })));
    if (o.holdId) await claimHold(tx, o.holdId, orderId, channel.id);
    return { orderId, workflowId, created: true, customerId: customer.id };
  });
}

export interface OrderFilter {
  ref?: string; // the channel's reference, or its beginning
  email?: string;
  status?: string;
  channel?: string;
  placedFrom?: string;
  placedTo?: string;
}

/** Orders matching a filter, newest first: the query both a page and a CSV export read. */
export function ordersMatching(db: Db, f: OrderFilter) {
  const q = db('sales_orders as o')
    .join('channels as c', 'c.id', 'o.channel_id')
    .join('customers as cu', 'cu.id', 'o.customer_id')
    .select(
      'o.id',
      'o.external_ref',
      'c.code as channel',
      'o.status',
      'cu.email',
      'cu.name as customer_name',
      'o.currency',
      'o.total',
      'o.placed_at',
    );
  if (f.ref) q.where('o.external_ref', 'like', `${f.ref.replace(/[\\%_]/g, (m) => `\\${m}`)}%`);
  if (f.email) q.where('cu.email', f.email.toLowerCase());
  if (f.status) q.where('o.status', f.status);
  if (f.channel) q.where('c.code', f.channel);
  if (f.placedFrom) q.where('o.placed_at', '>=', f.placedFrom);
  if (f.placedTo) q.where('o.placed_at', '<', f.placedTo);
  return q;
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
    db('sales_order_lines as l')
      .join('products as p', 'p.id', 'l.product_id')
      .where('l.order_id', orderId)
      .orderBy('l.line_no')
      .select(
        'l.id',
        'l.line_no',
        'p.sku',
        'p.name',
        'l.quantity',
        'l.unit_price',
        'l.net',
        'l.tax',
        'l.quantity_shipped',
        'l.quantity_cancelled',
      ),
    db('reservations as r')
      .join('products as p', 'p.id', 'r.product_id')
      .join('warehouses as w', 'w.id', 'r.warehouse_id')
      .where('r.order_id', orderId)
      .orderBy('r.id')
      .select('p.sku', 'w.code as warehouse', 'r.quantity', 'r.state', 'r.shipment_id'),
    db('shipments as s')
      .join('warehouses as w', 'w.id', 's.warehouse_id')
      .where('s.order_id', orderId)
      .orderBy(['s.wave', 'w.priority'])
      .select(
        's.id',
        'w.code as warehouse',
        's.status',
        's.carrier',
        's.tracking_number',
        's.shipped_at',
        's.delivered_at',
        's.wave',
      ),
    db('shipment_lines as sl')
      .join('shipments as s', 's.id', 'sl.shipment_id')
      .join('sales_order_lines as l', 'l.id', 'sl.order_line_id')
      .join('products as p', 'p.id', 'l.product_id')
      .where('s.order_id', orderId)
      .select('sl.shipment_id', 'p.sku', 'sl.quantity'),
    db('payments')
      .where({ order_id: orderId })
      .orderBy('created_at')
      .select(
        'kind',
        'amount',
        'currency',
        'status',
        'provider_ref',
        'invoice_id',
        'return_id',
        'failure_reason',
        'created_at',
      ),
    db('invoices')
      .where({ order_id: orderId })
      .orderBy('issued_at')
      .select('id', 'number', 'subtotal', 'shipping', 'tax', 'total', 'status', 'issued_at'),
    db('returns')
      .where({ order_id: orderId })
      .orderBy('requested_at')
      .select('id', 'rma_number', 'status', 'resolution', 'refund_amount', 'requested_at'),
    db('exceptions')
      .where({ subject_type: 'order', subject_id: orderId, status: 'open' })
      .orderBy('opened_at')
      .select('id', 'type', 'severity', 'queue', 'summary', 'opened_at'),
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
    lines: lines.map((l) => ({
      lineNo: l.line_no,
      sku: l.sku,
      name: l.name,
      quantity: l.quantity,
      unitPrice: l.unit_price,
      net: l.net,
      tax: l.tax,
      quantityShipped: l.quantity_shipped,
      quantityCancelled: l.quantity_cancelled,
    })),
    reservations: reservations.map((r) => ({
      sku: r.sku,
      warehouse: r.warehouse,
      quantity: r.quantity,
      state: r.state,
      shipmentId: r.shipment_id,
    })),
    shipments: shipments.map((s) => ({
      shipmentId: s.id,
      warehouse: s.warehouse,
      status: s.status,
      wave: s.wave,
      carrier: s.carrier ?? undefined,
      trackingNumber: s.tracking_number ?? undefined,
      shippedAt: s.shipped_at ?? undefined,
      deliveredAt: s.delivered_at ?? undefined,
      lines: shipmentLines.filter((l) => l.shipment_id === s.id).map((l) => ({ sku: l.sku, quantity: l.quantity })),
    })),
    payments: payments.map((p) => ({
      kind: p.kind,
      amount: p.amount,
      currency: p.currency,
      status: p.status,
      providerRef: p.provider_ref,
      invoiceId: p.invoice_id ?? undefined,
      returnId: p.return_id ?? undefined,
      failureReason: p.failure_reason ?? undefined,
      at: p.created_at,
    })),
    invoices: invoices.map((i) => ({
      invoiceId: i.id,
      number: i.number,
      subtotal: i.subtotal,
      shipping: i.shipping,
      tax: i.tax,
      total: i.total,
      status: i.status,
      issuedAt: i.issued_at,
    })),
    returns: returns.map((r) => ({
      returnId: r.id,
      rmaNumber: r.rma_number ?? undefined,
      status: r.status,
      resolution: r.resolution,
      refundAmount: r.refund_amount ?? undefined,
      requestedAt: r.requested_at,
    })),
    exceptions: exceptions.map((e) => ({
      exceptionId: e.id,
      type: e.type,
      severity: e.severity,
      queue: e.queue,
      summary: e.summary,
      openedAt: e.opened_at,
    })),
  };
}

// ---------------------------------------------------------------------------
// The order as the processes change it.

/** Locks the order row: creating, dispatching and cancelling shipments and reserving stock queue on it. */
export async function lockOrder(tx: Tx, orderId: string): Promise<void> {
  await tx('sales_orders').where({ id: orderId }).forUpdate().first('id');
}

/** The whole order row, locked. */
export async function loadOrderForUpdate(tx: Tx, orderId: string) {
  return tx('sales_orders').where({ id: orderId }).forUpdate().first();
}

/** The order's status and channel, the order row locked. */
export async function lockOrderForReservation(tx: Tx, orderId: string) {
  return tx('sales_orders as o').where('o.id', orderId).forUpdate('o').first('o.status', 'o.channel_id');
}

/** The order's id, process and status, as the API finds it. */
export async function findOrderRef(
  db: Db | Tx,
  orderId: string,
): Promise<{ id: string; workflow_id: string; status: string } | undefined> {
  return db('sales_orders').where({ id: orderId }).first('id', 'workflow_id', 'status');
}

/** An order by the channel's own reference (a marketplace's order id). */
export async function findOrderByExternalRef(
  db: Db | Tx,
  channelId: number,
  externalRef: string,
): Promise<{ id: string; workflow_id: string; status: string; customer_id: number } | undefined> {
  return db('sales_orders')
    .where({ channel_id: channelId, external_ref: externalRef })
    .first('id', 'workflow_id', 'status', 'customer_id');
}

export async function orderStatus(db: Db | Tx, orderId: string): Promise<string> {
  return (await db('sales_orders').where({ id: orderId }).first('status')).status;
}

export async function orderExternalRef(tx: Db | Tx, orderId: string) {
  return tx('sales_orders').where({ id: orderId }).first('external_ref');
}

/** The order's reference and its customer's email, to write to the customer. */
export async function orderContact(tx: Db | Tx, orderId: string) {
  return tx('sales_orders as o')
    .join('customers as c', 'c.id', 'o.customer_id')
    .where('o.id', orderId)
    .first('o.external_ref', 'c.email');
}

export async function orderShippingAddress(db: Db | Tx, orderId: string): Promise<ShippingAddress> {
  return (await db('sales_orders').where({ id: orderId }).first('shipping_address')).shipping_address;
}

/** Sets the status of an order that is not cancelled (a cancelled order stays cancelled). */
export async function updateOrderStatus(tx: Db | Tx, orderId: string, status: OrderStatus): Promise<void> {
  await tx('sales_orders')
    .where({ id: orderId })
    .whereNot('status', 'cancelled')
    .update({ status, updated_at: tx.fn.now() });
}

/** How far along the way an order is: a status never moves to one that comes before it. */
const STAGE_RANK: Record<OrderStatus, number> = {
  received: 0,
  on_hold: 0,
  reserved: 1,
  backordered: 1,
  fulfilling: 2,
  cancel_requested: 2,
  shipped: 3,
  completed: 4,
  cancelled: 5,
};

/** Moves the order to `status` only from a status before it; false when it was already there or beyond. */
export async function advanceOrderStatus(tx: Db | Tx, orderId: string, status: OrderStatus): Promise<boolean> {
  const earlier = (Object.keys(STAGE_RANK) as OrderStatus[]).filter((s) => STAGE_RANK[s] < STAGE_RANK[status]);
  const n = await tx('sales_orders')
    .where({ id: orderId })
    .whereIn('status', earlier)
    .update({ status, updated_at: tx.fn.now() });
  return n > 0;
}

/** Closes a cancelled order: its final status and the reason. */
export async function recordCancellation(tx: Tx, orderId: string, status: OrderStatus, reason: string): Promise<void> {
  await tx('sales_orders').where({ id: orderId }).update({ status, cancel_reason: reason, updated_at: tx.fn.now() });
}

export async function setShippingAddress(tx: Tx, orderId: string, address: ShippingAddress): Promise<void> {
  await tx('sales_orders')
    .where({ id: orderId })
    .update({ shipping_address: JSON.stringify(address), updated_at: tx.fn.now() });
}

// ---------------------------------------------------------------------------
// Order lines: what is ordered, shipped and cancelled.

/** Cancels every unit of the order's lines that has not shipped. */
export async function cancelOpenLineQuantities(tx: Tx, orderId: string): Promise<void> {
  await tx('sales_order_lines')
    .where({ order_id: orderId })
    .update({ quantity_cancelled: tx.raw('quantity - quantity_shipped') });
}

/** True when some unit of the order has shipped. */
export async function anyLineShipped(tx: Db | Tx, orderId: string): Promise<boolean> {
  return !!(await tx('sales_order_lines').where({ order_id: orderId }).where('quantity_shipped', '>', 0).first('id'));
}

/** Cancels the units of each line that hold no (unreleased) reservation; answers the order's cancelled units. */
export async function cancelUnallocatedUnits(tx: Tx, orderId: string): Promise<number> {
  await tx.raw(
    `UPDATE sales_order_lines l SET quantity_cancelled = l.quantity - COALESCE(a.units, 0)
             FROM (SELECT sol.id, (SELECT SUM(x.line_units) FROM (SELECT DISTINCT allocation_id, line_units FROM reservations r
                     WHERE r.order_line_id = sol.id AND r.state <> 'released') x) AS units
                   FROM sales_order_lines sol WHERE sol.order_id = ?) a
            WHERE l.id = a.id AND l.quantity - COALESCE(a.units, 0) <> l.quantity_cancelled`,
    [orderId],
  );
  const total = await tx('sales_order_lines').where({ order_id: orderId }).sum({ n: 'quantity_cancelled' }).first();
  return Number(total?.n ?? 0);
}

export async function addShippedUnits(tx: Tx, orderLineId: number, units: number): Promise<void> {
  await tx('sales_order_lines').where({ id: orderLineId }).increment('quantity_shipped', units);
}

/** Units a cancel had written off left after all: they count as shipped again. */
export async function moveCancelledToShipped(tx: Tx, orderLineId: number, units: number): Promise<void> {
  await tx('sales_order_lines')
    .where({ id: orderLineId })
    .update({
      quantity_shipped: tx.raw('quantity_shipped + ?', [units]),
      quantity_cancelled: tx.raw('quantity_cancelled - ?', [units]),
    });
}

/** Units shipped after a cancel came back: they count as cancelled again. */
export async function moveShippedToCancelled(tx: Tx, orderLineId: number, units: number): Promise<void> {
  await tx('sales_order_lines')
    .where({ id: orderLineId })
    .update({
      quantity_shipped: tx.raw('quantity_shipped - ?', [units]),
      quantity_cancelled: tx.raw('quantity_cancelled + ?', [units]),
    });
}

// ---------------------------------------------------------------------------
// Customers and their orders, as customer service sees them.

export async function customerByEmail(db: Db | Tx, email: string) {
  return db('customers').where({ email }).first('id', 'email', 'name', 'created_at');
}

/** The customer's orders with their channel code, newest first. */
export async function ordersOfCustomer(db: Db | Tx, customerId: number) {
  return db('sales_orders as o')
    .join('channels as c', 'c.id', 'o.channel_id')
    .where('o.customer_id', customerId)
    .orderBy('o.placed_at', 'desc')
    .select('o.id', 'o.external_ref', 'c.code as channel', 'o.status', 'o.total', 'o.currency', 'o.placed_at');
}

/** True when the order exists. */
export async function orderExists(db: Db | Tx, orderId: string): Promise<boolean> {
  return !!(await db('sales_orders').where({ id: orderId }).first('id'));
}

/** Ids of the orders waiting for stock. */
export async function backorderedOrders(tx: Db | Tx): Promise<{ id: string }[]> {
  return tx('sales_orders').where({ status: 'backordered' }).select('id');
}

/** The order's total and currency, with its reference and the customer's email. */
export async function orderForPayment(
  db: Db | Tx,
  orderId: string,
): Promise<{ total: number; currency: string; email: string; external_ref: string } | undefined> {
  return db('sales_orders as o')
    .join('customers as c', 'c.id', 'o.customer_id')
    .where('o.id', orderId)
    .first('o.total', 'o.currency', 'o.external_ref', 'c.email');
}

/** The tax rate (basis points) of the order lines a return takes back. */
export async function returnedLineTaxRate(tx: Db | Tx, returnId: string): Promise<number> {
  return (
    await tx('sales_order_lines as l')
      .join('return_lines as rl', 'rl.order_line_id', 'l.id')
      .where('rl.return_id', returnId)
      .first('l.tax_rate_bp')
  ).tax_rate_bp;
}

/** Units shipped and units returned per SKU or per customer email, of the orders placed since `since`. */
export async function shippedAndReturned(
  tx: Db | Tx,
  subject: 'sku' | 'customer',
  since: Date,
): Promise<{ subject: string; shipped: number; returned: number }[]> {
  const key = subject === 'sku' ? 'p.sku' : 'c.email';
  return (
    await tx.raw(
      `SELECT ${key} AS subject, SUM(l.quantity_shipped)::int AS shipped, COALESCE(SUM(rt.received), 0)::int AS returned
               FROM sales_order_lines l JOIN sales_orders o ON o.id = l.order_id JOIN products p ON p.id = l.product_id JOIN customers c ON c.id = o.customer_id
               LEFT JOIN (SELECT order_line_id, SUM(quantity_received) AS received FROM return_lines GROUP BY 1) rt ON rt.order_line_id = l.id
              WHERE o.placed_at >= ? AND l.quantity_shipped > 0 GROUP BY ${key}`,
      [since],
    )
  ).rows;
}
