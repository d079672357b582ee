/**
 * `npm run bench:reads [-- --seconds 10 --concurrency 64 --orders 300]`: how many availability reads of one SKU
 * per second the API answers (it runs in its own process, as in production), first with nothing else happening,
 * then while orders flow through the whole stack. Prints both with p99, the CPU seconds of each process and the
 * invariants; appends to bench/RESULTS.md.
 */
import { cliFlags } from '../lib/cli';
import autocannon from 'autocannon';
import { formatCpu } from './cpu';
import { appendResult } from './results';
import { pool, startBenchStack, type BenchStack } from './stack';

const flags = cliFlags('npm run bench:reads -- [flags]', {
  seconds: { type: 'number', default: 10, help: 'seconds of reads, idle and then with orders' },
  concurrency: { type: 'number', default: 64, help: 'keep-alive connections reading at once' },
  orders: { type: 'number', default: 300, help: 'orders placed during the second half' },
});
const SECONDS = flags.seconds;
const CONCURRENCY = flags.concurrency;
const ORDERS = flags.orders;
const SKUS = 200;

/**
 * Reads one random SKU at a time over CONCURRENCY keep-alive connections for SECONDS: reads per second and p99.
 * autocannon drives the load: a fetch() loop cost as much CPU as the API it measured, on the same two cores.
 */
async function readFor(stack: BenchStack) {
  const cpu = stack.meterCpu();
  const result = await autocannon({
    url: stack.apiUrl,
    connections: CONCURRENCY,
    duration: SECONDS,
    headers: { authorization: `Bearer ${stack.keys.storefront}` },
    requests: [
      {
        method: 'GET',
        setupRequest: (req) => ({
          ...req,
          path: `/v1/availability?channel=web&sku=READ-${Math.floor(Math.random() * SKUS)}`,
        }),
      },
    ],
  });
  const failed = result.non2xx + result.errors + result.timeouts;
  if (failed) throw new Error(`${failed} availability reads failed (non-2xx, errors or timeouts)`);
  return {
    perSecond: result.requests.total / SECONDS,
    p99: result.latency.p99,
    cpu: formatCpu(cpu(), SECONDS),
  };
}

async function main() {
  console.log(`Benchmark: availability reads of one SKU, ${CONCURRENCY} at a time, ${SECONDS} s, idle and with orders`);
  const stack = await startBenchStack(
    'reads',
    async (db) => {
      const { ensureProduct, receiveOpeningStock } = await import('../db/seeds/master-data');
      for (let i = 0; i < SKUS; i++) {
        await ensureProduct(db, { sku: `READ-${i}`, name: `Read ${i}`, cost: 500, price: 1500 });
        await receiveOpeningStock(db, i % 2 ? 'WEST' : 'EAST', `READ-${i}`, ORDERS * 2);
      }
    },
    { RATE_LIMIT_PER_MINUTE: '100000000' },
  );
  let green = false;
  try {
    const idle = await readFor(stack);
    console.log(`idle: ${idle.perSecond.toFixed(0)} reads/s`);
    const sim = stack.startSimulator();
    const placing = pool(
      Array.from({ length: ORDERS }, (_, i) => i),
      10,
      async (i) => {
        const res = await fetch(`${stack.apiUrl}/v1/orders`, {
          method: 'POST',
          headers: { authorization: `Bearer ${stack.keys.storefront}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            channel: 'web',
            externalRef: `R${i}`,
            currency: 'EUR',
            customer: { email: `r${i % 50}@example.com`, name: 'Reader' },
            shippingAddress: { name: 'R', line1: 'Street 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
            lines: [{ sku: `READ-${i % SKUS}`, quantity: 1, unitPrice: 1500 }],
            shippingPrice: 0,
            payment: { method: 'card', token: 'tok_approve' },
          }),
        });
        if (res.status !== 201) throw new Error(`POST /v1/orders answered ${res.status}`);
      },
    );
    const busy = await readFor(stack);
    await placing;
    const flowing = Number(
      (await stack.db('sales_orders').whereNot('status', 'completed').count({ n: '*' }).first())!.n,
    );
    await sim.stop();
    const { checkInvariants, formatInvariants } = await import('../db/invariants');
    const invariants = await checkInvariants(stack.db);
    green = invariants.every((r) => r.ok);
    const figures = `Results (one SKU per read, ${CONCURRENCY} at a time, ${SECONDS} s each; the API in its own process)
  no orders flowing            ${idle.perSecond.toFixed(0)} reads/s, p99 ${idle.p99.toFixed(1)} ms   (target >= 2,000/s)
    CPU                        ${idle.cpu}
  while ${ORDERS} orders flow     ${busy.perSecond.toFixed(0)} reads/s, p99 ${busy.p99.toFixed(1)} ms   (${flowing} still open at the end)
    CPU                        ${busy.cpu}`;
    console.log(`\n${figures}\n\nInvariants:\n${formatInvariants(invariants)}`);
    appendResult('bench:reads', figures, green);
    if (!green) process.exitCode = 1;
  } finally {
    await stack.stop(!green);
  }
}

main().catch((err) => {
  console.error(`Benchmark failed: ${err.message}`);
  process.exit(1);
});
