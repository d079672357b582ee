/**
 * Stock pushed to a channel: the sync process tells the sandbox marketplace (a real HTTP server) every
 * level, keeps up with reservations, rides out an outage and throttling, and never lets an older level
 * overwrite a newer one. Its state shows on the channel.
 */
import { startSandboxMarketplace, type SandboxMarketplace } from '../../scripts/sandbox-marketplace';
import { orderBody, stockedSku, unique } from '../helpers/fixtures';
import { recordHistories, remember, waitFor } from '../helpers/orders';
import { eventually, startStack, Stack } from '../helpers/stack';

let s: Stack;
let market: SandboxMarketplace; // one marketplace per test: each channel is its own seller account
beforeAll(async () => {
  s = await startStack({
    BACKORDER_WAIT_TIMEOUT: '10m',
    BACKORDER_RECHECK_INTERVAL: '10m',
    CHANNEL_SYNC_ALERT_SECONDS: '2',
  });
});
beforeEach(async () => (market = await startSandboxMarketplace({ ratePerSecond: 50 })));
const connected: string[] = [];
afterEach(async () => {
  // Disconnected, each sync ends (within a tick): nothing keeps pushing to a marketplace that is gone.
  for (const code of [...new Set(connected.splice(0))]) {
    await s.call('POST', '/v1/channels', {
      key: s.keys.ops,
      body: { channels: [{ code, name: 'Disconnected', kind: 'webshop' }] },
    });
    expect(await s.client.workflow.getHandle(`channel-sync-${code}`).result()).toEqual({ stopped: 'disconnected' });
  }
  await market?.stop();
});
afterAll(async () => {
  await recordHistories(s, 'channel-sync');
  await s?.stop();
});

const connect = (code: string, endpoint = market.url) => {
  connected.push(code);
  return s.call('POST', '/v1/channels', {
    key: s.keys.ops,
    body: {
      channels: [
        {
          code,
          name: 'Sandbox market',
          kind: 'marketplace',
          bufferUnits: 1,
          connection: { endpoint, credentialsRef: 'SANDBOX_MARKET_KEY', ratePerSecond: 50 },
        },
      ],
    },
  });
};
const availableIn = async (code: string, sku: string) =>
  (await s.call('GET', `/v1/availability?channel=${code}&sku=${sku}`)).body.items[0].available as number;
const listed = (sku: string) => market.listings.get(sku)?.quantity;
/** The push is recorded just after the marketplace took it: waits for the channel to say it is up to date. */
const synced = (code: string) =>
  eventually(
    async () => {
      const v = (await s.call('GET', `/v1/channels/${code}`)).body.sync;
      return v.lastError === null && v.pending === 0 ? v : undefined;
    },
    30_000,
    'the sync to record its push',
  );
const converged = (code: string, skus: string[]) =>
  eventually(
    async () => {
      for (const sku of skus) if (listed(sku) !== (await availableIn(code, sku))) return false;
      return true;
    },
    60_000,
    'the listings to equal availability',
  );

test('a connected channel is told every level, and again when a reservation moves it', async () => {
  const code = unique('mk').toLowerCase();
  const [a, b] = [await stockedSku(s.db, { EAST: 6 }), await stockedSku(s.db, { WEST: 3 })];
  expect((await connect(code)).status).toBe(200);
  await converged(code, [a, b]);
  expect([listed(a), listed(b)]).toEqual([5, 2]); // less its buffer of 1
  const order = await s.call('POST', '/v1/orders', {
    key: s.keys.storefront,
    body: orderBody([{ sku: a, quantity: 2 }]),
  });
  await waitFor(s, order.body.orderId, 'fulfilling');
  await converged(code, [a]);
  expect(listed(a)).toBe(3);
  const sync = await synced(code);
  expect(sync.pushedItems).toBeGreaterThanOrEqual(2);
  expect(sync.cursor).toBeGreaterThan(0);
  await s.call('POST', `/v1/orders/${order.body.orderId}/cancel`, { key: s.keys.ops, body: { reason: 'test over' } });
});

