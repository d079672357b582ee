/**
 * The sandbox marketplace: a real HTTP server on loopback that holds listings like a marketplace does, for
 * `npm start`, the tests and the benchmark. It keeps the newest level per SKU by sequence number (an older
 * push never overwrites a newer one), enforces a rate limit (429 with Retry-After), and has switchable
 * faults: down (503), slow, throttled (every call 429) and answers lost (applied, then the connection drops).
 * Buyers place and cancel orders on it; it tells the seller by a signed webhook (`x-signature`, HMAC-SHA256 of
 * the raw body with the seller's secret; retried a few times, then given up, as marketplaces do) and keeps
 * every change in a feed the seller can poll. It pays the seller out in statements: each shipped order's total
 * (goods, shipping and the tax of its country, by `taxRates`) less a commission (`commissionBp`) and a fee.
 *
 *   PUT  /listings                  { items: [{ sku, quantity, seq }] }  → { applied, stale }
 *   GET  /listings/:sku             → { sku, quantity, seq }  (404 when never listed)
 *   GET  /listings                  → { listings: [...] }
 *   POST /orders                    a buyer orders { buyer, shipTo, lines: [{ sku, quantity, unitPrice }], shippingPrice? }
 *   POST /orders/:id/buyer-cancel   the buyer cancels (409 once the seller confirmed a shipment)
 *   GET  /orders/:id                → the order, with its status, shipments and seq
 *   GET  /orders?after=<seq>&limit= → { orders: [...changed after seq, oldest first], next }
 *   POST /orders/:id/shipments      the seller confirms a parcel { ref, carrier, trackingNumber } (once per ref)
 *   POST /orders/:id/cancel         the seller cancels { reason } (409 once shipped; a repeat answers 200)
 *   GET  /statements                → { statements: [ids, oldest first] }
 *   GET  /statements/:id            → a statement: per shipped order, what the buyer paid, less commission and fee
 *   POST /_statements               pays out now: a statement of the shipped orders not yet paid { extraLines?, shortBy? }
 *   POST /_faults                   { down?, slowMs?, throttled?, loseAnswers?, dropWebhooks?, duplicateWebhooks? }
 *   POST /_webhook                  { url, secret }: where the seller hears of orders
 *   GET  /_stats                    → { calls, items, throttled, webhooks, webhooksFailed }
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { signature } from '../lib/fingerprint';
import { cliFlags } from '../lib/cli';
import { taxOn } from '../lib/money';
import type { Payout, PayoutLine } from '../contracts/settlement-types';

export interface Faults {
  down: boolean;
  slowMs: number;
  throttled: boolean;
  loseAnswers: boolean;
  dropWebhooks: boolean; // orders are placed, but the seller is never told (the feed still has them)
  duplicateWebhooks: boolean; // every webhook is sent twice
}

export interface MarketOrder {
  orderId: string;
  status: 'placed' | 'shipped' | 'cancelled';
  cancelledBy?: 'buyer' | 'seller';
  cancelReason?: string;
  buyer: { email: string; name: string };
  shipTo: { name: string; line1: string; city: string; postalCode: string; country: string; region?: string };
  lines: { sku: string; quantity: number; unitPrice: number }[];
  shippingPrice: number;
  currency: string;
  shipments: { ref: string; carrier?: string; trackingNumber?: string }[];
  seq: number;
}

export interface SandboxMarketplace {
  url: string;
  listings: Map<string, { quantity: number; seq: number }>;
  faults: Faults;
  orders: Map<string, MarketOrder>;
  stats: { calls: number; items: number; throttled: number; webhooks: number; webhooksFailed: number };
  /** A buyer places an order (as `POST /orders` does). */
  placeOrder(o: Pick<MarketOrder, 'buyer' | 'shipTo' | 'lines'> & { shippingPrice?: number }): MarketOrder;
  /** The buyer cancels; refused once the seller confirmed a shipment. */
  buyerCancel(orderId: string): MarketOrder;
  /** Where webhooks go, signed with the seller's secret. */
  subscribe(url: string, secret: string): void;
  /** Pays out: a statement of the shipped orders not yet paid (undefined when there are none and no anomalies). */
  payOut(anomalies?: StatementAnomalies): Payout | undefined;
  stop(): Promise<void>;
}

