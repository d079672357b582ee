/** Customer operations: tickets triaged on arrival, and one view of everything about a customer. */
import { openExceptionsAbout } from '../../db/exceptions';
import { refundsOfOrders } from '../../db/payments';
import { operationsReport } from '../../db/reports';
import { creditNotesOfOrders, returnsOfOrders } from '../../db/returns';
import { customerByEmail, ordersOfCustomer } from '../../db/sales';
import { openTicketsOf, triageTicket, ticketView } from '../../db/service';
import { shipmentsOfOrders } from '../../db/shipping';
import type { ApiDeps } from '../deps';
import { notFound } from '../errors';
import type { Routes } from '../route';
import { CustomerParams, NewTicketBody, ReportQuery } from '../schemas';

export function serviceRoutes(routes: Routes, { db }: ApiDeps): void {
  routes.add({
    method: 'get',
    path: '/v1/reports/operations',
    tag: 'Reports',
    summary: 'Backlog by stage, fulfilment time, late orders, returns, open exceptions, approvals, stockout risks',
    roles: ['ops'],
    query: ReportQuery,
    response: { status: 200, description: 'The report' },
    handler: async (_ctx, { query }) => ({ body: await operationsReport(db, query) }),
  });

  routes.add({
    method: 'post',
    path: '/v1/tickets',
    tag: 'Service',
    summary: 'Record a customer message; answers it triaged (category, queue, priority, why) and linked to its order',
    roles: ['storefront', 'ops'],
    action: 'ticket.create',
    body: NewTicketBody,
    idempotent: true,
    response: { status: 201, description: 'The triaged ticket' },
    handler: async (_ctx, { body }) => {
      const ticket = await triageTicket(db, body);
      return { body: ticket, audit: { target: String(ticket.ticketId) } };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/customers/:email/overview',
    tag: 'Service',
    summary: 'Everything about one customer: orders, shipments, returns, refunds, tickets, open exceptions',
    roles: ['ops'],
    params: CustomerParams,
    response: { status: 200, description: 'The overview' },
    handler: async (_ctx, { params }) => {
      const customer = await customerByEmail(db, params.email.toLowerCase());
      if (!customer) throw notFound(`Customer ${params.email}`);
      const orders = await ordersOfCustomer(db, customer.id);
      const orderIds = orders.map((o) => o.id);
      const [shipments, returns, refunds, creditNotes, tickets] = await Promise.all([
        shipmentsOfOrders(db, orderIds),
        returnsOfOrders(db, orderIds),
        refundsOfOrders(db, orderIds),
        creditNotesOfOrders(db, orderIds),
        openTicketsOf(db, customer.email),
      ]);
      const subjects = [...orderIds, ...shipments.map((s) => s.id), ...returns.map((r) => r.id), customer.email];
      const exceptions = await openExceptionsAbout(db, subjects);
      return {
        body: {
          customer: { email: customer.email, name: customer.name, since: customer.created_at },
          orders: orders.map((o) => ({
            orderId: o.id,
            externalRef: o.external_ref,
            channel: o.channel,
            stage: o.status,
            total: o.total,
            currency: o.currency,
            placedAt: o.placed_at,
          })),
          shipments: shipments.map((s) => ({
            shipmentId: s.id,
            orderId: s.order_id,
            warehouse: s.code,
            status: s.status,
            carrier: s.carrier ?? undefined,
            trackingNumber: s.tracking_number ?? undefined,
            shippedAt: s.shipped_at ?? undefined,
            deliveredAt: s.delivered_at ?? undefined,
          })),
          returns: returns.map((r) => ({
            returnId: r.id,
            orderId: r.order_id,
            rmaNumber: r.rma_number ?? undefined,
            stage: r.status,
            resolution: r.resolution,
            refundAmount: r.refund_amount ?? undefined,
            requestedAt: r.requested_at,
          })),
          refunds: refunds.map((r) => ({
            orderId: r.order_id,
            amount: r.amount,
            currency: r.currency,
            status: r.status,
            returnId: r.return_id ?? undefined,
            at: r.created_at,
          })),
          creditNotes: creditNotes.map((c) => ({
            creditNoteId: c.id,
            number: c.number,
            orderId: c.order_id,
            returnId: c.return_id ?? undefined,
            shipmentId: c.shipment_id ?? undefined,
            total: c.total,
            issuedAt: c.issued_at,
          })),
          tickets: tickets.map(ticketView),
          exceptions: exceptions.map((e) => ({
            exceptionId: e.id,
            type: e.type,
            severity: e.severity,
            queue: e.queue,
            summary: e.summary,
            subjectType: e.subject_type,
            subjectId: e.subject_id,
            openedAt: e.opened_at,
          })),
        },
      };
    },
  });
}
