/**
 * Outbound webhooks, as an integrator meets them: a subscription to our events, each delivered to a real
 * receiving HTTP server on loopback, signed per the Standard Webhooks spec, one subject's events in order,
 * each event once at a receiver that keeps the webhook-ids it saw, also when the worker is killed mid-delivery;
 * a receiver that stays down ends as a dead letter case, and a redeliver sends it again. Targets in private
 * networks are refused unless allowed (here only 127.0.0.0/8 is).
 */
import { spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { stockedSku } from '../helpers/fixtures';
import { deliveredOrder, place, recordHistories, remember, shipAll, waitFor } from '../helpers/orders';
import { webhookDispatchWorkflowId } from '../../contracts/workflow-ids';
import { eventually, startStack, type Stack } from '../helpers/stack';
import { dropSchedules } from '../../workers/schedules';

interface Received {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  type: string;
  data: Record<string, unknown>;
}

/** A receiver as the spec recommends: it keeps the ids it has seen and takes each event once. */
class Receiver {
  readonly all: Received[] = [];
  readonly taken = new Map<string, Received>();
  mode: 'ok' | 'fail' | 'slow' = 'ok';
  inFlight = 0;
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', async () => {
        const h = (n: string) => String(req.headers[n] ?? '');
        const { type, data } = JSON.parse(body) as { type: string; data: Record<string, unknown> };
        const r = {
          id: h('webhook-id'),
          timestamp: h('webhook-timestamp'),
          signature: h('webhook-signature'),
          body,
          type,
          data,
        };
        if (this.mode === 'fail') return void res.writeHead(500).end('down');
        this.inFlight++;
        if (this.mode === 'slow') await new Promise((x) => setTimeout(x, 300));
        this.all.push(r);
        if (!this.taken.has(r.id)) this.taken.set(r.id, r);
        this.inFlight--;
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    this.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/hooks`;
    return this;
  }
  /** The events taken about one subject (orderId), in the order they arrived. */
  about(orderId: string): Received[] {
    return [...this.taken.values()].filter((r) => r.data.orderId === orderId);
  }
  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let s: Stack;
let receiver: Receiver;
const subscriptions: string[] = [];

beforeAll(async () => {
  s = await startStack({
    WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8',
    WEBHOOK_RETRY_SECONDS: '1',
    WEBHOOK_GIVE_UP_AFTER: '4s',
    WEBHOOK_TIMEOUT_SECONDS: '2',
  });
  receiver = await new Receiver().start();
});
afterAll(async () => {
  for (const id of subscriptions) await s.call('DELETE', `/v1/webhook-subscriptions/${id}`);
  await dropSchedules(s.client, s.taskQueue);
  // With no subscription left the dispatcher ends: its history becomes a replay fixture (RECORD_HISTORIES=1).
  const dispatcher = webhookDispatchWorkflowId(s.taskQueue);
  await s.client.workflow.getHandle(dispatcher).result();
  remember(dispatcher);
  await recordHistories(s, 'outbound-webhooks');
  await receiver?.stop();
  await s?.stop();
});

async function subscribe(url: string, eventTypes: string[]) {
  const r = await s.call('POST', '/v1/webhook-subscriptions', { body: { url, eventTypes, description: 'test' } });
  expect(r.status).toBe(201);
  subscriptions.push(r.body.subscriptionId);
  return r.body as { subscriptionId: string; secret: string };
}

/** The events recorded about an order, in their order (what a receiver must see). */
async function recorded(orderId: string): Promise<{ id: string; type: string }[]> {
  return s
    .db('business_events')
    .where({ subject_type: 'order', subject_id: orderId })
    .orderBy('seq')
    .select('id', 'type');
}

/** The spec's reference algorithm, written out: HMAC-SHA256 over `id.timestamp.body` with the base64 secret. */
function referenceSignature(secret: string, r: Received): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${r.id}.${r.timestamp}.${r.body}`).digest('base64')}`;
}

test('a target in a private network, an unknown event type or a scheme other than http(s) is refused', async () => {
  for (const [url, words] of [
    ['http://10.1.2.3/hook', /10\.1\.2\.3, a private address/],
    ['http://169.254.169.254/latest/meta-data', /link-local/],
    ['http://[::1]:8080/hook', /::1, a loopback address/],
    ['http://192.168.0.10/hook', /private/],
    ['http://[::ffff:169.254.169.254]/latest', /link-local/], // an IPv4 address written as IPv6
    ['http://[::ffff:a00:1]/hook', /private/],
    ['http://[64:ff9b::a9fe:a9fe]/hook', /NAT64/],
    ['http://2852039166/latest', /169\.254\.169\.254, a link-local/], // a decimal IPv4 address
    ['ftp://127.0.0.1/hook', /http or https/],
    ['http://user:pw@127.0.0.1/hook', /user name or password/],
  ] as const) {
    const r = await s.call('POST', '/v1/webhook-subscriptions', { body: { url, eventTypes: ['order.*'] } });
    expect([r.status, r.body.error.message]).toEqual([422, expect.stringMatching(words)]);
  }
  const typo = await s.call('POST', '/v1/webhook-subscriptions', {
    body: { url: receiver.url, eventTypes: ['order.shiped'] },
  });
  expect(typo.status).toBe(400);
  expect(JSON.stringify(typo.body.error.details)).toContain('eventTypes');
  const other = await s.call('POST', '/v1/webhook-subscriptions', {
    key: s.keys.ops,
    body: { url: receiver.url, eventTypes: ['*'] },
  });
  expect(other.status).toBe(403);
});

test("an order's events reach the receiver in order, signed per Standard Webhooks, each once", async () => {
  const sub = await subscribe(receiver.url, ['order.*']);
  expect(sub.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
  // The same request again under its Idempotency-Key: the same subscription and secret, not a second one.
  const once = { url: receiver.url, eventTypes: ['refund.*'] };
  const first = await s.call('POST', '/v1/webhook-subscriptions', {
    body: once,
    headers: { 'idempotency-key': 'sub-once' },
  });
  const again = await s.call('POST', '/v1/webhook-subscriptions', {
    body: once,
    headers: { 'idempotency-key': 'sub-once' },
  });
  expect([first.status, again.body.subscriptionId, again.body.secret]).toEqual([
    201,
    first.body.subscriptionId,
    first.body.secret,
  ]);
  subscriptions.push(first.body.subscriptionId);
  const listed = await s.call('GET', '/v1/webhook-subscriptions');
  const mine = listed.body.subscriptions.find(
    (x: { subscriptionId: string }) => x.subscriptionId === sub.subscriptionId,
  );
  expect(mine).toMatchObject({ url: receiver.url, eventTypes: ['order.*'] });
  expect(JSON.stringify(listed.body)).not.toContain(sub.secret);

  const sku = await stockedSku(s.db, { EAST: 5 });
  const orders = [await deliveredOrder(s, [{ sku, quantity: 1 }]), await deliveredOrder(s, [{ sku, quantity: 2 }])];
  for (const o of orders) {
    const events = await recorded(o.orderId);
    // Recorded as each change committed: the shipment's delivery (reported by the carrier) may commit before the
    // order process records "shipped" when both come within milliseconds, as here; what is promised is the order
    // recorded, which the receiver must see.
    expect(events.map((e) => e.type).sort()).toEqual(
      [
        'order.created',
        'order.reserved',
        'order.fulfilling',
        'order.shipped',
        'order.delivered',
        'order.completed',
      ].sort(),
    );
    const got = await eventually(
      async () => receiver.about(o.orderId).length === events.length && receiver.about(o.orderId),
      20_000,
      `every event of ${o.orderId}`,
    );
    expect(got.map((r) => r.id)).toEqual(events.map((e) => e.id));
    for (const r of got) {
      expect(r.signature).toBe(referenceSignature(sub.secret, r));
      expect(
        new Webhook(sub.secret).verify(r.body, {
          'webhook-id': r.id,
          'webhook-timestamp': r.timestamp,
          'webhook-signature': r.signature,
        }),
      ).toMatchObject({ type: r.type });
    }
    expect(got.find((r) => r.type === 'order.shipped')!.data).toMatchObject({
      orderId: o.orderId,
      status: 'shipped',
      previousStatus: 'fulfilling',
    });
    expect(got.find((r) => r.type === 'order.delivered')!.data).toMatchObject({
      carrier: 'UPS',
      trackingNumber: expect.any(String),
    });
  }
  const deliveries = await s.call(
    'GET',
    `/v1/webhook-subscriptions/${sub.subscriptionId}/deliveries?status=delivered&limit=200`,
  );
  const delivered = new Set(deliveries.body.deliveries.map((d: { eventId: string }) => d.eventId));
  for (const o of orders) for (const e of await recorded(o.orderId)) expect(delivered.has(e.id)).toBe(true);
});

test('a receiver down past the retry period: dead deliveries, a case for ops, sent again by redeliver', async () => {
  const down = await new Receiver().start();
  down.mode = 'fail';
  try {
    const sub = await subscribe(down.url, ['order.created']);
    const sku = await stockedSku(s.db, { EAST: 1 });
    const { orderId } = await place(s, [{ sku, quantity: 1 }]);
    const [created] = await recorded(orderId);
    const dead = await eventually(
      async () => {
        const r = await s.call('GET', `/v1/webhook-subscriptions/${sub.subscriptionId}/deliveries?status=dead`);
        return r.body.deliveries.find((d: { eventId: string }) => d.eventId === created.id);
      },
      20_000,
      'the delivery to die',
    );
    expect(dead).toMatchObject({ type: 'order.created', lastStatusCode: 500, lastError: 'answered 500' });
    expect(dead.attempts).toBeGreaterThanOrEqual(2);
    const caseRow = await s
      .db('exceptions')
      .where({ type: 'webhook_dead_letter', subject_id: sub.subscriptionId, status: 'open' })
      .first();
    expect(caseRow.summary).toContain(down.url);

    down.mode = 'ok';
    const again = await s.call('POST', `/v1/webhook-subscriptions/${sub.subscriptionId}/redeliver`, { body: {} });
    expect(again.status).toBe(200);
    expect(again.body.redelivered).toBeGreaterThanOrEqual(1);
    await eventually(async () => down.taken.has(created.id), 20_000, 'the redelivery');
    await eventually(
      async () => (await s.db('exceptions').where({ id: caseRow.id }).first()).status === 'closed',
      20_000,
      'the case to close itself',
    );
    const nothing = await s.call('POST', `/v1/webhook-subscriptions/${sub.subscriptionId}/redeliver`, {
      body: { deliveryIds: ['1'] },
    });
    expect(nothing.body).toEqual({ redelivered: 0 });
  } finally {
    await down.stop();
  }
});

test('a worker killed mid-delivery: every event still arrives once per webhook-id, in order per order', async () => {
  receiver.mode = 'slow';
  await s.stopWorker();
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', '..', 'workers', 'main.ts')], {
    env: {
      ...process.env,
      TEMPORAL_TASK_QUEUE: s.taskQueue,
      WORKFLOW_BUNDLE: process.env.TEST_WORKFLOW_BUNDLE,
      LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  });
  const sku = await stockedSku(s.db, { EAST: 10 });
  const ids: string[] = [];
  try {
    for (let i = 0; i < 3; i++) ids.push((await place(s, [{ sku, quantity: 1 }])).orderId);
    for (const id of ids) await shipAll(s, await waitFor(s, id, 'fulfilling', undefined, 60_000));
    // Killed while the receiver holds a request: that delivery was sent and never recorded as delivered.
    await eventually(
      async () => receiver.inFlight > 0 && receiver.about(ids[0]).length > 0,
      60_000,
      'a delivery in flight',
    );
  } finally {
    child.kill('SIGKILL');
  }
  await new Promise((resolve) => child.once('exit', resolve));
  await s.startWorker();
  receiver.mode = 'ok';
  for (const id of ids) {
    await waitFor(s, id, 'completed', undefined, 60_000);
    const events = await recorded(id);
    const got = await eventually(
      async () => receiver.about(id).length === events.length && receiver.about(id),
      60_000,
      `every event of ${id} after the kill`,
    );
    expect(got.map((r) => r.id)).toEqual(events.map((e) => e.id)); // each once, in order
    for (const r of receiver.all.filter((x) => x.data.orderId === id))
      expect(r.body).toBe(receiver.taken.get(r.id)!.body); // a repeat is the same event
  }
  const repeats = receiver.all.length - receiver.taken.size;
  console.log(
    `worker kill: ${receiver.all.length} requests received, ${repeats} repeats of a webhook-id (dropped by the receiver)`,
  );
}, 240_000);

test('an ended subscription gets nothing more and its queue is cancelled', async () => {
  const sub = await subscribe(receiver.url, ['purchase_order.*']);
  const del = await s.call('DELETE', `/v1/webhook-subscriptions/${sub.subscriptionId}`);
  expect(del.status).toBe(200);
  expect((await s.call('GET', `/v1/webhook-subscriptions/${sub.subscriptionId}`)).status).toBe(404);
  expect((await s.call('DELETE', `/v1/webhook-subscriptions/${sub.subscriptionId}`)).status).toBe(404);
  expect((await s.call('GET', `/v1/webhook-subscriptions/${randomUUID()}/deliveries`)).status).toBe(404);
  expect((await s.call('GET', `/v1/webhook-subscriptions/${sub.subscriptionId}/deliveries?cursor=zz`)).status).toBe(
    404,
  );
});

test('every status of an order, return, refund and purchase order is an event type a subscriber can name', async () => {
  const { ORDER_STATUSES } = await import('../../db/migrations/003_sales');
  const { RETURN_STATUSES } = await import('../../db/migrations/011_returns');
  const { PO_STATUSES } = await import('../../db/migrations/020_purchasing');
  const { EVENT_TYPES } = await import('../../contracts/events');
  // A record's first status is announced as its `.created`.
  const expected = [
    ...ORDER_STATUSES.filter((x) => x !== 'received').map((x) => `order.${x}`),
    ...RETURN_STATUSES.filter((x) => x !== 'requested').map((x) => `return.${x}`),
    ...PO_STATUSES.filter((x) => x !== 'draft').map((x) => `purchase_order.${x}`),
    ...['succeeded', 'failed'].map((x) => `refund.${x}`),
    ...['order', 'return', 'refund', 'purchase_order'].map((x) => `${x}.created`),
    'order.delivered',
    'channel.stock_changed', // not a status: told by a channel's sync
  ];
  expect([...EVENT_TYPES].sort()).toEqual(expected.sort());
});

test('a receiver that trickles its answer is cut off at the attempt limit, not waited on for ever', async () => {
  const { post } = await import('../../activities/webhooks/send');
  const { allowedNetworks } = await import('../../lib/webhook-targets');
  const slow = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    const drip = setInterval(() => res.write('.'), 300); // a byte now and then: never idle, never done
    res.on('close', () => clearInterval(drip));
  });
  await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
  const addr = slow.address();
  const started = Date.now();
  try {
    const answer = await post(
      {
        id: '1',
        event_id: randomUUID(),
        subscription_id: randomUUID(),
        attempts: 1,
        url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`,
        secret: `whsec_${Buffer.alloc(32, 1).toString('base64')}`,
        type: 'order.created',
        data: {},
        event_created_at: new Date(),
        retrying_since: new Date(),
      },
      { timeoutSeconds: 1, allowed: allowedNetworks(['127.0.0.0/8']) },
    );
    expect(answer.ok).toBe(false);
    expect(answer.error).toMatch(/within 1 s/);
    expect(Date.now() - started).toBeLessThan(5000);
  } finally {
    slow.closeAllConnections();
    await new Promise((resolve) => slow.close(resolve));
  }
});