/** What a test can make a statement do wrong: lines for orders that are not the seller's, a net paid short. */
export interface StatementAnomalies {
  extraLines?: PayoutLine[];
  shortBy?: number;
}

/**
 * `ratePerSecond`: calls of PUT /listings allowed per second (a token bucket as deep as one second).
 * `taxRates`: basis points by country, charged on top of the prices as the seller charges it (ours: `tax_rates`).
 */
export async function startSandboxMarketplace(
  o: {
    port?: number;
    host?: string;
    ratePerSecond?: number;
    webhook?: { url: string; secret: string };
    taxRates?: Record<string, number>;
    commissionBp?: number;
    orderFee?: number;
  } = {},
): Promise<SandboxMarketplace> {
  const rate = o.ratePerSecond ?? 20;
  const listings = new Map<string, { quantity: number; seq: number }>();
  const faults: Faults = {
    down: false,
    slowMs: 0,
    throttled: false,
    loseAnswers: false,
    dropWebhooks: false,
    duplicateWebhooks: false,
  };
  const stats = { calls: 0, items: 0, throttled: 0, webhooks: 0, webhooksFailed: 0 };
  const market = orderBook(faults, stats, o.webhook);
  const statements = statementBook(market.orders, {
    taxRates: o.taxRates ?? {},
    commissionBp: o.commissionBp ?? 1500,
    orderFee: o.orderFee ?? 30,
  });
  let tokens = rate;
  let refilled = Date.now();
  const take = () => {
    const now = Date.now();
    tokens = Math.min(rate, tokens + ((now - refilled) / 1000) * rate);
    refilled = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://sandbox');
    if (url.pathname === '/_faults' && req.method === 'POST') {
      Object.assign(faults, JSON.parse((await body(req)) || '{}'));
      return send(200, faults);
    }
    if (url.pathname === '/_webhook' && req.method === 'POST') {
      const w = JSON.parse(await body(req)) as { url: string; secret: string };
      market.subscribe(w.url, w.secret);
      return send(200, { url: w.url });
    }
    if (url.pathname === '/_stats') return send(200, stats);
    if (url.pathname === '/_statements' && req.method === 'POST') {
      const paid = statements.payOut(JSON.parse((await body(req)) || '{}') as StatementAnomalies);
      return send(paid ? 201 : 200, { statement: paid ?? null });
    }
    if (faults.down) return send(503, { error: 'the marketplace is down' });
    if (faults.slowMs) await new Promise((r) => setTimeout(r, faults.slowMs));
    if (url.pathname === '/listings' && req.method === 'PUT') {
      stats.calls++;
      if (faults.throttled || !take()) {
        stats.throttled++;
        return send(429, { error: 'rate limited' }, { 'retry-after': '1' });
      }
      const items = (JSON.parse(await body(req)) as { items: { sku: string; quantity: number; seq: number }[] }).items;
      let applied = 0;
      for (const i of items) {
        const now = listings.get(i.sku);
        if (now && now.seq >= i.seq) continue; // never an older level over a newer one
        listings.set(i.sku, { quantity: i.quantity, seq: i.seq });
        applied++;
      }
      stats.items += items.length;
      if (faults.loseAnswers) return req.socket.destroy(); // applied, but the caller never hears it
      return send(200, { applied, stale: items.length - applied });
    }
    const one = /^\/listings\/([^/]+)$/.exec(url.pathname);
    if (one && req.method === 'GET') {
      const l = listings.get(decodeURIComponent(one[1]));
      return l ? send(200, { sku: decodeURIComponent(one[1]), ...l }) : send(404, { error: 'not listed' });
    }
    if (url.pathname === '/listings' && req.method === 'GET') {
      return send(200, { listings: [...listings].map(([sku, l]) => ({ sku, ...l })) });
    }
    if (url.pathname === '/statements' && req.method === 'GET')
      return send(200, { statements: statements.list.map((x) => x.payoutId) });
    const statement = /^\/statements\/([^/]+)$/.exec(url.pathname);
    if (statement && req.method === 'GET') {
      const found = statements.list.find((x) => x.payoutId === decodeURIComponent(statement[1]));
      return found ? send(200, found) : send(404, { error: 'no such statement' });
    }
    const answer = await market.handle(req, url);
    return answer ? send(answer.status, answer.body) : send(404, { error: 'no such endpoint' });
  };

  const server: Server = createServer(
    (req, res) =>
      void handle(req, res).catch((err) => {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: (err as Error).message }));
      }),
  );
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, host, () => resolve()));
  const addr = server.address();
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${typeof addr === 'object' && addr ? addr.port : 0}`,
    listings,
    faults,
    stats,
    orders: market.orders,
    placeOrder: market.place,
    buyerCancel: market.buyerCancel,
    subscribe: market.subscribe,
    payOut: statements.payOut,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString('utf8')));
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

class Refused extends Error {}

/** The marketplace's orders: what buyers place and cancel, what the seller confirms, and the webhooks about them. */
function orderBook(
  faults: Faults,
  stats: { webhooks: number; webhooksFailed: number },
  initial?: { url: string; secret: string },
) {
  const orders = new Map<string, MarketOrder>();
  let seq = 0;
  let webhook = initial;
  const changed = (o: MarketOrder) => {
    o.seq = ++seq;
    return o;
  };
  const find = (id: string) => {
    const o = orders.get(id);
    if (!o) throw new Refused(`no order ${id}`);
    return o;
  };

  /** Told like a marketplace tells: signed, retried five times with backoff, then given up (the feed remains). */
  const tell = (type: 'order.placed' | 'order.cancelled', orderId: string) => {
    if (!webhook || faults.dropWebhooks) return;
    const to = webhook;
    const raw = JSON.stringify({ eventId: randomUUID(), type, orderId, sentAt: new Date().toISOString() });
    const deliver = async () => {
      for (let attempt = 0; attempt < 5; attempt++) {
        stats.webhooks++;
        const ok = await fetch(to.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-signature': signature(to.secret, raw) },
          body: raw,
          signal: AbortSignal.timeout(5000),
        }).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) return;
        stats.webhooksFailed++;
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      }
    };
    void deliver();
    if (faults.duplicateWebhooks) void deliver();
  };

  const place = (b: Pick<MarketOrder, 'buyer' | 'shipTo' | 'lines'> & { shippingPrice?: number }): MarketOrder => {
    if (!b?.buyer?.email || !b.shipTo?.country || !Array.isArray(b.lines) || b.lines.length === 0)
      throw new Refused('an order needs a buyer, shipTo and lines');
    const orderId = `MO-${String(orders.size + 1).padStart(6, '0')}`;
    const o = changed({
      orderId,
      status: 'placed',
      buyer: b.buyer,
      shipTo: b.shipTo,
      lines: b.lines,
      shippingPrice: b.shippingPrice ?? 0,
      currency: 'EUR',
      shipments: [],
      seq: 0,
    });
    orders.set(orderId, o);
    tell('order.placed', orderId);
    return o;
  };

  const buyerCancel = (id: string): MarketOrder => {
    const o = find(id);
    if (o.status === 'cancelled') return o;
    if (o.status === 'shipped') throw new Refused(`order ${id} has shipped; the buyer can return it`);
    Object.assign(changed(o), { status: 'cancelled', cancelledBy: 'buyer', cancelReason: 'cancelled by the buyer' });
    tell('order.cancelled', id);
    return o;
  };

  const sellerCancel = (id: string, reason: string): MarketOrder => {
    const o = find(id);
    if (o.status === 'cancelled') return o;
    if (o.status === 'shipped') throw new Refused(`order ${id} has shipped`);
    return Object.assign(changed(o), { status: 'cancelled', cancelledBy: 'seller', cancelReason: reason });
  };

  const confirmShipment = (id: string, s: { ref: string; carrier?: string; trackingNumber?: string }) => {
    const o = find(id);
    if (!s?.ref) throw new Refused('a shipment needs its ref');
    if (o.shipments.some((x) => x.ref === s.ref)) return o; // a repeat of the same parcel
    o.shipments.push({ ref: s.ref, carrier: s.carrier, trackingNumber: s.trackingNumber });
    if (o.status === 'placed') o.status = 'shipped';
    return changed(o);
  };

  const handle = async (req: IncomingMessage, url: URL): Promise<{ status: number; body: unknown } | undefined> => {
    const m = /^\/orders(?:\/([^/]+))?(?:\/([a-z-]+))?$/.exec(url.pathname);
    if (!m) return undefined;
    const [, id, verb] = m;
    try {
      if (!id && req.method === 'POST') return { status: 201, body: place(JSON.parse(await body(req))) };
      if (!id && req.method === 'GET') {
        const after = Number(url.searchParams.get('after') ?? 0);
        const limit = Math.min(Number(url.searchParams.get('limit') ?? 100), 500);
        const page = [...orders.values()]
          .filter((o) => o.seq > after)
          .sort((a, b) => a.seq - b.seq)
          .slice(0, limit);
        return { status: 200, body: { orders: page, next: page.length ? page[page.length - 1].seq : after } };
      }
      const orderId = decodeURIComponent(id!);
      if (!verb && req.method === 'GET') return { status: 200, body: find(orderId) };
      if (verb === 'buyer-cancel' && req.method === 'POST') return { status: 200, body: buyerCancel(orderId) };
      if (verb === 'cancel' && req.method === 'POST') {
        const b = JSON.parse((await body(req)) || '{}') as { reason?: string };
        return { status: 200, body: sellerCancel(orderId, b.reason ?? 'cancelled by the seller') };
      }
      if (verb === 'shipments' && req.method === 'POST')
        return { status: 200, body: confirmShipment(orderId, JSON.parse(await body(req))) };
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      return { status: /^no order/.test(err.message) ? 404 : 409, body: { error: err.message } };
    }
    return undefined;
  };

  return {
    orders,
    place,
    buyerCancel,
    handle,
    subscribe: (url: string, secret: string) => void (webhook = { url, secret }),
  };
}

/** The marketplace's payouts to the seller: each shipped order once, at what the buyer paid, less commission and fee. */
function statementBook(
  orders: Map<string, MarketOrder>,
  terms: { taxRates: Record<string, number>; commissionBp: number; orderFee: number },
) {
  const list: Payout[] = [];
  const paid = new Set<string>();
  /** What the buyer paid: goods and shipping, and their tax line by line (half-even, as the seller rounds it). */
  const total = (o: MarketOrder) => {
    const rate = terms.taxRates[o.shipTo.country] ?? 0;
    const goods = o.lines.map((l) => l.quantity * l.unitPrice);
    return [...goods, o.shippingPrice].reduce((s, net) => s + net + taxOn(net, rate), 0);
  };
  const payOut = (anomalies: StatementAnomalies = {}): Payout | undefined => {
    const due = [...orders.values()].filter((o) => o.status === 'shipped' && !paid.has(o.orderId));
    const lines: PayoutLine[] = due.map((o) => {
      const amount = total(o);
      return {
        kind: 'order',
        ref: o.orderId,
        amount,
        fee: terms.orderFee,
        commission: Math.round((amount * terms.commissionBp) / 10_000),
      };
    });
    lines.push(...(anomalies.extraLines ?? []));
    if (lines.length === 0) return undefined;
    due.forEach((o) => paid.add(o.orderId));
    const net = lines.reduce((s, l) => s + l.amount - l.fee - (l.commission ?? 0), 0) - (anomalies.shortBy ?? 0);
    const statement = {
      payoutId: `st_${String(list.length + 1).padStart(6, '0')}_${randomUUID().slice(0, 8)}`,
      currency: 'EUR',
      net,
      paidAt: new Date().toISOString(),
      lines,
    };
    list.push(statement);
    return statement;
  };
  return { list, payOut };
}

/**
 * Connects the demo `marketplace` channel to a sandbox marketplace at `marketUrl` (as the seller's API sees
 * it): its sync pushes every level there and takes its orders. The shared secret is the environment variable
 * named by `credentialsRef` (SANDBOX_MARKETPLACE), which the API and workers read.
 */
export async function connectMarketplaceChannel(apiUrl: string, adminKey: string, marketUrl: string): Promise<void> {
  const res = await fetch(`${apiUrl}/v1/channels`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      channels: [
        {
          code: 'marketplace',
          name: 'Marketplace',
          kind: 'marketplace',
          bufferUnits: 2,
          connection: { endpoint: marketUrl, credentialsRef: 'SANDBOX_MARKETPLACE', ratePerSecond: 20 },
        },
      ],
    }),
  });
  if (!res.ok) throw new Error(`the marketplace channel could not be connected (${res.status}): ${await res.text()}`);
}

/**
 * `node scripts/sandbox-marketplace.js` (compose profile simulator): the sandbox marketplace on its own, telling
 * the seller's API of orders by webhook and, with --connect, connecting the demo channel to itself.
 */
if (require.main === module) {
  const flags = cliFlags('node scripts/sandbox-marketplace.js [flags]', {
    host: { type: 'string', default: '127.0.0.1', help: 'address to listen on (0.0.0.0 in a container)' },
    port: { type: 'number', default: 4000, help: 'port to listen on' },
    'api-url': {
      type: 'string',
      default: process.env.ERP_API_URL ?? 'http://127.0.0.1:3000',
      help: "the seller's API",
    },
    'public-url': { type: 'string', help: 'this marketplace as the API reaches it (default: its own address)' },
    connect: {
      type: 'boolean',
      default: false,
      help: 'connect the demo marketplace channel (needs ERP_API_KEY, admin)',
    },
    'tax-rates': {
      type: 'string',
      default: '',
      help: "tax charged to buyers, as the seller's tax_rates: DE=1900,FR=2000 (basis points by country)",
    },
  });
  const secret = process.env.SANDBOX_MARKETPLACE;
  if (!secret || secret.length < 16) {
    console.error('Set SANDBOX_MARKETPLACE to the shared secret (16+ characters); the API and workers need the same.');
    process.exit(1);
  }
  void (async () => {
    const market = await startSandboxMarketplace({
      host: flags.host,
      port: flags.port,
      ratePerSecond: 20,
      webhook: { url: `${flags['api-url']}/v1/webhooks/marketplace/marketplace`, secret },
      taxRates: Object.fromEntries(
        flags['tax-rates']
          .split(',')
          .filter(Boolean)
          .map((pair) => {
            const [country, bp] = pair.split('=');
            if (!/^[A-Z]{2}$/.test(country) || !/^\d+$/.test(bp ?? ''))
              throw new Error(`--tax-rates: "${pair}" is not COUNTRY=basis points (DE=1900)`);
            return [country, Number(bp)];
          }),
      ),
    });
    const publicUrl = flags['public-url'] ?? market.url;
    console.log(`Sandbox marketplace on ${market.url} (the API reaches it at ${publicUrl}).`);
    if (flags.connect) {
      const key = process.env.ERP_API_KEY;
      if (!key) throw new Error('--connect needs ERP_API_KEY (an admin key)');
      for (let attempt = 1; ; attempt++) {
        try {
          await connectMarketplaceChannel(flags['api-url'], key, publicUrl);
          console.log('The marketplace channel is connected.');
          break;
        } catch (err) {
          if (attempt >= 30) throw err;
          await new Promise((r) => setTimeout(r, 2000)); // the API may still be starting
        }
      }
    }
    const stop = () => void market.stop().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  })().catch((err) => {
    console.error(`Sandbox marketplace failed: ${(err as Error).message}`);
    process.exit(1);
  });
}
