/** Orders (order-to-cash): place, read, cancel, change address, review; and warehouse shipment events. */
import { z } from 'zod';
import { HoldTaken } from '../../db/holds';
import {
  findOrderRef,
  ordersMatching,
  recordOrder,
  orderStatus,
  orderView,
  OrderConflict,
  OrderRejected,
} from '../../db/sales';
import { pageOf } from '../../db/paging';
import { major, sendCsv, wantsCsv } from '../csv';
import { ticketsMatching, ticketView } from '../../db/service';
import { disputesOfOrder } from '../../db/settlements';
import {
  recordShipmentEvent,
  reportedShipment,
  shipmentLineSkus,
  shipmentsToWork,
  type ReportedShipment,
} from '../../db/shipping';
import { orderTimings } from '../../lib/config';
import { startOrderToCash } from '../../lib/start-process';
import type { shippedAfterCancel as shippedAfterCancelWorkflow } from '../../workflows/shipped-after-cancel';
import {
  cancelUpdate,
  changeAddressUpdate,
  processQuery,
  reviewUpdate,
  shipmentEventSignal,
  shipmentEventUpdate,
} from '../../contracts/order-messages';
import type { OrderStatus, OrderToCashInput, ShipmentEvent, ShipmentEventAnswer } from '../../contracts/order-types';
import type { ApiDeps } from '../deps';
import { conflict, HttpError, notFound, refuseBadCursor, unprocessable } from '../errors';
import { ordersPlaced } from '../metrics';
import { queryProcess, recordedProcess, reportToProcess, startOnce, updateProcess } from '../process';
import type { Routes } from '../route';
import {
  Address,
  CancelOrder,
  Order,
  OrderCancellation,
  OrderCreated,
  OrderList,
  OrderListQuery,
  OrderParams,
  OrderReviewDecision,
  PlaceOrder,
  ReviewDecision,
  ShipmentEventBody,
  ShipmentEventResult,
  ShipmentListQuery,
  isUuid,
  ShipmentList,
} from '../schemas';
import { shippedAfterCancelWorkflowId } from '../../contracts/workflow-ids';

type OrderRow = {
  id: string;
  external_ref: string;
  channel: string;
  status: string;
  email: string;
  customer_name: string;
  currency: string;
  total: number;
  placed_at: Date;
};
const ORDER_CSV = [
  { key: 'id', header: 'order_id' },
  { key: 'external_ref', header: 'reference' },
  { key: 'channel', header: 'channel' },
  { key: 'status', header: 'status' },
  { key: 'email', header: 'customer_email' },
  { key: 'customer_name', header: 'customer_name' },
  { key: 'currency', header: 'currency' },
  { key: 'total', header: 'total' },
  { key: 'placed_at', header: 'placed_at' },
];