test('an outage, then throttling: the channel converges afterwards, and no older level overwrites a newer one', async () => {
  const code = unique('mk').toLowerCase();
  const sku = await stockedSku(s.db, { EAST: 20 });
  await connect(code);
  await converged(code, [sku]);
  const seqBefore = market.listings.get(sku)!.seq;

  market.faults.down = true;
  const orders = [];
  for (let i = 0; i < 3; i++) {
    const o = await s.call('POST', '/v1/orders', { key: s.keys.storefront, body: orderBody([{ sku, quantity: 2 }]) });
    await waitFor(s, o.body.orderId, 'fulfilling');
    orders.push(o.body.orderId as string);
  }
  const during = await eventually(async () => {
    const v = (await s.call('GET', `/v1/channels/${code}`)).body.sync;
    return v.lastError ? v : undefined;
  }, 30_000);
  expect(during.lastError).toMatch(/503/);
  expect(during.pending).toBeGreaterThanOrEqual(1);
  // Behind past the alert threshold (2 s here): a case for ops, and the lag in /metrics.
  const alert = await eventually(
    async () => {
      const open = (await s.call('GET', '/v1/exceptions?type=channel_sync_failed', { key: s.keys.ops })).body
        .exceptions;
      return open.find((e: { subjectId: string }) => e.subjectId === code);
    },
    30_000,
    'a channel_sync_failed case',
  );
  expect(alert).toMatchObject({ status: 'open', subjectType: 'channel', summary: expect.stringContaining('503') });
  const metrics = await (await fetch(`${s.url}/metrics`)).text();
  const lag = Number(new RegExp(`erp_channel_sync_lag_seconds\\{channel="${code}"\\} (\\d+)`).exec(metrics)?.[1]);
  expect(lag).toBeGreaterThanOrEqual(2);
  expect(listed(sku)).toBe(19); // still the old level while the marketplace is down

  market.faults.down = false;
  market.faults.throttled = true; // back, but refusing calls (429) until the sync has met it
  await eventually(async () => market.stats.throttled >= 1, 30_000, 'a push to meet the 429');
  market.faults.throttled = false;
  await converged(code, [sku]);
  expect(listed(sku)).toBe(13);
  expect(market.listings.get(sku)!.seq).toBeGreaterThan(seqBefore);
  // The push is recorded just after the marketplace took it.
  await synced(code);
  const closed = (await s.call('GET', `/v1/exceptions/${alert.exceptionId}`, { key: s.keys.ops })).body;
  expect(closed).toMatchObject({ status: 'closed', resolution: 'closed by itself: the channel caught up' });

  // A stale level sent late (a retry after a lost answer) is ignored by its sequence number.
  const res = await fetch(`${market.url}/listings`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ items: [{ sku, quantity: 19, seq: seqBefore }] }),
  });
  expect(await res.json()).toEqual({ applied: 0, stale: 1 });
  expect(listed(sku)).toBe(13);
  for (const id of orders)
    await s.call('POST', `/v1/orders/${id}/cancel`, { key: s.keys.ops, body: { reason: 'test over' } });
});

test('a channel disconnected ends its sync process', async () => {
  const code = unique('mk').toLowerCase();
  await connect(code);
  const handle = s.client.workflow.getHandle(`channel-sync-${code}`);
  await eventually(async () => (await s.call('GET', `/v1/channels/${code}`)).body.sync?.lastPushedAt, 30_000);
  await s.call('POST', '/v1/channels', {
    key: s.keys.ops,
    body: { channels: [{ code, name: 'Gone', kind: 'webshop' }] },
  });
  expect(await handle.result()).toEqual({ stopped: 'disconnected' });
  remember(`channel-sync-${code}`);
  // Connected again: a new run of its sync tells the marketplace again.
  const sku = await stockedSku(s.db, { WEST: 4 });
  await connect(code);
  await converged(code, [sku]);
  expect(listed(sku)).toBe(3);
});
