/**
 * `npm run demo [-- --orders 40]`: places a varied batch of orders through the
 * API (both channels, kits, split shipments, backorder policies, and the
 * sandbox tokens that decline, hold for review or time out), with a progress
 * bar, runs the replenishment planner once, then says where to watch them. It talks to the API through the
 * client typed from our OpenAPI document, as an integrator would.
 */
import { SingleBar, Presets } from 'cli-progress';
import { randomUUID } from 'node:crypto';
import createClient from 'openapi-fetch';
import type { paths } from '../console/src/schema';
import { cliFlags } from '../lib/cli';
import { keyFor, readLocalKeys } from './local-keys';

const count = cliFlags('npm run demo -- [flags]', {
  orders: { type: 'number', default: 40, help: 'orders to place' },
}).orders;
const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)];
const CITIES = [
  { city: 'Berlin', postalCode: '10115', country: 'DE' },
  { city: 'Paris', postalCode: '75001', country: 'FR' },
  { city: 'Amsterdam', postalCode: '1012', country: 'NL' },
  { city: 'London', postalCode: 'SW1A 1AA', country: 'GB' },
  { city: 'Los Angeles', postalCode: '90001', country: 'US', region: 'CA' },
];
const NAMES = [
  'Ada Lovelace',
  'Grace Hopper',
  'Alan Turing',
  'Katherine Johnson',
  'Edsger Dijkstra',
  'Barbara Liskov',
  'Donald Knuth',
];

function token(i: number) {
  if (i % 20 === 7) return 'tok_decline';
  if (i % 20 === 11) return 'tok_review';
  if (i % 20 === 15) return 'tok_flaky';
  return 'tok_approve';
}

async function main() {
  const { apiUrl, key } = keyFor('storefront');
  const api = createClient<paths>({ baseUrl: apiUrl, headers: { authorization: `Bearer ${key}` } });
  const products: { sku: string; price?: number }[] = [];
  let cursor: string | undefined;
  do {
    const { data, response } = await api.GET('/v1/products', { params: { query: { limit: 500, cursor } } });
    if (!data) throw new Error(`GET /v1/products answered ${response.status}; is \`npm start\` running?`);
    products.push(...data.products);
    cursor = data.nextCursor ?? undefined;
  } while (cursor);

  const bar = new SingleBar(
    { format: 'Placing orders [{bar}] {value}/{total}  {outcome}', noTTYOutput: true, notTTYSchedule: 5000 },
    Presets.shades_classic,
  );
  bar.start(count, 0, { outcome: '' });
  const outcomes: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const name = pick(NAMES);
    const place = pick(CITIES);
    const lines = Array.from({ length: 1 + (i % 3) }, () => {
      const p = pick(products);
      return {
        sku: p.sku,
        quantity: 1 + Math.floor(Math.random() * (i % 5 === 0 ? 12 : 3)),
        unitPrice: p.price ?? 1999,
      };
    });
    const unique = [...new Map(lines.map((l) => [l.sku, l])).values()];
    const channel = i % 3 === 0 ? 'marketplace' : 'web';
    const externalRef = `DEMO-${randomUUID().slice(0, 8)}`;
    const { response } = await api.POST('/v1/orders', {
      body: {
        channel,
        externalRef,
        currency: 'EUR',
        customer: { email: `${name.split(' ')[0].toLowerCase()}@example.com`, name },
        shippingAddress: { name, line1: `${1 + (i % 90)} Demo Street`, ...place },
        lines: unique,
        shippingPrice: 495,
        payment: { method: 'card', token: token(i) },
        backorderPolicy: pick(['ship_available', 'ship_available', 'wait', 'cancel'] as const),
      },
    });
    const outcome = response.ok ? 'placed' : `HTTP ${response.status}`;
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    bar.increment(1, { outcome: `${channel} ${externalRef} ${outcome}` });
  }
  bar.stop();
  await planPurchases();
  const local = readLocalKeys();
  console.log(`\n${Object.entries(outcomes)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ')}.
Watch them:
  Temporal UI   http://127.0.0.1:8233  (search: OrderStage = 'fulfilling', or Channel = 'marketplace')
  API           curl -H "Authorization: Bearer ${local?.keys.ops ? '<ops key from .data/demo-keys.json>' : '<ops key>'}" ${apiUrl}/v1/orders/<orderId>
  The simulator started by \`npm start\` picks, packs, ships and delivers them over the next minute.`);
}

/** The replenishment planner over the demo's reorder rules: what it proposes now, and the purchase orders it drafted. */
async function planPurchases() {
  const { apiUrl, key } = keyFor('procurement');
  const api = createClient<paths>({ baseUrl: apiUrl, headers: { authorization: `Bearer ${key}` } });
  const { data: plan, error, response } = await api.POST('/v1/replenishment/runs', { body: {} });
  if (!plan) return console.log(`\nReplenishment run: HTTP ${response.status} ${JSON.stringify(error)}`);
  console.log(
    `\nReplenishment run over ${plan.rules} reorder rules: ${plan.proposals.length} proposal(s), ${plan.stockoutRisks.length} stockout risk(s).`,
  );
  for (const po of plan.purchaseOrders)
    console.log(
      `  ${po.number}  ${po.supplier} → ${po.warehouse}  ${po.lines.length} line(s)  ${(po.total / 100).toFixed(2)}  (GET /v1/purchase-orders/${po.number})`,
    );
}

main().catch((err) => {
  console.error(`Demo failed: ${err.message}`);
  process.exit(1);
});