test("a connected channel's stock levels are events too, in order per SKU, as its sync told the channel", async () => {
  const { startSandboxMarketplace } = await import('../../scripts/sandbox-marketplace');
  const market = await startSandboxMarketplace({ ratePerSecond: 100 });
  const code = `evt-${randomUUID().slice(0, 8)}`;
  const channel = (connection?: object) =>
    s.call('POST', '/v1/channels', {
      key: s.keys.ops,
      body: { channels: [{ code, name: 'Told', kind: connection ? 'marketplace' : 'webshop', connection }] },
    });
  try {
    await subscribe(receiver.url, ['channel.*']);
    const sku = await stockedSku(s.db, { EAST: 7 });
    const connection = {
      endpoint: market.url,
      credentialsRef: 'SANDBOX_MARKET_KEY',
      ratePerSecond: 100,
      pollSeconds: 3600,
    };
    expect((await channel(connection)).status).toBe(200);
    await eventually(async () => market.listings.get(sku)?.quantity === 7, 30_000, 'the level pushed');
    const adjusted = await s.call('POST', '/v1/inventory/adjustments', {
      key: s.keys.warehouse,
      body: { warehouse: 'EAST', sku, countedQuantity: 4, reason: 'cycle count' },
    });
    expect(adjusted.status).toBe(201);
    await eventually(async () => market.listings.get(sku)?.quantity === 4, 30_000, 'the new level pushed');
    const told = await eventually(
      async () => {
        const mine = [...receiver.taken.values()].filter((r) => r.data.channel === code && r.data.sku === sku);
        return mine.length >= 2 && mine;
      },
      30_000,
      'both levels at the receiver',
    );
    expect(told.map((r) => [r.type, r.data.available])).toEqual([
      ['channel.stock_changed', 7],
      ['channel.stock_changed', 4],
    ]);
    expect(Number(told[1].data.seq)).toBeGreaterThan(Number(told[0].data.seq));
  } finally {
    await channel();
    await s.client.workflow.getHandle(`channel-sync-${code}`).result();
    await market.stop();
  }
});

