/**
 * `npm run bench:hot-sku [-- --orders 1000 --units 100 --concurrency 100]`: a flash sale.
 *
 * 1. Spread: N orders over N SKUs (plenty of stock each), N/concurrency at a time, on a stack of its own.
 * 2. Hot: N orders for ONE SKU with `units` in stock (policy cancel: who cannot be served is cancelled).
 *    The hot run should take no longer than about the spread one (the hot row is never the bottleneck);
 *    exactly `units` orders served, none oversold.
 * 3. The reservation transaction called directly (no Temporal): N concurrent reservations of one SKU against
 *    a raw conditional `UPDATE quants … WHERE on_hand - reserved >= q` loop on the same Postgres. Measured
 *    first, while nothing else runs; `--direct` measures only this.
 * Prints the figures and CPU seconds per process, checks the invariants, appends to bench/RESULTS.md.
 */
import { cliFlags } from '../lib/cli';
import { Presets, SingleBar } from 'cli-progress';
import type { Db } from '../db';
import { formatCpu } from './cpu';
import { appendResult } from './results';
import { pool, startBenchStack } from './stack';

const flags = cliFlags('npm run bench:hot-sku -- [flags]', {
  orders: { type: 'number', default: 1000, help: 'orders in the flash sale' },
  units: { type: 'number', default: 100, help: 'units of the hot SKU' },
  concurrency: { type: 'number', default: 100, help: 'orders placed at once' },
  direct: { type: 'boolean', help: 'only the reservation called directly against the raw UPDATE (no Temporal runs)' },
});
const N = flags.orders;
const UNITS = flags.units;
const CONCURRENCY = flags.concurrency;

const bar = new SingleBar(
  { format: '{phase} [{bar}] {value}/{total}', noTTYOutput: true, notTTYSchedule: 5000 },
  Presets.shades_classic,
);

const order = (ref: string, sku: string) => ({
  channel: 'web',
  externalRef: ref,
  currency: 'EUR',
  customer: { email: `${ref.toLowerCase()}@example.com`, name: 'Flash' },
  shippingAddress: { name: 'Flash', line1: 'Street 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
  lines: [{ sku, quantity: 1, unitPrice: 1500 }],
  shippingPrice: 0,
  backorderPolicy: 'cancel',
  payment: { method: 'card', token: 'tok_approve' },
});

async function settled(db: Db, prefix: string): Promise<{ completed: number; cancelled: number }> {
  const rows = await db('sales_orders')
    .where('external_ref', 'like', `${prefix}%`)
    .whereIn('status', ['completed', 'cancelled'])
    .groupBy('status')
    .select('status', db.raw('COUNT(*)::int AS n'));
  const of = (s: string) => rows.find((r: { status: string }) => r.status === s)?.n ?? 0;
  return { completed: of('completed'), cancelled: of('cancelled') };
}

async function main() {
  console.log(`Benchmark: a flash sale of ${UNITS} units to ${N} buyers, ${CONCURRENCY} at a time`);
  const stack = await startBenchStack('hot_sku', async (db) => {
    const { ensureProduct, receiveOpeningStock } = await import('../db/seeds/master-data');
    for (const [sku, units] of [
      ['HOT', UNITS],
      ['HOT-DIRECT', UNITS],
      ['HOT-RAW', UNITS],
      ['WARM-UP', 1000],
    ] as const) {
      await ensureProduct(db, { sku, name: sku, cost: 500, price: 1500 });
      await receiveOpeningStock(db, 'EAST', sku, units);
    }
    bar.start(N, 0, { phase: 'stocking  ' });
    for (let i = 0; i < (flags.direct ? 0 : N); i++) {
      await ensureProduct(db, { sku: `SPREAD-${i}`, name: `Spread ${i}`, cost: 500, price: 1500 });
      await receiveOpeningStock(db, 'EAST', `SPREAD-${i}`, 5);
      bar.increment();
    }
    bar.stop();
  });
  const { db } = stack;
  let green = false;
  try {
    if (flags.direct) {
      const direct = await directReservations(db);
      const { checkInvariants, formatInvariants } = await import('../db/invariants');
      const invariants = await checkInvariants(db);
      green = invariants.every((r) => r.ok);
      const figures = directFigures(direct);
      console.log(`\n${figures}\n\nInvariants:\n${formatInvariants(invariants)}`);
      appendResult('bench:hot-sku --direct', figures, green);
      if (!green) process.exitCode = 1;
      return;
    }
    // Called directly first, while nothing else runs (the Temporal runs below leave their stack busy for a while).
    const direct = await directReservations(db);
    const sim = stack.startSimulator();
    const place = (body: object) =>
      fetch(`${stack.apiUrl}/v1/orders`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.keys.storefront}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (r) => {
        if (r.status !== 201) throw new Error(`POST /v1/orders answered ${r.status}: ${await r.text()}`);
      });
    /** All N orders placed `CONCURRENCY` at a time, then until each is completed or cancelled. */
    const run = async (prefix: string, sku: (i: number) => string) => {
      const cpu = stack.meterCpu();
      const started = Date.now();
      bar.start(N, 0, { phase: `${prefix.padEnd(6)} placing` });
      await pool(
        Array.from({ length: N }, (_, i) => i),
        CONCURRENCY,
        async (i) => void (await place(order(`${prefix}${i}`, sku(i))), bar.increment()),
      );
      let s = { completed: 0, cancelled: 0 };
      bar.update(0, { phase: `${prefix.padEnd(6)} settling` });
      while (s.completed + s.cancelled < N) {
        await new Promise((r) => setTimeout(r, 250));
        s = await settled(db, prefix);
        bar.update(s.completed + s.cancelled);
      }
      bar.stop();
      const seconds = (Date.now() - started) / 1000;
      return { ...s, seconds, cpu: formatCpu(cpu(), seconds) };
    };
    const spread = await run('SPREAD', (i) => `SPREAD-${i}`);
    console.log(`spread: ${spread.seconds.toFixed(1)} s`);
    const hot = await run('HOT', () => 'HOT');
    console.log(`hot: ${hot.seconds.toFixed(1)} s, ${hot.completed} served`);
    await sim.stop();

    const stock = await db('quants as q')
      .join('products as p', 'p.id', 'q.product_id')
      .join('locations as l', 'l.id', 'q.location_id')
      .where({ 'p.sku': 'HOT', 'l.type': 'stock' })
      .first('q.on_hand', 'q.reserved');

    const { checkInvariants, formatInvariants } = await import('../db/invariants');
    const invariants = await checkInvariants(db);
    green = invariants.every((r) => r.ok) && hot.completed === UNITS && stock.on_hand >= 0;
    const figures = `Results (${N} orders, ${CONCURRENCY} at a time)
  spread over ${N} SKUs             ${spread.seconds.toFixed(1)} s   (${spread.completed} completed)
  hot: one SKU with ${UNITS} units      ${hot.seconds.toFixed(1)} s   (${hot.completed} served, ${hot.cancelled} cancelled, on hand after ${stock.on_hand}, oversold ${Math.max(0, hot.completed - UNITS)})
  hot / spread                       ${(hot.seconds / spread.seconds).toFixed(2)}
  CPU, spread                        ${spread.cpu}
  CPU, hot                           ${hot.cpu}
${directFigures(direct)}`;
    console.log(`\n${figures}\n\nInvariants:\n${formatInvariants(invariants)}`);
    appendResult(
      'bench:hot-sku',
      figures,
      invariants.every((r) => r.ok),
    );
    if (!green) process.exitCode = 1;
  } finally {
    await stack.stop(!green);
  }
}

