/** The outbox: written with the change, delivered by the scheduled dispatcher, never twice, even across a crash mid-delivery. */
import { createActivities, sandboxDeps } from '../../activities';
import { stockedSku } from '../helpers/fixtures';
import { place, recordHistories, shipAll, waitFor } from '../helpers/orders';
import { eventually, startStack, Stack } from '../helpers/stack';
import { dropSchedules, ensureSchedules, outboxScheduleId } from '../../workers/schedules';

let s: Stack;
beforeAll(async () => {
  s = await startStack({ OUTBOX_INTERVAL: '1h' }); // triggered by hand below
});
afterAll(async () => {
  try {
    await recordHistories(s, 'notifications');
  } finally {
    await s?.stop();
  }
});

test('order events reach the outbox with their change and the dispatcher mails each once', async () => {
  const sku = await stockedSku(s.db, { EAST: 1 });
  const { orderId } = await place(s, [{ sku, quantity: 2 }]); // one short: backordered, so also "delayed"
  const o = await waitFor(s, orderId, 'backordered', (x) => x.shipments.length === 1);
  await shipAll(s, o, 'shipped');
  await waitFor(s, orderId, 'backordered', (x) => x.invoices.length === 1);
  const outbox = await s
    .db('notifications')
    .where({ subject_type: 'order', subject_id: orderId })
    .orderBy('created_at')
    .select('id', 'template', 'status', 'recipient');
  expect(outbox.map((n) => n.template).sort()).toEqual(['order_confirmed', 'order_delayed', 'order_shipped']);

  await ensureSchedules(s.client, s.config);
  const schedule = s.client.schedule.getHandle(outboxScheduleId(s.taskQueue));
  await schedule.trigger();
  await eventually(
    async () =>
      (
        await s
          .db('notifications')
          .whereIn(
            'id',
            outbox.map((n) => n.id),
          )
          .where('status', 'sent')
      ).length === 3,
    20000,
    'delivery',
  );
  const mail = await s
    .db('sandbox_mailbox')
    .whereIn(
      'message_id',
      outbox.map((n) => n.id),
    )
    .select('subject', 'recipient');
  expect(mail).toHaveLength(3);
  expect(mail.map((m) => m.subject)).toEqual(expect.arrayContaining([expect.stringMatching(/is on its way \(UPS 1Z/)]));
  await schedule.trigger(); // again: nothing is sent twice
  await new Promise((r) => setTimeout(r, 1500));
  expect(
    await s.db('sandbox_mailbox').whereIn(
      'message_id',
      outbox.map((n) => n.id),
    ),
  ).toHaveLength(3);
  await dropSchedules(s.client, s.taskQueue);
  expect(
    (await s.call('POST', `/v1/orders/${orderId}/cancel`, { key: s.keys.ops, body: { reason: 'test over' } })).status,
  ).toBe(409); // shipped: cancel refused
});

test('a crash after the provider accepted a message but before it was marked sent does not send it twice', async () => {
  const sku = await stockedSku(s.db, { EAST: 1 });
  const { orderId } = await place(s, [{ sku, quantity: 1 }]);
  await waitFor(s, orderId, 'fulfilling');
  const confirmed = await s.db('notifications').where({ subject_id: orderId, template: 'order_confirmed' }).first('id');
  const real = sandboxDeps(s.db);
  const crashing = createActivities(
    sandboxDeps(s.db, {
      mailer: {
        send: async (m) => {
          await real.mailer.send(m);
          throw new Error('worker killed right after the provider accepted');
        },
      },
    }),
  );
  await expect(crashing.deliverNotifications({ batch: 500 })).rejects.toThrow(/worker killed/);
  expect((await s.db('notifications').where({ id: confirmed.id }).first('status')).status).toBe('pending'); // the mark was rolled back
  const healthy = createActivities(real);
  await healthy.deliverNotifications({ batch: 500 });
  expect((await s.db('notifications').where({ id: confirmed.id }).first('status')).status).toBe('sent');
  expect(await s.db('sandbox_mailbox').where({ message_id: confirmed.id })).toHaveLength(1);
});
