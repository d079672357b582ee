/**
 * Ticket triage. Everything it decides it explains (the ticket's `why`), and
 * its rules are data (triage_* tables):
 *  - category: the category whose patterns match the message with the most weight;
 *  - order: the one named by id or by the storefront's reference, else the customer's latest;
 *  - priority: points from the order's value and state and the customer's history;
 *  - a ready answer with the live status for where-is-my-order tickets whose order is on time.
 */
import { randomUUID } from 'node:crypto';
import { queueNotification } from './notifications';
import type { Db, Tx } from './index';

export interface NewTicket {
  customerEmail: string;
  orderId?: string;
  subject: string;
  body: string;
}

const TIE_ORDER = ['damaged_item', 'cancel', 'payment', 'return_or_refund', 'where_is_my_order'];
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

export async function classify(
  db: Db,
  text: string,
): Promise<{ category: string; score: number; matched: { category: string; pattern: string; weight: number }[] }> {
  const matched = await db('triage_category_rules')
    .whereRaw('? ~* pattern', [text])
    .select('category', 'pattern', 'weight');
  const scores = new Map<string, number>();
  for (const m of matched) scores.set(m.category, (scores.get(m.category) ?? 0) + m.weight);
  const ranked = [...scores].sort((a, b) => b[1] - a[1] || TIE_ORDER.indexOf(a[0]) - TIE_ORDER.indexOf(b[0]));
  return ranked.length
    ? { category: ranked[0][0], score: ranked[0][1], matched }
    : { category: 'other', score: 0, matched };
}

async function linkOrder(db: Db, t: NewTicket, text: string) {
  const mine = db('sales_orders as o')
    .join('customers as c', 'c.id', 'o.customer_id')
    .where('c.email', t.customerEmail.toLowerCase());
  if (t.orderId) {
    const o = await mine.clone().where('o.id', t.orderId).first('o.id');
    if (o) return { orderId: o.id as string, how: 'given with the ticket' };
  }
  const idInText = UUID.exec(text)?.[0];
  if (idInText) {
    const o = await mine.clone().where('o.id', idInText).first('o.id');
    if (o) return { orderId: o.id as string, how: 'order id mentioned in the message' };
  }
  const refs = await mine.clone().orderBy('o.placed_at', 'desc').limit(200).select('o.id', 'o.external_ref');
  const named = refs.find((r) => text.toLowerCase().includes(String(r.external_ref).toLowerCase()));
  if (named)
    return { orderId: named.id as string, how: `order reference ${named.external_ref} mentioned in the message` };
  if (refs[0]) return { orderId: refs[0].id as string, how: "the customer's latest order" };
  return undefined;
}

export async function triageTicket(db: Db, t: NewTicket) {
  const text = `${t.subject}\n${t.body}`;
  const { category, score, matched } = await classify(db, text);
  const link = await linkOrder(db, t, text);
  const order = link
    ? await db('sales_orders')
        .where({ id: link.orderId })
        .first('id', 'external_ref', 'status', 'total', 'currency', 'placed_at')
    : undefined;
  const shipments = order
    ? await db('shipments as s')
        .join('warehouses as w', 'w.id', 's.warehouse_id')
        .where('s.order_id', order.id)
        .select('s.status', 's.carrier', 's.tracking_number', 'w.code')
    : [];
  const email = t.customerEmail.toLowerCase();
  const recentTickets = Number(
    (await db('tickets')
      .where({ customer_email: email })
      .where('created_at', '>', new Date(Date.now() - 7 * 86400000))
      .count({ n: '*' })
      .first())!.n,
  );
  const orderCount = Number(
    (await db('sales_orders as o')
      .join('customers as c', 'c.id', 'o.customer_id')
      .where('c.email', email)
      .count({ n: '*' })
      .first())!.n,
  );
  const delayed = !!order && ['backordered', 'on_hold'].includes(order.status);
  const failed = shipments.some((s) => s.status === 'failed');
  const applies: Record<string, boolean> = {
    order_value_over_100: !!order && order.total > 10000,
    order_value_over_500: !!order && order.total > 50000,
    order_delayed: delayed,
    shipment_failed: failed,
    category_damaged_item: category === 'damaged_item',
    category_payment: category === 'payment',
    repeat_contact: recentTickets > 0,
    loyal_customer: orderCount >= 5,
  };
  const rules = (await db('triage_priority_rules').select('rule', 'points', 'description')).filter(
    (r) => applies[r.rule],
  );
  const points = rules.reduce((s, r) => s + r.points, 0);
  const priority = points >= 6 ? 'urgent' : points >= 4 ? 'high' : points >= 2 ? 'normal' : 'low';
  const queue = (await db('triage_queues').where({ category }).first('queue'))?.queue ?? 'general';
  const onTime = !!order && !delayed && !failed && !['cancelled'].includes(order.status);
  const suggestedAnswer = category === 'where_is_my_order' && onTime ? answerFor(order!, shipments) : undefined;
  const ticket = {
    id: randomUUID(),
    customer_email: email,
    order_id: order?.id ?? null,
    subject: t.subject,
    body: t.body,
    category,
    queue,
    priority,
    priority_points: points,
    why: JSON.stringify({
      category:
        category === 'other'
          ? 'no category rule matched'
          : `${category} scored ${score} from ${matched.filter((m) => m.category === category).length} matching rule(s)`,
      order: link?.how ?? 'no order found for this customer',
      priority: rules.map((r) => `+${r.points} ${r.description}`),
    }),
    suggested_answer: suggestedAnswer ?? null,
  };
  await db('tickets').insert(ticket);
  return ticketView({ ...ticket, why: JSON.parse(ticket.why), status: 'open', created_at: new Date() });
}

