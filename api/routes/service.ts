/** Customer operations: tickets triaged on arrival, and one view of everything about a customer. */
import { openExceptionsAbout } from '../../db/exceptions';
import { refundsOfOrders } from '../../db/payments';
import { operationsReport } from '../../db/reports';
import { creditNotesOfOrders, returnsOfOrders } from '../../db/returns';
import { customerByEmail, ordersOfCustomer } from '../../db/sales';
import { inTransaction } from '../../db';
import { pageOf } from '../../db/paging';
import {
  addTicketMessage,
  openTicketsOf,
  ticketById,
  ticketMessages,
  ticketsMatching,
  triageTicket,
  ticketView,
  updateTicket,
  type TicketRow,
} from '../../db/service';
import { shipmentsOfOrders } from '../../db/shipping';
import type { ApiDeps } from '../deps';
import { conflict, notFound, refuseBadCursor } from '../errors';
import type { Routes } from '../route';
import {
  CustomerOverview,
  CustomerParams,
  NewTicketBody,
  OperationsReport,
  ReportQuery,
  Ticket,
  TicketAssigned,
  TicketAssignment,
  TicketDetail,
  TicketList,
  TicketListQuery,
  TicketMessage,
  TicketMessageAdded,
  TicketParams,
  TicketStatusChange,
  TicketStatusChanged,
} from '../schemas';

export function serviceRoutes(routes: Routes, { db }: ApiDeps): void {
  async function findTicket(id: string) {
    const t = await ticketById(db, id);
    if (!t) throw notFound(`Ticket ${id}`);
    return t;
  }

  routes.add({
    method: 'get',
    path: '/v1/reports/operations',
    tag: 'Reports',
    summary: 'Backlog by stage, fulfilment time, late orders, returns, open exceptions, approvals, stockout risks',
    roles: ['ops'],
    query: ReportQuery,
    response: { status: 200, schema: OperationsReport, description: 'The report' },
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
    response: { status: 201, schema: Ticket, description: 'The triaged ticket' },
    handler: async (_ctx, { body }) => {
      const ticket = await triageTicket(db, body);
      return { body: ticket, audit: { target: String(ticket.ticketId) } };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/tickets',
    tag: 'Service',
    summary: 'Tickets by status, queue, assignee or customer, newest first, a page at a time',
    roles: ['ops'],
    query: TicketListQuery,
    response: { status: 200, schema: TicketList, description: 'A page of tickets' },
    handler: async (_ctx, { query }) => {
      const page = await pageOf<TicketRow & { id: string; created_at: Date }>(ticketsMatching(db, query), {
        atColumn: 'created_at',
        idColumn: 'id',
        cursor: query.cursor,
        limit: query.limit,
        at: (t) => t.created_at,
      }).catch(refuseBadCursor);
      return { body: { tickets: page.items.map(ticketView), next: page.next } };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/tickets/:id',
    tag: 'Service',
    summary: 'A ticket with its triage and its conversation (internal notes and replies)',
    roles: ['ops'],
    params: TicketParams,
    response: { status: 200, schema: TicketDetail, description: 'The ticket' },
    handler: async (_ctx, { params }) => {
      const t = await findTicket(params.id);
      return { body: { ...ticketView(t), body: t.body, messages: await ticketMessages(db, params.id) } };
    },
  });

  routes.add({
    method: 'put',
    path: '/v1/tickets/:id/assignee',
    tag: 'Service',
    summary: 'Give a ticket to someone (or back to its queue)',
    roles: ['ops'],
    action: 'ticket.assign',
    params: TicketParams,
    body: TicketAssignment,
    response: { status: 200, schema: TicketAssigned, description: 'Assigned' },
    handler: async (_ctx, { params, body }) => {
      await findTicket(params.id);
      await updateTicket(db, params.id, { assignee: body.assignee });
      return { body: { ticketId: params.id, assignee: body.assignee }, audit: { target: params.id } };
    },
  });

  routes.add({
    method: 'put',
    path: '/v1/tickets/:id/status',
    errors: [409],
    tag: 'Service',
    summary: 'Move a ticket: open, pending (on the customer), solved, closed',
    roles: ['ops'],
    action: 'ticket.status',
    params: TicketParams,
    body: TicketStatusChange,
    response: { status: 200, schema: TicketStatusChanged, description: 'Moved; 409 from a closed ticket' },
    handler: async (_ctx, { params, body }) => {
      const t = await findTicket(params.id);
      if (t.status === 'closed' && body.status !== 'closed') throw conflict('The ticket is closed; open a new one');
      await updateTicket(db, params.id, { status: body.status });
      return { body: { ticketId: params.id, status: body.status }, audit: { target: params.id } };
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/tickets/:id/messages',
    errors: [409],
    tag: 'Service',
    summary: 'Add an internal note, or reply to the customer (sent through the notifications outbox, once)',
    roles: ['ops'],
    action: 'ticket.message',
    params: TicketParams,
    body: TicketMessage,
    idempotent: true,
    response: { status: 201, schema: TicketMessageAdded, description: 'Added (a reply is queued for sending)' },
    handler: async (ctx, { params, body, principal, requestKey }) => {
      const t = await findTicket(params.id);
      if (t.status === 'closed') throw conflict('The ticket is closed; open a new one');
      const key = requestKey ?? ctx.state.requestId;
      await inTransaction(db, (tx) =>
        addTicketMessage(tx, { ticketId: params.id, ...body, author: principal.name, key }),
      );
      return { status: 201, body: { ticketId: params.id, kind: body.kind, added: true }, audit: { target: params.id } };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/customers/:email/overview',
    tag: 'Service',
    summary: 'Everything about one customer: orders, shipments, returns, refunds, tickets, open exceptions',
    roles: ['ops'],
    params: CustomerParams,
    response: { status: 200, schema: CustomerOverview, description: 'The overview' },
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
