/**
 * Channels at full size, against real marketplaces on loopback: 300 buyers over three channels and 100
 * checkout holds racing for 100 units; and a marketplace down for 30 s while stock moves.
 */
import { startSandboxMarketplace, type SandboxMarketplace } from '../../scripts/sandbox-marketplace';
import { orderBody, stockedSku, unique } from '../helpers/fixtures';
import { eventually, startStack, Stack } from '../helpers/stack';

let s: Stack;
const markets: SandboxMarketplace[] = [];
const connected: string[] = [];
beforeAll(async () => {
  s = await startStack({
    BACKORDER_WAIT_TIMEOUT: '10m',
    BACKORDER_RECHECK_INTERVAL: '10m',
    CHANNEL_SYNC_ALERT_SECONDS: '10',
    RATE_LIMIT_PER_MINUTE: '100000',
  });
});
afterAll(async () => {
  for (const code of connected) {
    await s.call('POST', '/v1/channels', {
      key: s.keys.ops,
      body: { channels: [{ code, name: 'Off', kind: 'webshop' }] },
    });
    await s.client.workflow.getHandle(`channel-sync-${code}`).result();
  }
  for (const m of markets) await m.stop();
  await s?.stop();
});

async function marketplaceChannel(rules: Record<string, number>) {
  const market = await startSandboxMarketplace({ ratePerSecond: 50 });
  markets.push(market);
  const code = unique('mks').toLowerCase();
  const connection = { endpoint: market.url, credentialsRef: 'SCALE_MARKET_KEY', ratePerSecond: 50, pollSeconds: 3600 };
  const r = await s.call('POST', '/v1/channels', {
    key: s.keys.ops,
    body: { channels: [{ code, name: code, kind: 'marketplace', ...rules, connection }] },
  });
  expect(r.status).toBe(200);
  connected.push(code);
  return { code, market };
}

const available = async (code: string, sku: string) =>
  (await s.call('GET', `/v1/availability?channel=${code}&sku=${encodeURIComponent(sku)}`)).body.items[0]
    .available as number;

/** The newest level of `sku` in the channel's change feed, read page by page from the start. */
async function feedLevel(code: string, sku: string) {
  let last: { sku: string; available: number; seq: number } | undefined;
  for (let after = 0; ;) {
    const page = (await s.call('GET', `/v1/availability/changes?channel=${code}&after=${after}&limit=1000`)).body as {
      changes: { sku: string; available: number; seq: number }[];
      next: number;
    };
    last = page.changes.filter((c) => c.sku === sku).at(-1) ?? last;
    if (page.changes.length === 0 || page.next === after) return last;
    after = page.next;
  }
}

/** Runs `tasks` with at most `width` in flight (300 buyers arrive together, not one by one). */
async function inParallel<T>(tasks: (() => Promise<T>)[], width: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: width }, lane));
  return out;
}