/**
 * The reservation step as the worker runs it (one transaction: lock the order and the stock, allocate, hold),
 * N calls at once on one SKU, against the least a database can do: a conditional UPDATE of one quant row.
 * Both through the same pool of 20 connections.
 */
async function directReservations(db: Db) {
  const { recordOrder } = await import('../db/sales');
  const { createActivities, sandboxDeps } = await import('../activities');
  const activities = createActivities(sandboxDeps(db));
  const orders: string[] = [];
  bar.start(N, 0, { phase: 'direct    ' });
  for (let i = 0; i < N; i++) {
    orders.push((await recordOrder(db, order(`DIRECT${i}`, 'HOT-DIRECT') as never, 'EUR')).orderId);
    bar.increment();
  }
  bar.stop();
  // Every pooled connection prepares its statements and compiles the reservation functions once; the raw loop
  // below runs on connections already warm, so these do too, on another SKU, before the clock starts.
  const warm: string[] = [];
  for (let i = 0; i < 40; i++) warm.push((await recordOrder(db, order(`WARM${i}`, 'WARM-UP') as never, 'EUR')).orderId);
  await Promise.all(warm.map((orderId) => activities.reserveStock({ orderId, allowPartial: false })));
  let started = performance.now();
  const results = await Promise.all(orders.map((orderId) => activities.reserveStock({ orderId, allowPartial: false })));
  const reservePerSecond = N / ((performance.now() - started) / 1000);
  const reserved = results.filter((r) => r.shortUnits === 0).length;

  const quant = await db('quants as q')
    .join('products as p', 'p.id', 'q.product_id')
    .join('locations as l', 'l.id', 'q.location_id')
    .where({ 'p.sku': 'HOT-RAW', 'l.type': 'stock' })
    .first('q.location_id', 'q.product_id');
  const row = [quant.location_id, quant.product_id];
  started = performance.now();
  const raw = await Promise.all(
    Array.from({ length: N }, () =>
      db.raw(
        'UPDATE quants SET reserved = reserved + 1 WHERE location_id = ? AND product_id = ? AND on_hand - reserved >= 1',
        row,
      ),
    ),
  );
  const rawPerSecond = N / ((performance.now() - started) / 1000);
  // Put the raw loop's units back: it reserved without a reservation row, which the invariants would flag.
  await db('quants').where({ location_id: quant.location_id, product_id: quant.product_id }).update({ reserved: 0 });
  return { reservePerSecond, reserved, rawPerSecond, rawReserved: raw.filter((r) => r.rowCount === 1).length };
}

function directFigures(direct: Awaited<ReturnType<typeof directReservations>>): string {
  return `  reservation transaction, direct    ${direct.reservePerSecond.toFixed(0)} calls/s   (${N} concurrent on one SKU, ${direct.reserved} reserved)
  raw conditional UPDATE             ${direct.rawPerSecond.toFixed(0)} calls/s   (${direct.rawReserved} reserved)
  reservation / raw                  ${(direct.reservePerSecond / direct.rawPerSecond).toFixed(2)}`;
}

main().catch((err) => {
  console.error(`Benchmark failed: ${err.message}`);
  process.exit(1);
});
