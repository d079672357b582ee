/**
 * Marketplace orders in, status out, against the sandbox marketplace (a real HTTP server): a buyer's order
 * comes in by its signed webhook, or by the feed when the webhook never came, exactly once, also across an API
 * killed mid-stream and webhooks sent twice; a parcel's tracking and our cancels go back; a buyer's cancel
 * cancels here while nothing has shipped and is a case once something has.
 */
import type { ChildProcess } from 'node:child_process';
import { signature } from '../../lib/fingerprint';
import { spawnTs } from '../../scripts/drill';
import { startSandboxMarketplace, type SandboxMarketplace } from '../../scripts/sandbox-marketplace';
import { stockedSku, unique } from '../helpers/fixtures';
import { getOrder, recordHistories, remember, shipAll, waitFor } from '../helpers/orders';
import { eventually, portForLater, startStack, Stack } from '../helpers/stack';

const SECRET = 'marketplace-secret-for-the-tests';
process.env.SANDBOX_MARKET_KEY = SECRET; // the channel's credentialsRef names this variable

let s: Stack;
let market: SandboxMarketplace;
const connected: string[] = [];
beforeAll(async () => {
  s = await startStack({ BACKORDER_WAIT_TIMEOUT: '10m', BACKORDER_RECHECK_INTERVAL: '10m' });
});
beforeEach(async () => (market = await startSandboxMarketplace({ ratePerSecond: 100 })));
afterEach(async () => {
  for (const code of connected.splice(0)) {
    await s.call('POST', '/v1/channels', {
      key: s.keys.ops,
      body: { channels: [{ code, name: 'Off', kind: 'webshop' }] },
    });
    await s.client.workflow.getHandle(`channel-sync-${code}`).result();
  }
  await market?.stop();
});
afterAll(async () => {
  await recordHistories(s, 'marketplace-orders');
  await s?.stop();
});

/** A marketplace channel on this test's sandbox, its webhooks pointed at `apiUrl`. */
async function connect(o: { pollSeconds: number; apiUrl?: string; credentialsRef?: string }) {
  const code = unique('mko').toLowerCase();
  const res = await s.call('POST', '/v1/channels', {
    key: s.keys.ops,
    body: {
      channels: [
        {
          code,
          name: 'Sandbox marketplace',
          kind: 'marketplace',
          connection: {
            endpoint: market.url,
            credentialsRef: o.credentialsRef ?? 'SANDBOX_MARKET_KEY',
            ratePerSecond: 100,
            pollSeconds: o.pollSeconds,
          },
        },
      ],
    },
  });
  expect(res.status).toBe(200);
  connected.push(code);
  remember(`channel-sync-${code}`);
  market.subscribe(`${o.apiUrl ?? s.url}/v1/webhooks/marketplace/${code}`, SECRET);
  // The sync's first round reads the feed from its start: orders placed after it come by webhook, or the next read.
  await eventually(
    async () => (await s.call('GET', `/v1/channels/${code}`)).body.sync?.orders?.polledAt,
    20_000,
    'the first read of the order feed',
  );
  return code;
}