test('retention: what was delivered long enough ago is forgotten; a dead delivery and its event stay', async () => {
  const count = async (statuses: string[]) =>
    Number((await s.db('webhook_deliveries').whereIn('status', statuses).count({ n: '*' }))[0].n);
  expect(await count(['delivered'])).toBeGreaterThan(0); // this file's earlier tests delivered plenty
  // One of them as if its receiver had never taken it: ops may still send it again, so it is kept.
  const dead = await s.db('webhook_deliveries').where({ status: 'delivered' }).first('id', 'event_id');
  await s.db('webhook_deliveries').where({ id: dead.id }).update({ status: 'dead' });
  remember('webhook-retention-test');
  const pruned = await s.client.workflow.execute('webhookRetention', {
    taskQueue: s.taskQueue,
    workflowId: 'webhook-retention-test',
    args: [{ keepFor: '1ms' }],
  });
  expect(pruned.deliveries).toBeGreaterThan(0);
  expect(pruned.events).toBeGreaterThan(0);
  expect(await s.db('webhook_deliveries').where({ id: dead.id }).first('status')).toEqual({ status: 'dead' });
  expect(await s.db('business_events').where({ id: dead.event_id }).first('id')).toEqual({ id: dead.event_id });
  const recent = await s
    .db('webhook_deliveries')
    .whereIn('status', ['delivered', 'cancelled'])
    .max({ at: 'created_at' })
    .first();
  expect(!recent?.at || new Date(recent.at) > new Date(Date.now() - 60_000)).toBe(true); // only what came after
});
