/**
 * The warehouse and carrier simulator. It works open shipments the way real
 * ones would, through the public API only: the warehouse reports picked,
 * packed and shipped (with a carrier and tracking number) after realistic
 * pauses, and the carrier sends signed delivery webhooks. About 1 in 50
 * parcels fails in transit.
 *   npm run simulate            (uses the keys `npm start` saved)
 */
import { randomUUID } from 'node:crypto';
import createClient from 'openapi-fetch';
import type { paths } from '../console/src/schema';
import { config, webhookSecrets } from '../lib/config';
import { signature } from '../lib/fingerprint';
import { keyFor } from './local-keys';

export interface SimulatorOptions {
  apiUrl: string;
  warehouseKey: string;
  webhookSecret: string;
  pace?: number; // 1 = a few seconds per step; 0 = as fast as possible (benchmarks)
  failureRate?: number;
  log?: (line: string) => void;
}

const NEXT: Record<string, 'picked' | 'packed' | 'shipped' | 'delivered'> = {
  pending: 'picked',
  picked: 'packed',
  packed: 'shipped',
  shipped: 'delivered',
};
const CARRIERS = ['DHL', 'UPS', 'DPD', 'GLS'];

export function startSimulator(o: SimulatorOptions): {
  stop(): Promise<void>;
  stats: { events: number; delivered: number; failed: number };
} {
  const pace = o.pace ?? 1;
  const failureRate = o.failureRate ?? 0.02;
  const dueAt = new Map<string, number>(); // shipment → when its next step happens
  const stats = { events: 0, delivered: 0, failed: 0 };
  let running = true;
  // The API's own typed client: paths, parameters and bodies are checked against its OpenAPI document.
  const api = createClient<paths>({ baseUrl: o.apiUrl, headers: { authorization: `Bearer ${o.warehouseKey}` } });

  async function step(s: { shipmentId: string; status: string; trackingNumber?: string }) {
    const type = NEXT[s.status];
    if (!type) return;
    if (type === 'delivered') {
      const failed = Math.random() < failureRate;
      const raw = JSON.stringify({
        eventId: randomUUID(),
        sentAt: new Date().toISOString(),
        type: failed ? 'failed' : 'delivered',
        shipmentId: s.shipmentId,
        trackingNumber: s.trackingNumber,
        note: failed ? 'parcel lost in transit' : undefined,
      });
      // The carrier signs the exact bytes it sends, so the client sends them as they are.
      await api.POST('/v1/webhooks/carriers', {
        params: { header: { 'x-signature': signature(o.webhookSecret, raw) } },
        body: JSON.parse(raw),
        bodySerializer: () => raw,
        headers: { authorization: null }, // a carrier has no API key; the signature is its credential
      });
      stats[failed ? 'failed' : 'delivered']++;
    } else {
      const carrier = CARRIERS[Math.floor(Math.random() * CARRIERS.length)];
      const body =
        type === 'shipped'
          ? { type, carrier, trackingNumber: `${carrier}${Math.floor(Math.random() * 1e10)}` }
          : { type };
      await api.POST('/v1/shipments/{shipmentId}/events', { params: { path: { shipmentId: s.shipmentId } }, body });
    }
    stats.events++;
  }

  const loop = (async () => {
    while (running) {
      try {
        const { data } = await api.GET('/v1/shipments', {
          params: { query: { status: 'pending,picked,packed,shipped', limit: 500 } },
        });
        if (data) {
          const now = Date.now();
          const due = data.shipments.filter((s) => {
            const key = `${s.shipmentId}:${s.status}`;
            if (!dueAt.has(key))
              dueAt.set(key, now + pace * (1000 + Math.random() * (s.status === 'shipped' ? 4000 : 2000)));
            return dueAt.get(key)! <= now;
          });
          await Promise.all(
            due.map((s) => step(s).catch((err) => o.log?.(`simulator: ${s.shipmentId} ${err.message}`))),
          );
        }
      } catch (err) {
        o.log?.(`simulator: API unreachable (${(err as Error).message}); retrying`);
      }
      await new Promise((r) => setTimeout(r, pace === 0 ? 100 : 500));
    }
  })();
  return {
    stats,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

if (require.main === module) {
  const { apiUrl, key } = keyFor('warehouse');
  const sim = startSimulator({
    apiUrl,
    warehouseKey: key,
    webhookSecret: webhookSecrets(config(), 'carrier')[0], // the first signs; the API accepts any of them
    log: console.log,
  });
  console.log(`Simulating the warehouse and carriers against ${apiUrl}. Ctrl-C to stop.`);
  const timer = setInterval(
    () =>
      console.log(`  events sent ${sim.stats.events}, delivered ${sim.stats.delivered}, failed ${sim.stats.failed}`),
    10000,
  );
  const stop = () => {
    clearInterval(timer);
    void sim.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop); // docker compose stop
}