function answerFor(
  order: { external_ref: string; status: string },
  shipments: { status: string; carrier: string | null; tracking_number: string | null; code: string }[],
): string {
  const parcels = shipments
    .filter((s) => s.status !== 'cancelled')
    .map((s) => `from ${s.code}: ${s.status}${s.tracking_number ? ` (${s.carrier} ${s.tracking_number})` : ''}`);
  return `Your order ${order.external_ref} is ${order.status.replace('_', ' ')} and on time.${parcels.length ? ` Parcels ${parcels.join('; ')}.` : ' It is being prepared for shipping.'}`;
}

/** A ticket row as knex returns it (columns vary by query). */
export type TicketRow = Record<string, unknown>;

export function ticketView(t: TicketRow) {
  return {
    ticketId: t.id,
    customerEmail: t.customer_email,
    orderId: t.order_id ?? undefined,
    subject: t.subject,
    category: t.category,
    queue: t.queue,
    priority: t.priority,
    priorityPoints: t.priority_points,
    why: t.why,
    suggestedAnswer: t.suggested_answer ?? undefined,
    status: t.status,
    assignee: t.assignee ?? undefined,
    createdAt: t.created_at,
  };
}

export interface TicketFilter {
  status?: string;
  queue?: string;
  assignee?: string;
  email?: string;
  orderId?: string;
}

/** Tickets matching a filter (a page is read through db/paging.ts). */
export function ticketsMatching(db: Db, f: TicketFilter) {
  const q = db('tickets').select('*');
  if (f.status) q.where({ status: f.status });
  if (f.queue) q.where({ queue: f.queue });
  if (f.assignee) q.where({ assignee: f.assignee });
  if (f.email) q.where({ customer_email: f.email.toLowerCase() });
  if (f.orderId) q.where({ order_id: f.orderId });
  return q;
}

export async function ticketById(db: Db | Tx, id: string): Promise<TicketRow | undefined> {
  return db('tickets').where({ id }).first();
}

export async function ticketMessages(db: Db | Tx, ticketId: string) {
  return db('ticket_messages')
    .where({ ticket_id: ticketId })
    .orderBy('id')
    .select('kind', 'author', 'body', 'created_at as createdAt', 'notification_id as notificationId');
}

/** Assigns, or moves the status of, a ticket; answers whether it exists. */
export async function updateTicket(
  db: Db,
  id: string,
  change: { assignee?: string | null; status?: string },
): Promise<boolean> {
  return (
    (await db('tickets')
      .where({ id })
      .update({ ...change, updated_at: db.fn.now() })) > 0
  );
}

/**
 * Adds a message to a ticket. A reply goes to the customer through the notifications outbox in the same
 * transaction (keyed by `key`, so a retried request sends one e-mail) and puts the ticket in `pending`.
 */
export async function addTicketMessage(
  tx: Tx,
  t: { ticketId: string; kind: 'note' | 'reply'; author: string; body: string; key: string },
): Promise<void> {
  const ticket = await tx('tickets').where({ id: t.ticketId }).forUpdate().first('customer_email', 'subject', 'status');
  let notificationId: string | null = null;
  if (t.kind === 'reply') {
    await queueNotification(tx, {
      key: `ticket-reply:${t.key}`,
      recipient: ticket.customer_email,
      template: 'ticket_reply',
      subjectType: 'ticket',
      subjectId: t.ticketId,
      payload: { subject: ticket.subject, body: t.body },
    });
    notificationId = (
      await tx('notifications')
        .where({ idempotency_key: `ticket-reply:${t.key}` })
        .first('id')
    ).id;
    if (ticket.status === 'open') await tx('tickets').where({ id: t.ticketId }).update({ status: 'pending' });
  }
  await tx('ticket_messages').insert({
    ticket_id: t.ticketId,
    kind: t.kind,
    author: t.author,
    body: t.body,
    notification_id: notificationId,
  });
  await tx('tickets').where({ id: t.ticketId }).update({ updated_at: tx.fn.now() });
}

/** The customer's unfinished tickets (open, or pending on them), newest first. */
export async function openTicketsOf(db: Db, customerEmail: string) {
  return db('tickets')
    .where({ customer_email: customerEmail })
    .whereIn('status', ['open', 'pending'])
    .orderBy('created_at', 'desc');
}