export function orderRoutes(routes: Routes, deps: ApiDeps): void {
  const { db, temporal, config } = deps;
  async function findOrder(orderId: string) {
    if (!isUuid(orderId)) throw notFound(`Order ${orderId}`);
    const o = await findOrderRef(db, orderId);
    if (!o) throw notFound(`Order ${orderId}`);
    return o;
  }

  routes.add({
    method: 'post',
    path: '/v1/orders',
    errors: [409, 422],
    tag: 'Orders',
    summary: 'Place an order (starts its order-to-cash process)',
    roles: ['storefront'],
    action: 'order.place',
    body: PlaceOrder,
    response: {
      status: 201,
      schema: OrderCreated,
      description: 'Created; a repeat of the same channel and externalRef answers 200 with the same ids',
    },
    also: [
      { status: 200, description: 'A repeat of the same channel and externalRef: the same ids, nothing started again' },
    ],
    handler: async (ctx, { body }) => {
      let recorded;
      try {
        recorded = await recordOrder(db, body, config.BASE_CURRENCY);
      } catch (err) {
        if (err instanceof OrderRejected) throw unprocessable(err.message, err.details);
        if (err instanceof HoldTaken)
          throw conflict(err.message, [{ path: 'holdId', message: 'already used by another order' }]);
        if (err instanceof OrderConflict)
          throw conflict(err.message, [{ path: 'externalRef', message: 'already used for a different order' }]);
        throw err;
      }
      const input: OrderToCashInput = {
        orderId: recorded.orderId,
        channel: body.channel,
        externalRef: body.externalRef,
        customerEmail: body.customer.email.toLowerCase(),
        customerId: String(recorded.customerId),
        backorderPolicy: body.backorderPolicy ?? 'ship_available',
        payment: body.payment,
        timings: orderTimings(config),
      };
      await startOrderToCash(temporal, config.TEMPORAL_TASK_QUEUE, recorded.workflowId, input, ctx.state.requestId);
      if (recorded.created) ordersPlaced.inc({ channel: body.channel });
      const status = await orderStatus(db, recorded.orderId);
      return {
        status: recorded.created ? 201 : 200,
        body: { orderId: recorded.orderId, workflowId: recorded.workflowId, status },
        audit: { target: recorded.orderId, workflowId: recorded.workflowId },
      };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/orders',
    tag: 'Orders',
    summary:
      'Find orders by reference, customer e-mail, status, channel and date: newest first, a page at a time, or all as CSV',
    roles: ['storefront', 'ops', 'warehouse', 'approver', 'finance'],
    query: OrderListQuery,
    response: { status: 200, schema: OrderList, description: 'A page of orders (or text/csv of every match)' },
    raw: true,
    handler: async (ctx, { query }) => {
      const matching = ordersMatching(db, query);
      if (wantsCsv(ctx, query.format)) {
        sendCsv(ctx, 'orders.csv', matching, ORDER_CSV, (o: OrderRow) => ({ ...o, total: major(o.total) }));
        return { body: undefined };
      }
      const page = await pageOf<OrderRow>(matching, {
        atColumn: 'o.placed_at',
        idColumn: 'o.id',
        cursor: query.cursor,
        limit: query.limit,
        at: (o) => o.placed_at,
      }).catch(refuseBadCursor);
      ctx.body = {
        orders: page.items.map((o) => ({
          orderId: o.id,
          externalRef: o.external_ref,
          channel: o.channel,
          status: o.status,
          customerEmail: o.email,
          customerName: o.customer_name,
          total: o.total,
          currency: o.currency,
          placedAt: o.placed_at,
        })),
        next: page.next,
      };
      return { body: ctx.body };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/orders/:orderId',
    tag: 'Orders',
    summary: 'An order with its records and its live process state',
    roles: ['storefront', 'ops', 'warehouse', 'approver', 'finance'],
    params: OrderParams,
    response: { status: 200, schema: Order, description: 'The order' },
    handler: async (_ctx, { params }) => {
      const order = await findOrder(params.orderId);
      const [view, tickets, disputes, live] = await Promise.all([
        orderView(db, order.id),
        ticketsMatching(db, { orderId: order.id }).orderBy('created_at', 'desc').limit(50),
        disputesOfOrder(db, order.id),
        queryProcess(temporal, order.workflow_id, processQuery, config),
      ]);
      return {
        body: {
          ...view,
          tickets: tickets.map(ticketView),
          disputes,
          process: live
            ? { stage: live.stage, waitingFor: live.waitingFor, timeline: live.timeline, live: true }
            : recordedProcess(view!.status, null, config.LIVE_VIEW_TIMEOUT_MS),
        },
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/orders/:orderId/cancel',
    errors: [409, 422],
    tag: 'Orders',
    summary: 'Cancel an order that has not shipped',
    roles: ['storefront', 'ops'],
    action: 'order.cancel',
    params: OrderParams,
    body: CancelOrder,
    response: {
      status: 202,
      schema: OrderCancellation,
      description:
        'Accepted. Nothing being picked: cancelled, stock released, payment voided. A parcel being picked: the order waits in cancel_requested until the warehouse stops it (cancelled) or ships it (the cancel is refused; see the process timeline)',
    },
    handler: async (_ctx, { params, body }) => {
      const order = await findOrder(params.orderId);
      await updateProcess(temporal, order.workflow_id, cancelUpdate, { reason: body.reason });
      return {
        body: { orderId: order.id, status: 'cancelling' },
        audit: { target: order.id, workflowId: order.workflow_id },
      };
    },
  });

  routes.add({
    method: 'put',
    path: '/v1/orders/:orderId/shipping-address',
    errors: [409, 422],
    tag: 'Orders',
    summary: 'Change the shipping address before anything ships',
    roles: ['storefront', 'ops'],
    action: 'order.change_address',
    params: OrderParams,
    body: Address,
    response: { status: 200, schema: Address, description: 'The new address' },
    handler: async (_ctx, { params, body }) => {
      const order = await findOrder(params.orderId);
      const saved = await updateProcess(temporal, order.workflow_id, changeAddressUpdate, body);
      return { body: saved, audit: { target: order.id, workflowId: order.workflow_id } };
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/orders/:orderId/review',
    errors: [409, 422],
    tag: 'Orders',
    summary: 'Decide an order held for payment (fraud) review',
    roles: ['ops'],
    action: 'order.review',
    params: OrderParams,
    body: ReviewDecision,
    response: { status: 200, schema: OrderReviewDecision, description: 'The decision reached the process' },
    handler: async (_ctx, { params, body }) => {
      const order = await findOrder(params.orderId);
      const r = await updateProcess(temporal, order.workflow_id, reviewUpdate, body);
      return {
        body: { orderId: order.id, decision: r.decision },
        audit: { target: order.id, workflowId: order.workflow_id },
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/shipments/:shipmentId/events',
    errors: [409, 422],
    tag: 'Shipments',
    summary: 'Report warehouse or carrier progress of a shipment',
    roles: ['warehouse'],
    action: 'shipment.event',
    params: z.object({ shipmentId: z.string().max(64) }),
    body: ShipmentEventBody,
    response: {
      status: 200,
      schema: ShipmentEventResult,
      description:
        'Applied by the order process (shipment status and order stage after it); 202 queued when the process is busy waiting on a person (it applies the report when it gets there); 409 with the reason when refused',
    },
    also: [
      {
        status: 202,
        description: 'Queued: the process applies the report when it is free (it is waiting on a person)',
      },
    ],
    handler: async (_ctx, { params, body }) => {
      const r = await reportShipmentEvent(deps, { shipmentId: params.shipmentId, ...body }, 'api');
      return {
        status: 'queued' in r ? 202 : 200,
        body: r,
        audit: { target: params.shipmentId, workflowId: r.workflowId },
      };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/shipments',
    tag: 'Shipments',
    summary: 'Shipments to work, oldest first (the warehouse pick list)',
    roles: ['warehouse', 'ops'],
    query: ShipmentListQuery,
    response: { status: 200, schema: ShipmentList, description: 'Shipments in the given statuses' },
    handler: async (_ctx, { query }) => {
      const rows = await shipmentsToWork(db, {
        statuses: query.status.split(','),
        warehouse: query.warehouse,
        limit: query.limit,
      });
      return {
        body: {
          shipments: rows.map((r) => ({
            shipmentId: r.id,
            orderId: r.order_id,
            warehouse: r.code,
            status: r.status,
            carrier: r.carrier ?? undefined,
            trackingNumber: r.tracking_number ?? undefined,
            createdAt: r.created_at,
          })),
        },
      };
    },
  });
}

const CLOSED = ['delivered', 'failed', 'cancelled'];

/**
 * Hands a warehouse or carrier report to the order's process and answers what it did: applied, or refused
 * with the reason (409). Shared by the warehouse API and the carrier webhook. Applied reports are recorded.
 * A parcel of a cancelled order reported shipped is never refused: it starts its shipped-after-cancel process.
 */
export async function reportShipmentEvent(deps: ApiDeps, e: ShipmentEvent, source: 'api' | 'webhook') {
  const { db, temporal, config } = deps;
  const find = async () => (isUuid(e.shipmentId) ? reportedShipment(db, e.shipmentId) : undefined);
  const shipment = await find();
  if (!shipment) throw notFound(`Shipment ${e.shipmentId}`);
  const left = e.type === 'shipped' || e.type === 'delivered';
  if (left && leftAfterCancel(shipment)) return shippedAfterCancel(deps, shipment, e, source);
  const foundAfterAll = shipment.status === 'failed' && e.type === 'delivered'; // a lost parcel the carrier delivered after all
  if (CLOSED.includes(shipment.status) && !foundAfterAll) throw conflict(`Shipment is already ${shipment.status}`);
  if (e.lines) await checkPicked(db, shipment, e.lines);
  const refused = async (reason: string) => {
    // The order was cancelled while the report travelled: the parcel left after the cancel.
    const now = left ? await find() : undefined;
    if (now && leftAfterCancel(now)) return shippedAfterCancel(deps, now, e, source);
    throw conflict(`Not applied: ${reason}`, [{ path: 'type', message: reason }]);
  };
  const report = { update: shipmentEventUpdate, signal: shipmentEventSignal };
  const told = await reportToProcess(temporal, shipment.workflow_id, report, e, config.REPORT_ANSWER_TIMEOUT_MS).catch(
    (err: unknown) => (err instanceof HttpError && err.status === 409 ? err : Promise.reject(err)),
  );
  if (told instanceof HttpError) return refused(told.message);
  // Not answered in time: queued, as the process itself says when it is busy.
  const answer: ShipmentEventAnswer =
    told === 'queued'
      ? {
          shipmentId: shipment.id,
          applied: false,
          queued: true,
          reason: 'queued: the process is busy and applies it when it gets there',
          shipmentStatus: shipment.status,
          orderStage: shipment.order_status as OrderStatus,
        }
      : told;
  if (answer.queued || answer.applied) await recordShipmentEvent(db, shipment.id, e, source);
  if (answer.queued)
    return {
      shipmentId: shipment.id,
      accepted: true,
      applied: false,
      queued: true,
      reason: answer.reason,
      shipmentStatus: answer.shipmentStatus,
      orderStage: answer.orderStage as string,
      workflowId: shipment.workflow_id,
    };
  if (!answer.applied) return refused(answer.reason ?? 'refused');
  return {
    shipmentId: shipment.id,
    accepted: true,
    applied: true,
    shipmentStatus: answer.shipmentStatus,
    orderStage: answer.orderStage as string,
    workflowId: shipment.workflow_id,
  };
}

/** A cancelled parcel reported as left, or a repeat for one already booked that way. */
const leftAfterCancel = (s: ReportedShipment) =>
  s.status === 'cancelled' || (s.order_status === 'cancelled' && ['shipped', 'delivered'].includes(s.status));

async function shippedAfterCancel(
  { db, temporal, config }: ApiDeps,
  shipment: ReportedShipment,
  e: ShipmentEvent,
  source: 'api' | 'webhook',
) {
  const workflowId = shippedAfterCancelWorkflowId(shipment.id);
  await startOnce<typeof shippedAfterCancelWorkflow>(temporal, 'shippedAfterCancel', {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowId,
    args: [
      {
        shipmentId: shipment.id,
        orderId: shipment.order_id,
        externalRef: shipment.external_ref,
        carrier: e.carrier,
        trackingNumber: e.trackingNumber,
      },
    ],
  });
  await recordShipmentEvent(db, shipment.id, e, source);
  return {
    shipmentId: shipment.id,
    accepted: true,
    applied: true,
    shipmentStatus: 'shipped_after_cancel',
    orderStage: shipment.order_status,
    workflowId,
  };
}

/** A short pick is checked against the shipment before the process sees it: a person's typo must not write anything off. */
async function checkPicked(
  db: ApiDeps['db'],
  shipment: { id: string; status: string },
  picked: { sku: string; quantity: number }[],
) {
  if (shipment.status !== 'pending')
    throw conflict(`Shipment is already ${shipment.status}; what was picked is reported with the first picked report`);
  const lines = await shipmentLineSkus(db, shipment.id);
  const problems: { path: string; message: string }[] = [];
  picked.forEach((p, i) => {
    const line = lines.find((l) => l.sku === p.sku);
    if (picked.findIndex((q) => q.sku === p.sku) !== i)
      problems.push({ path: `lines.${i}.sku`, message: `${p.sku} appears twice` });
    else if (!line) problems.push({ path: `lines.${i}.sku`, message: `${p.sku} is not on this shipment` });
    else if (line.kind === 'kit' && p.quantity < line.quantity)
      problems.push({
        path: `lines.${i}.sku`,
        message: `${p.sku} is a kit: report a short kit as failed, and count its components`,
      });
    else if (p.quantity > line.quantity)
      problems.push({
        path: `lines.${i}.quantity`,
        message: `at most ${line.quantity}: the shipment asks ${line.quantity} of ${p.sku}`,
      });
  });
  if (problems.length)
    throw unprocessable(
      `The picked lines do not fit the shipment: ${problems.map((p) => p.message).join('; ')}`,
      problems,
    );
}