test('300 buyers over three channels and 100 holds racing for 100 units: none oversold, no channel past its promise, listings converge', async () => {
  const sku = await stockedSku(s.db, { EAST: 60, WEST: 40 }); // a pool of 100
  const web = unique('web').toLowerCase();
  expect(
    (
      await s.call('POST', '/v1/channels', {
        key: s.keys.ops,
        body: { channels: [{ code: web, name: 'Web', kind: 'webshop' }] },
      })
    ).status,
  ).toBe(200);
  const a = await marketplaceChannel({ bufferUnits: 10 }); // never takes the last 10 units
  const b = await marketplaceChannel({ bufferUnits: 5, bufferPct: 20 }); // never the last max(5, 20 %)
  const channels = [web, a.code, b.code];

  type Answer = { kind: 'order' | 'hold'; channel: string; status: number; id: string };
  const tasks: (() => Promise<Answer>)[] = [
    ...Array.from({ length: 300 }, (_, i) => async (): Promise<Answer> => {
      const channel = channels[i % 3];
      const r = await s.call('POST', '/v1/orders', {
        key: s.keys.storefront,
        body: orderBody([{ sku, quantity: 1 }], { channel, backorderPolicy: 'cancel' }),
      });
      return { kind: 'order', channel, status: r.status, id: r.body.orderId as string };
    }),
    ...Array.from({ length: 100 }, (_, i) => async (): Promise<Answer> => {
      const channel = channels[i % 3];
      const r = await s.call('POST', '/v1/holds', {
        key: s.keys.storefront,
        body: { channel, lines: [{ sku, quantity: 1 }], ttlSeconds: 900 },
      });
      return { kind: 'hold', channel, status: r.status, id: r.body.holdId as string };
    }),
  ].sort(() => Math.random() - 0.5);
  const answers = await inParallel(tasks, 40);

  const orders = answers.filter((x) => x.kind === 'order');
  const holds = answers.filter((x) => x.kind === 'hold');
  expect(orders.every((o) => o.status === 201)).toBe(true);
  expect(holds.every((h) => h.status === 201 || h.status === 409)).toBe(true);
  const settled = await eventually(
    async () => {
      const rows = await s
        .db('sales_orders')
        .whereIn(
          'id',
          orders.map((o) => o.id),
        )
        .select('id', 'status');
      return rows.every((r) => ['fulfilling', 'cancelled'].includes(r.status)) ? rows : undefined;
    },
    240_000,
    'every order to reserve or be cancelled',
  );
  const won = new Set(settled.filter((r) => r.status === 'fulfilling').map((r) => r.id));
  const taken = (ch: string) =>
    orders.filter((o) => o.channel === ch && won.has(o.id)).length +
    holds.filter((h) => h.channel === ch && h.status === 201).length;
  const [tw, ta, tb] = channels.map(taken);
  console.log(`race: web ${tw}, ${a.code} ${ta}, ${b.code} ${tb} of 100 units (400 asked)`);

  expect(tw + ta + tb).toBe(100); // every unit promised once: none twice (0 oversold), none left over
  expect(ta).toBeLessThanOrEqual(90); // the buffered channels sold only while more than their buffer was left
  expect(tb).toBeLessThanOrEqual(95);
  expect(ta + tb).toBeLessThanOrEqual(95); // the last 5 units could go to the web shop only
  const quants = await s
    .db('quants as q')
    .join('products as p', 'p.id', 'q.product_id')
    .where('p.sku', sku)
    .select('q.on_hand', 'q.reserved');
  expect(quants.reduce((n, q) => n + q.reserved, 0)).toBe(100);
  for (const q of quants) expect(q.reserved).toBeLessThanOrEqual(q.on_hand);

  // Every marketplace ends showing what it may sell (0 here), and the web shop's feed says the same.
  for (const { code, market } of [a, b])
    await eventually(
      async () => market.listings.get(sku)?.quantity === (await available(code, sku)),
      60_000,
      `${code} to converge`,
    );
  expect((await feedLevel(web, sku))?.available).toBe(await available(web, sku));

  // Give everything back: the listings follow.
  for (const h of holds.filter((x) => x.status === 201))
    await s.call('DELETE', `/v1/holds/${h.id}`, { key: s.keys.storefront });
  for (const id of won)
    await s.call('POST', `/v1/orders/${id}/cancel`, { key: s.keys.ops, body: { reason: 'test over' } });
  // Buffers apply to the whole pool again: 100 − 10 and 100 − max(5, 20 %).
  for (const [c, shows] of [
    [a, 90],
    [b, 80],
  ] as const) {
    await eventually(
      async () => c.market.listings.get(sku)?.quantity === shows && (await available(c.code, sku)) === shows,
      60_000,
      `${c.code} to show ${shows} again`,
    );
  }
}, 420_000);

test('a marketplace down for 30 s while stock moves: a case opens, then it converges, no older level over a newer', async () => {
  const skus = [await stockedSku(s.db, { EAST: 30 }), await stockedSku(s.db, { WEST: 30 })];
  const { code, market: m } = await marketplaceChannel({ bufferUnits: 0 });
  for (const sku of skus)
    await eventually(async () => m.listings.get(sku)?.quantity === 30, 30_000, 'the first listing');

  m.faults.down = true;
  const downAt = Date.now();
  const orderIds: string[] = [];
  for (let i = 0; i < 12; i++) {
    const r = await s.call('POST', '/v1/orders', {
      key: s.keys.storefront,
      body: orderBody([{ sku: skus[i % 2], quantity: 1 }], { channel: code }),
    });
    orderIds.push(r.body.orderId);
    await new Promise((res) => setTimeout(res, 1500)); // changes spread over the outage
  }
  const kase = await eventually(
    async () =>
      (await s.db('exceptions').where({ type: 'channel_sync_failed', subject_id: code, status: 'open' }).first()) ??
      undefined,
    30_000,
    'the channel_sync_failed case',
  );
  expect(kase.summary).toContain('behind');
  await new Promise((res) => setTimeout(res, Math.max(0, 30_000 - (Date.now() - downAt))));
  expect(skus.map((sku) => m.listings.get(sku)!.quantity)).toEqual([30, 30]); // nothing reached it while down
  m.faults.down = false;
  const upAt = Date.now();

  for (const sku of skus)
    await eventually(async () => m.listings.get(sku)!.quantity === (await available(code, sku)), 60_000, 'convergence');
  console.log(`outage of 30 s: converged ${Date.now() - upAt} ms after the marketplace came back`);
  expect(skus.map((sku) => m.listings.get(sku)!.quantity)).toEqual([24, 24]);
  // The newest level of each SKU is the one it shows: the feed's last number and its sequence.
  for (const sku of skus) {
    const last = (await feedLevel(code, sku))!;
    expect(m.listings.get(sku)).toEqual({ quantity: last.available, seq: last.seq });
  }
  await eventually(
    async () => (await s.db('exceptions').where({ id: kase.id }).first()).status === 'closed',
    30_000,
    'the case to close itself',
  );
  for (const id of orderIds)
    await s.call('POST', `/v1/orders/${id}/cancel`, { key: s.keys.ops, body: { reason: 'test over' } });
}, 180_000);
