/** Customer operations: ticket triage (accuracy on a labelled set, links, priority, answers) and the customer overview. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { classify } from '../../db/service';
import { stockedSku } from '../helpers/fixtures';
import { deliveredOrder, place, waitFor } from '../helpers/orders';
import { startStack, Stack } from '../helpers/stack';

let s: Stack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(async () => s?.stop());

const ticket = (body: object, key = s.keys.storefront) => s.call('POST', '/v1/tickets', { key, body });

test('triage classifies a labelled set of 40 realistic messages', async () => {
  const labelled: { subject: string; body: string; category: string }[] = JSON.parse(
    readFileSync(join(__dirname, '..', 'fixtures', 'tickets.json'), 'utf8'),
  );
  expect(labelled).toHaveLength(40);
  const wrong: string[] = [];
  for (const m of labelled) {
    const got = (await classify(s.db, `${m.subject}\n${m.body}`)).category;
    if (got !== m.category) wrong.push(`"${m.subject}": expected ${m.category}, got ${got}`);
  }
  const accuracy = (labelled.length - wrong.length) / labelled.length;
  console.log(
    `Ticket triage accuracy: ${(accuracy * 100).toFixed(1)} % (${labelled.length - wrong.length}/${labelled.length})${wrong.length ? `\n  misses:\n  ${wrong.join('\n  ')}` : ''}`,
  );
  expect(accuracy).toBeGreaterThanOrEqual(0.85);
});

test('a ticket is linked to the order it names, ranked by the order state, and explained', async () => {
  const sku = await stockedSku(s.db, { EAST: 1 });
  const email = `t${Date.now()}@example.com`;
  const onTime = await place(s, [{ sku, quantity: 1 }], { customer: { email, name: 'Tess' } });
  await waitFor(s, onTime.orderId, 'fulfilling');
  const short = await place(s, [{ sku, quantity: 5, unitPrice: 3000 }], { customer: { email, name: 'Tess' } }); // nothing left: backordered, 184.45 total
  await waitFor(s, short.orderId, 'backordered');
  const ref = (await s.db('sales_orders').where({ id: onTime.orderId }).first('external_ref')).external_ref;

  const wismo = await ticket({
    customerEmail: email,
    subject: 'Where is my order?',
    body: `Hi, where is order ${ref}? Thanks`,
  });
  expect(wismo.status).toBe(201);
  expect(wismo.body).toMatchObject({ orderId: onTime.orderId, category: 'where_is_my_order', queue: 'order_support' });
  expect(wismo.body.why.order).toBe(`order reference ${ref} mentioned in the message`);
  expect(wismo.body.suggestedAnswer).toMatch(new RegExp(`Your order ${ref} is fulfilling and on time`));

  const delayed = await ticket({
    customerEmail: email,
    orderId: short.orderId,
    subject: 'Still waiting',
    body: 'Still waiting for my order.',
  });
  expect(delayed.body).toMatchObject({ orderId: short.orderId, category: 'where_is_my_order', priority: 'urgent' });
  expect(delayed.body.why.priority).toEqual(
    expect.arrayContaining([
      '+4 the order is backordered, on hold or overdue',
      '+2 the order is worth more than 100 (major units)',
      '+2 the customer wrote before in the last 7 days',
    ]),
  );
  expect(delayed.body.suggestedAnswer).toBeUndefined(); // a delayed order gets a person, not a canned answer
  expect(delayed.body.priorityPoints).toBeGreaterThan(wismo.body.priorityPoints);

  const question = await ticket({
    customerEmail: `new${Date.now()}@example.com`,
    subject: 'Sizes',
    body: 'Is there a size chart?',
  });
  expect(question.body).toMatchObject({
    category: 'other',
    queue: 'general',
    priority: 'low',
    why: { order: 'no order found for this customer' },
  });
  expect((await ticket({ customerEmail: 'not-an-email', subject: 'x', body: 'y' })).status).toBe(400);
  expect((await ticket({ customerEmail: email, subject: 'x', body: 'y' }, s.keys.warehouse)).status).toBe(403);
});

test('the overview shows a customer with orders, shipments, a return, a refund, a ticket', async () => {
  const sku = await stockedSku(s.db, { EAST: 2 }, 400, 'OV', 'apparel');
  const email = `ov${Date.now()}@example.com`;
  const order = await deliveredOrder(s, [{ sku, quantity: 2 }], { customer: { email, name: 'Olive' } });
  const r = await s.call('POST', '/v1/returns', {
    key: s.keys.storefront,
    body: { orderId: order.orderId, resolution: 'refund', lines: [{ sku, quantity: 1, reason: 'too big' }] },
  });
  expect(r.status).toBe(201);
  await ticket({ customerEmail: email, subject: 'Return', body: 'I sent the t-shirt back, where is my refund?' });
  const o = await s.call('GET', `/v1/customers/${encodeURIComponent(email)}/overview`, { key: s.keys.ops });
  expect(o.status).toBe(200);
  expect(o.body.customer).toMatchObject({ email, name: 'Olive' });
  expect(o.body.orders).toEqual([expect.objectContaining({ orderId: order.orderId, stage: 'completed' })]);
  expect(o.body.shipments[0]).toMatchObject({
    orderId: order.orderId,
    status: 'delivered',
    trackingNumber: expect.stringMatching(/^1Z/),
  });
  expect(o.body.returns).toEqual([expect.objectContaining({ returnId: r.body.returnId, resolution: 'refund' })]);
  expect(o.body.tickets).toEqual([expect.objectContaining({ category: 'return_or_refund', orderId: order.orderId })]);
  expect(o.body.refunds).toEqual([]);
  expect(
    (await s.call('GET', `/v1/customers/${encodeURIComponent(email)}/overview`, { key: s.keys.storefront })).status,
  ).toBe(403);
  expect((await s.call('GET', '/v1/customers/nobody@example.com/overview', { key: s.keys.ops })).status).toBe(404);
});

test('the operations report: backlog, fulfilment time, late orders, returns, exceptions, approvals, stockout risks', async () => {
  const sku = await stockedSku(s.db, { EAST: 1 }, 400, 'OPS', 'apparel');
  await deliveredOrder(s, [{ sku, quantity: 1 }]); // shipped: counts in fulfilment time and demand; nothing left: a stockout risk
  const r = await s.call('GET', '/v1/reports/operations?windowDays=7&coverDays=30', { key: s.keys.ops });
  expect(r.status).toBe(200);
  expect(r.body.ordersByStage.completed).toBeGreaterThanOrEqual(1);
  expect(r.body.fulfilmentHours.orders).toBeGreaterThanOrEqual(1);
  expect(r.body.fulfilmentHours.p50).toBeGreaterThanOrEqual(0);
  expect(r.body.fulfilmentHours.p90).toBeGreaterThanOrEqual(r.body.fulfilmentHours.p50);
  expect(r.body.stockoutRisks).toEqual(expect.arrayContaining([expect.objectContaining({ sku, available: 0 })]));
  expect(r.body.lateOrders).toMatchObject({ promiseHours: 48, count: expect.any(Number) });
  expect(
    Array.isArray(r.body.openExceptions) &&
      Array.isArray(r.body.pendingApprovals) &&
      Array.isArray(r.body.returnsByReason),
  ).toBe(true);
  expect((await s.call('GET', '/v1/reports/operations?windowDays=0', { key: s.keys.ops })).status).toBe(400);
  expect((await s.call('GET', '/v1/reports/operations', { key: s.keys.storefront })).status).toBe(403);
});