const buyer = (sku: string, quantity = 1, i = 0) => ({
  buyer: { email: `buyer${i}@example.com`, name: `Buyer ${i}` },
  shipTo: { name: `Buyer ${i}`, line1: 'Hauptstr. 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
  lines: [{ sku, quantity, unitPrice: 1500 }],
  shippingPrice: 490,
});

const ordersOf = (code: string) =>
  s
    .db('sales_orders as o')
    .join('channels as c', 'c.id', 'o.channel_id')
    .where('c.code', code)
    .select('o.id', 'o.external_ref', 'o.status', 'o.workflow_id');

const imported = (code: string, externalRef: string) =>
  eventually(
    async () => (await ordersOf(code)).find((o) => o.external_ref === externalRef),
    30_000,
    `${externalRef} to be imported`,
  );

const signed = (code: string, body: object, secret = SECRET) => {
  const raw = JSON.stringify({ eventId: unique('ev'), sentAt: new Date().toISOString(), ...body });
  return s.call('POST', `/v1/webhooks/marketplace/${code}`, {
    key: null,
    raw,
    headers: { 'x-signature': signature(secret, raw) },
  });
};

test("a buyer's order comes in by its signed webhook, once; its parcel's tracking goes back to the marketplace", async () => {
  const sku = await stockedSku(s.db, { EAST: 10 });
  const code = await connect({ pollSeconds: 3600 }); // the feed is read once at the start: only the webhook can bring it
  const mo = market.placeOrder(buyer(sku, 2));

  const here = await imported(code, mo.orderId);
  remember(here.workflow_id);
  expect(market.stats.webhooks).toBeGreaterThanOrEqual(1);
  const again = await signed(code, { type: 'order.placed', orderId: mo.orderId }); // a repeat, as marketplaces do
  expect(again.status).toBe(202);
  const order = await waitFor(s, here.id, 'fulfilling', (o) => o.shipments.length === 1);
  expect(order).toMatchObject({ externalRef: mo.orderId, totals: { subtotal: 3000, shipping: 490 } });
  expect(order.customer.email).toBe('buyer0@example.com');
  expect(order.payments[0]).toMatchObject({ kind: 'authorization', status: 'succeeded' });

  await shipAll(s, order, 'shipped');
  const told = await eventually(
    async () => (market.orders.get(mo.orderId)!.shipments.length ? market.orders.get(mo.orderId) : undefined),
    20_000,
    'the tracking to reach the marketplace',
  );
  expect(told).toMatchObject({
    status: 'shipped',
    shipments: [
      {
        ref: order.shipments[0].shipmentId,
        carrier: 'UPS',
        trackingNumber: `1Z${order.shipments[0].shipmentId.slice(0, 8)}`,
      },
    ],
  });
  expect(await ordersOf(code)).toHaveLength(1);
  // The marketplace has the tracking a moment before the sync records it as sent (sent_at is written after
  // the marketplace answered): the channel's view shows nothing untold once that is done.
  await eventually(
    async () => (await s.call('GET', `/v1/channels/${code}`)).body.sync.orders.untoldUpdates === 0,
    10_000,
    'no update left untold',
  );
});

test('a webhook that never came: the order comes in by the feed', async () => {
  const sku = await stockedSku(s.db, { EAST: 5 });
  market.faults.dropWebhooks = true;
  const code = await connect({ pollSeconds: 1 });
  const mo = market.placeOrder(buyer(sku));
  const here = await imported(code, mo.orderId);
  remember(here.workflow_id);
  expect(market.stats.webhooks).toBe(0);
  await waitFor(s, here.id, 'fulfilling');
  const sync = (await s.call('GET', `/v1/channels/${code}`)).body.sync.orders;
  expect(sync.feedCursor).toBeGreaterThanOrEqual(mo.seq);
});

test("cancels both ways: ours reaches the marketplace; the buyer's cancels here before shipping and is a case after", async () => {
  const sku = await stockedSku(s.db, { EAST: 10 });
  const code = await connect({ pollSeconds: 3600 });
  const [ours, theirs, late] = [
    market.placeOrder(buyer(sku)),
    market.placeOrder(buyer(sku)),
    market.placeOrder(buyer(sku)),
  ];
  const [a, b, c] = [
    await imported(code, ours.orderId),
    await imported(code, theirs.orderId),
    await imported(code, late.orderId),
  ];
  [a, b, c].forEach((o) => remember(o.workflow_id));
  for (const o of [a, b, c]) await waitFor(s, o.id, 'fulfilling');

  // Ours: cancelled here, so cancelled there.
  await s.call('POST', `/v1/orders/${a.id}/cancel`, { key: s.keys.ops, body: { reason: 'customer called' } });
  await eventually(
    async () => market.orders.get(ours.orderId)!.status === 'cancelled',
    20_000,
    'the cancel to reach the marketplace',
  );
  expect(market.orders.get(ours.orderId)).toMatchObject({ cancelledBy: 'seller', cancelReason: 'customer called' });

  // Theirs, before anything shipped: cancelled here, stock given back, and not told back as a seller's cancel.
  market.buyerCancel(theirs.orderId);
  await waitFor(s, b.id, 'cancelled');
  expect(market.orders.get(theirs.orderId)).toMatchObject({ status: 'cancelled', cancelledBy: 'buyer' });
  expect(await s.db('channel_order_updates').where({ order_id: b.id })).toHaveLength(0);

  // Late: the parcel leaves here while the marketplace is unreachable; the buyer cancels there meanwhile.
  market.faults.down = true;
  await shipAll(s, await getOrder(s, c.id), 'shipped');
  market.buyerCancel(late.orderId); // the marketplace has not heard of the parcel yet
  market.faults.down = false;
  const kase = await eventually(
    async () =>
      (await s.db('exceptions').where({ type: 'marketplace_cancel_after_shipment', subject_id: c.id }).first()) ??
      undefined,
    30_000,
    'the cancel-after-shipment case',
  );
  expect(kase).toMatchObject({ status: 'open', queue: 'ops' });
  expect((await getOrder(s, c.id)).status).not.toBe('cancelled');
  expect(await s.db('exceptions').where({ type: 'marketplace_cancel_after_shipment', subject_id: c.id })).toHaveLength(
    1,
  );
});

test('bad webhooks: 4xx with the reason, nothing imported', async () => {
  const sku = await stockedSku(s.db, { EAST: 5 });
  market.faults.dropWebhooks = true; // only the webhooks this test sends
  const code = await connect({ pollSeconds: 3600 });
  const mo = market.placeOrder(buyer(sku));
  const raw = JSON.stringify({
    eventId: 'e1',
    sentAt: new Date().toISOString(),
    type: 'order.placed',
    orderId: mo.orderId,
  });
  const post = (path: string, body: string, headers: Record<string, string>) =>
    s.call('POST', path, { key: null, raw: body, headers });

  expect((await post(`/v1/webhooks/marketplace/${code}`, raw, {})).status).toBe(401);
  expect((await signed(code, { type: 'order.placed', orderId: mo.orderId }, 'another-secret-entirely!')).status).toBe(
    401,
  );
  expect((await post('/v1/webhooks/marketplace/nope', raw, { 'x-signature': signature(SECRET, raw) })).status).toBe(
    404,
  );
  const bad = await signed(code, { type: 'order.shipped', orderId: mo.orderId });
  expect([bad.status, bad.body.error.code]).toEqual([400, 'validation_failed']);
  const old = JSON.stringify({
    eventId: 'e2',
    sentAt: '2020-01-01T00:00:00Z',
    type: 'order.placed',
    orderId: mo.orderId,
  });
  expect((await post(`/v1/webhooks/marketplace/${code}`, old, { 'x-signature': signature(SECRET, old) })).status).toBe(
    401,
  );
  const nul = await signed(code, { type: 'order.placed', orderId: 'MO-\u0000' });
  expect(nul.status).toBe(400);

  const own = market; // the unconfigured channel gets a marketplace of its own (its first read takes every order there)
  market = await startSandboxMarketplace({ ratePerSecond: 100 });
  const unconfigured = await connect({ pollSeconds: 3600, credentialsRef: 'NOT_SET_ON_THIS_SERVER' });
  const r = await signed(unconfigured, { type: 'order.placed', orderId: 'MO-000001' });
  await market.stop();
  market = own;
  expect([r.status, r.body.error.message]).toEqual([503, expect.stringContaining('NOT_SET_ON_THIS_SERVER')]);
  await new Promise((res) => setTimeout(res, 1500));
  expect(await ordersOf(code)).toHaveLength(0);

  // An order this installation cannot take is a case for ops, not a failed process.
  const strange = market.placeOrder(buyer('NO-SUCH-SKU'));
  expect((await signed(code, { type: 'order.placed', orderId: strange.orderId })).status).toBe(202);
  const kase = await eventually(
    async () =>
      (await s.db('exceptions').where({ type: 'marketplace_order_rejected', subject_id: code }).first()) ?? undefined,
    20_000,
    'the rejected-order case',
  );
  expect(kase.summary).toContain('NO-SUCH-SKU');
  // Text no database can hold, from the marketplace: a case too, and the sync goes on to the next order.
  const nulName = market.placeOrder({ ...buyer(sku), buyer: { email: 'nul@example.com', name: 'Bad\u0000Name' } });
  expect((await signed(code, { type: 'order.placed', orderId: nulName.orderId })).status).toBe(202);
  const good = market.placeOrder(buyer(sku));
  expect((await signed(code, { type: 'order.placed', orderId: good.orderId })).status).toBe(202);
  remember((await imported(code, good.orderId)).workflow_id);
  const nulCase = await s
    .db('exceptions')
    .where({ idempotency_key: `marketplace_order_rejected:${code}:${nulName.orderId}` })
    .first();
  expect(nulCase.summary).toContain('NUL');
  expect((await ordersOf(code)).map((o) => o.external_ref)).toEqual([good.orderId]);
});

test('50 marketplace orders, each imported exactly once across an API and a worker stopped mid-stream and every webhook sent twice', async () => {
  const sku = await stockedSku(s.db, { EAST: 200 });
  const port = await portForLater();
  const apiUrl = `http://127.0.0.1:${port}`;
  const env = { API_PORT: String(port), TEMPORAL_TASK_QUEUE: s.taskQueue, LOG_LEVEL: 'silent' };
  const startApi = async () => {
    const child = spawnTs('api/server.ts', env);
    await eventually(
      async () => (await fetch(`${apiUrl}/healthz`).catch(() => undefined))?.ok,
      30_000,
      'the API to listen',
    );
    return child;
  };
  let api: ChildProcess = await startApi();
  try {
    market.faults.duplicateWebhooks = true;
    const code = await connect({ pollSeconds: 2, apiUrl });
    const placed = [];
    for (let i = 0; i < 25; i++) placed.push(market.placeOrder(buyer(sku, 1, i)));
    api.kill('SIGKILL'); // webhooks in flight: some taken, some lost with the API
    await s.stopWorker(); // and the worker that imports them, mid-round
    for (let i = 25; i < 50; i++) placed.push(market.placeOrder(buyer(sku, 1, i)));
    await new Promise((r) => setTimeout(r, 1000));
    api = await startApi(); // the marketplace's retries and the feed bring the rest
    await s.startWorker();

    const ids = placed.map((p) => p.orderId);
    const all = await eventually(
      async () => {
        const rows = await ordersOf(code);
        return rows.length >= 50 ? rows : undefined;
      },
      60_000,
      'all 50 orders',
    );
    expect(all).toHaveLength(50);
    expect(new Set(all.map((o) => o.external_ref))).toEqual(new Set(ids));
    // Each has exactly one order-to-cash process, and it runs.
    for (const o of all) {
      const d = await s.client.workflow.getHandle(o.workflow_id).describe();
      expect(d.type).toBe('orderToCash');
    }
    await eventually(
      async () => (await ordersOf(code)).every((o) => o.status !== 'received'),
      60_000,
      'every process to reserve',
    );
    expect(market.stats.webhooks).toBeGreaterThanOrEqual(100); // each sent twice, some again after failing
    expect(market.stats.webhooksFailed).toBeGreaterThan(0); // the kill really cost webhooks
    for (const o of all)
      await s.call('POST', `/v1/orders/${o.id}/cancel`, { key: s.keys.ops, body: { reason: 'test over' } });
  } finally {
    api.kill('SIGKILL');
  }
});
