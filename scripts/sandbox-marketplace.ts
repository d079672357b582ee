/**
 * The sandbox marketplace: a real HTTP server on loopback that holds listings like a marketplace does, for
 * `npm start`, the tests and the benchmark. It keeps the newest level per SKU by sequence number (an older
 * push never overwrites a newer one), enforces a rate limit (429 with Retry-After), and has switchable
 * faults: down (503), slow, throttled (every call 429) and answers lost (applied, then the connection drops).
 *
 *   PUT  /listings            { items: [{ sku, quantity, seq }] }  → { applied, stale }
 *   GET  /listings/:sku       → { sku, quantity, seq }  (404 when never listed)
 *   GET  /listings            → { listings: [...] }
 *   POST /_faults             { down?, slowMs?, throttled?, loseAnswers? }  (the tests' switchboard)
 *   GET  /_stats              → { calls, items, throttled }
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface Faults {
  down: boolean;
  slowMs: number;
  throttled: boolean;
  loseAnswers: boolean;
}

export interface SandboxMarketplace {
  url: string;
  listings: Map<string, { quantity: number; seq: number }>;
  faults: Faults;
  stats: { calls: number; items: number; throttled: number };
  stop(): Promise<void>;
}

/** `ratePerSecond`: calls of PUT /listings allowed per second (a token bucket as deep as one second). */
export async function startSandboxMarketplace(
  o: { port?: number; ratePerSecond?: number } = {},
): Promise<SandboxMarketplace> {
  const rate = o.ratePerSecond ?? 20;
  const listings = new Map<string, { quantity: number; seq: number }>();
  const faults: Faults = { down: false, slowMs: 0, throttled: false, loseAnswers: false };
  const stats = { calls: 0, items: 0, throttled: 0 };
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
    if (url.pathname === '/_stats') return send(200, stats);
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
    return send(404, { error: 'no such endpoint' });
  };

  const server: Server = createServer(
    (req, res) =>
      void handle(req, res).catch((err) => {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: (err as Error).message }));
      }),
  );
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, '127.0.0.1', () => resolve()));
  const addr = server.address();
  return {
    url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`,
    listings,
    faults,
    stats,
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
