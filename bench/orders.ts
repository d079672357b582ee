/**
 * `npm run bench:orders [-- --orders 500 --concurrency 25 --rate R --seconds 60]`
 *
 * N orders through the whole flow on a stack of its own (a fresh Temporal dev
 * server, a fresh database, the worker and the API each in its own process, and
 * the simulated warehouse and carrier at full speed). Prints orders completed per
 * second, p50/p99 from placed to invoiced, API p99 for POST /v1/orders, the
 * worker's peak memory, the CPU seconds of each process, and the ceiling: a no-op
 * workflow with as many activities as an order has steps, on the same server in
 * the same run. Then an open loop: orders placed at a fixed rate (default half the
 * measured throughput) while they flow, with POST /v1/orders p50/p99. Ends with
 * the invariant check; the figures are appended to bench/RESULTS.md.
 */
import { cliFlags } from '../lib/cli';
import { join } from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import { Client, Connection } from '@temporalio/client';
import { formatCpu } from './cpu';
import { appendResult } from './results';
import { memoryMiB, pct, pool, startBenchStack } from './stack';

const flags = cliFlags('npm run bench:orders -- [flags]', {
  orders: { type: 'number', default: 500, help: 'orders through the whole flow' },
  concurrency: { type: 'number', default: 25, help: 'orders placed at once (closed loop)' },
  rate: { type: 'number', default: 0, help: 'open loop: orders per second (0: half the measured throughput)' },
  seconds: { type: 'number', default: 60, help: 'open loop: seconds' },
  'open-orders': { type: 'number', default: 1000, help: "left waiting on the warehouse, for the worker's memory" },
  'open-cache': { type: 'number', default: 50, help: "that worker's WORKER_MAX_CACHED_WORKFLOWS" },
  'open-heap': { type: 'number', default: 128, help: "that worker's V8 old space in MiB (0: Node's default)" },
  'open-semi': { type: 'number', default: 1, help: "and its young generation's semi-space in MiB (0: Node's)" },
  workers: { type: 'number', default: 1, help: 'scale-out: workers on one task queue' },
  apis: { type: 'number', default: 1, help: 'scale-out: API processes, orders round robin over them' },
  'ceiling-activities': {
    type: 'number',
    default: 16,
    help: "the ceiling's no-op activities per workflow (issue 16's baseline: an order's steps before that work)",
  },
});
const N = flags.orders;
const CONCURRENCY = flags.concurrency;
const RATE = flags.rate; // 0: half the throughput this run measured
const SECONDS = flags.seconds;
const OPEN_ORDERS = flags['open-orders']; // left waiting on the warehouse at the end, for the worker's memory
const OPEN_CACHE = flags['open-cache']; // that worker's WORKER_MAX_CACHED_WORKFLOWS
const OPEN_HEAP = flags['open-heap']; // that worker's V8 old-space limit in MiB (0: Node's default)
const OPEN_SEMI = flags['open-semi']; // and its young-generation semi-space in MiB (0: Node's default, 16)
const openNodeOptions = [
  OPEN_HEAP ? `--max-old-space-size=${OPEN_HEAP}` : '',
  OPEN_SEMI ? `--max-semi-space-size=${OPEN_SEMI}` : '',
].filter(Boolean);
const WORKERS = flags.workers; // scale-out: workers on one task queue
const APIS = flags.apis; // scale-out: API processes, the storefront's orders round robin over them
const SKUS = 20;

async function main() {
  console.log(`Benchmark: ${N} orders, ${CONCURRENCY} at a time, on a stack of its own`);
  const stack = await startBenchStack('orders', async (db) => {
    const { ensureProduct, receiveOpeningStock } = await import('../db/seeds/master-data');
    for (let i = 0; i < SKUS; i++) {
      await ensureProduct(db, { sku: `BENCH-${i}`, name: `Bench ${i}`, cost: 500, price: 1500 });
      await receiveOpeningStock(db, i % 2 ? 'WEST' : 'EAST', `BENCH-${i}`, (N + OPEN_ORDERS) * 3);
    }
  });
  const { db, worker } = stack;
  let invariantsGreen = false;
  try {
    for (let i = 1; i < WORKERS; i++) stack.startWorker();
    const apiUrls = [stack.apiUrl];
    for (let i = 1; i < APIS; i++) apiUrls.push(await stack.startApi());
    let posted = 0;
    const cpu = stack.meterCpu();
    const sim = stack.startSimulator();

    // Orders: 1-2 lines; every 5th spans both warehouses (a split shipment).
    const body = (i: number, prefix = 'B') => ({
      channel: 'web',
      externalRef: `${prefix}${i}`,
      currency: 'EUR',
      customer: { email: `b${i % 50}@example.com`, name: 'Bench' },
      shippingAddress: { name: 'Bench', line1: 'Street 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
      lines:
        i % 5 === 0
          ? [
              { sku: `BENCH-${i % SKUS}`, quantity: 1, unitPrice: 1500 },
              { sku: `BENCH-${(i + 1) % SKUS}`, quantity: 2, unitPrice: 1500 },
            ]
          : [{ sku: `BENCH-${i % SKUS}`, quantity: 1, unitPrice: 1500 }],
      shippingPrice: 495,
      payment: { method: 'card', token: 'tok_approve' },
    });
    const bodies = Array.from({ length: N }, (_, i) => body(i));
    const post = async (b: object) => {
      const t = performance.now();
      const res = await fetch(`${apiUrls[posted++ % apiUrls.length]}/v1/orders`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.keys.storefront}`, 'content-type': 'application/json' },
        body: JSON.stringify(b),
      });
      const ms = performance.now() - t;
      if (res.status !== 201) throw new Error(`POST /v1/orders answered ${res.status}: ${await res.text()}`);
      return ms;
    };
    const completed = async () =>
      Number((await db('sales_orders').where('status', 'completed').count({ n: '*' }).first())!.n);
    const postLatency: number[] = [];
    const bar = new SingleBar(
      { format: '{phase} [{bar}] {value}/{total}', noTTYOutput: true, notTTYSchedule: 5000 },
      Presets.shades_classic,
    );
    const started = Date.now();
    bar.start(N, 0, { phase: 'placing   ' });
    await pool(bodies, CONCURRENCY, async (b) => {
      postLatency.push(await post(b));
      bar.increment();
    });
    bar.update(0, { phase: 'completing' });
    let done = 0;
    while (done < N) {
      done = await completed();
      bar.update(done);
      if (done < N) await new Promise((r) => setTimeout(r, 250));
    }
    const elapsed = (Date.now() - started) / 1000;
    const cpuUsed = cpu();
    bar.stop();

    // Open loop: a fixed arrival rate, as a storefront sees it, while the orders placed so far keep flowing.
    const rate = RATE || Math.max(1, Math.round(N / elapsed / 2));
    const openLatency: number[] = [];
    const arrivals = rate * SECONDS;
    bar.start(arrivals, 0, { phase: `${rate}/s open ` });
    const openStarted = performance.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < arrivals; i++) {
      const due = openStarted + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      inFlight.push(post(body(i, 'OPEN')).then((ms) => void (openLatency.push(ms), bar.increment())));
    }
    await Promise.all(inFlight);
    bar.update(0, { phase: 'draining  ' });
    bar.setTotal(N + arrivals);
    for (done = 0; done < N + arrivals;) {
      done = await completed();
      bar.update(done);
      if (done < N + arrivals) await new Promise((r) => setTimeout(r, 250));
    }
    bar.stop();
    await sim.stop();
    const invoiced = await db('sales_orders as o')
      .join('invoices as i', 'i.order_id', 'o.id')
      .groupBy('o.id', 'o.placed_at')
      .select(db.raw('EXTRACT(EPOCH FROM (MAX(i.issued_at) - o.placed_at)) * 1000 AS ms'));
    const toInvoice = invoiced.map((r: { ms: string }) => Number(r.ms));
    const steps = await countSteps(stack.temporalAddress, 'order-web-B1');
    // The ceiling is the cost of the round trips a single-shipment order took before issue 16 (16 activities):
    // fewer steps per order (a status written by the step before it) show as a gain. Local steps count as
    // steps, so moving a step into the worker never lowers the bar below what the order does.
    const activitiesPerOrder = Math.max(flags['ceiling-activities'], steps.remote + steps.local);
    const workerPeak = memoryMiB(worker.pid!);

    // The ceiling: the same number of do-nothing activities per workflow, same server, same concurrency.
    stack.spawn(join(__dirname, 'ceiling-worker.ts'), {
      TEMPORAL_TASK_QUEUE: 'bench-ceiling',
    });
    const connection = await Connection.connect({ address: stack.temporalAddress });
    const client = new Client({ connection });
    const ceilingStart = Date.now();
    bar.start(N, 0, { phase: 'ceiling   ' });
    await pool(
      Array.from({ length: N }, (_, i) => i),
      CONCURRENCY,
      async (i) => {
        await client.workflow.execute('ceiling', {
          taskQueue: 'bench-ceiling',
          workflowId: `ceiling-${i}`,
          args: [activitiesPerOrder],
        });
        bar.increment();
      },
    );
    bar.stop();
    const ceilingElapsed = (Date.now() - ceilingStart) / 1000;
    await connection.close();
    const ceilingSteps = await countSteps(stack.temporalAddress, 'ceiling-0');

    // Many orders open at once, all waiting on the warehouse (no simulator now): what a worker holds for them.
    // A fresh worker, so its memory is what the open orders cost, not the peak of the run before; its cache
    // keeps OPEN_CACHE processes in memory (the rest replay from history when the warehouse next reports).
    // Measured with one worker only: with several, the others would take the open orders too.
    const measureOpen = async () => {
      await stack.stopWorker(worker);
      const openWorker = stack.startWorker({
        WORKER_MAX_CACHED_WORKFLOWS: String(OPEN_CACHE),
        ...(openNodeOptions.length ? { NODE_OPTIONS: openNodeOptions.join(' ') } : {}),
      });
      bar.start(OPEN_ORDERS, 0, { phase: 'open      ' });
      await pool(
        Array.from({ length: OPEN_ORDERS }, (_, i) => body(i, 'WAIT')),
        CONCURRENCY,
        async (b) => void (await post(b), bar.increment()),
      );
      bar.update(0, { phase: 'waiting   ' });
      for (let waiting = 0; waiting < OPEN_ORDERS;) {
        waiting = Number(
          (await db('sales_orders')
            .whereIn('status', ['fulfilling', 'backordered'])
            .where('external_ref', 'like', 'WAIT%')
            .count({ n: '*' })
            .first())!.n,
        );
        bar.update(waiting);
        if (waiting < OPEN_ORDERS) await new Promise((r) => setTimeout(r, 250));
      }
      bar.stop();
      await new Promise((r) => setTimeout(r, 2000));
      return memoryMiB(openWorker.pid!, 'VmRSS');
    };
    const workerOpen = OPEN_ORDERS > 0 && WORKERS === 1 ? await measureOpen() : NaN;

    const { checkInvariants, formatInvariants } = await import('../db/invariants');
    const invariants = await checkInvariants(db);
    const duplicates = await (await import('../scripts/drill')).duplicatedEffects(db);
    const throughput = N / elapsed;
    const ceiling = N / ceilingElapsed;
    const figures = `Results (${N} orders, concurrency ${CONCURRENCY}, ${WORKERS} worker(s), ${APIS} API process(es); a single-shipment order takes ${steps.remote + steps.local} steps: ${steps.remote} activities, ${steps.local} local; ${steps.tasks} workflow tasks, ${steps.events} history events)
  orders completed per second        ${throughput.toFixed(1)}   (${elapsed.toFixed(1)} s in all)
  placed -> invoiced  p50 / p99      ${pct(toInvoice, 50).toFixed(0)} ms / ${pct(toInvoice, 99).toFixed(0)} ms
  POST /v1/orders     p50 / p99      ${pct(postLatency, 50).toFixed(1)} ms / ${pct(postLatency, 99).toFixed(1)} ms   (closed loop, ${CONCURRENCY} at a time)
  worker peak memory (VmHWM)         ${workerPeak.toFixed(0)} MiB while the orders ran
  worker memory (VmRSS)              ${Number.isNaN(workerOpen) ? 'not measured (--open-orders 0, or several workers)' : `${workerOpen.toFixed(0)} MiB with ${OPEN_ORDERS} open orders waiting on the warehouse (a fresh worker, cache ${OPEN_CACHE}${openNodeOptions.length ? `, NODE_OPTIONS=${openNodeOptions.join(' ')}` : ''})`}
  ceiling: no-op workflows/second    ${ceiling.toFixed(1)}   (${activitiesPerOrder} empty activities each; ${ceilingSteps.tasks} workflow tasks, ${ceilingSteps.events} history events)
  ratio orders / ceiling             ${(throughput / ceiling).toFixed(2)}
  CPU while the orders ran           ${formatCpu(cpuUsed, elapsed)}
  open loop at ${rate} orders/s for ${SECONDS} s: POST /v1/orders p50 / p99 ${pct(openLatency, 50).toFixed(1)} ms / ${pct(openLatency, 99).toFixed(1)} ms
  duplicated effects                 ${duplicates.length ? duplicates.join('; ') : 'none'}`;
    console.log(`\n${figures}\n\nInvariants:\n${formatInvariants(invariants)}`);
    invariantsGreen = invariants.every((r) => r.ok) && duplicates.length === 0;
    appendResult('bench:orders', figures, invariantsGreen);
    if (!invariantsGreen) process.exitCode = 1;
  } finally {
    await stack.stop(!invariantsGreen);
  }
}

/** One order's cost to the server, read off its history: steps (activities and local), workflow tasks, events. */
async function countSteps(
  address: string,
  workflowId: string,
): Promise<{ remote: number; local: number; tasks: number; events: number }> {
  const connection = await Connection.connect({ address });
  const history = await new Client({ connection }).workflow.getHandle(workflowId).fetchHistory();
  await connection.close();
  const events = history.events ?? [];
  return {
    remote: events.filter((e) => e.activityTaskScheduledEventAttributes).length,
    local: events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length,
    tasks: events.filter((e) => e.workflowTaskStartedEventAttributes).length,
    events: events.length,
  };
}

main().catch((err) => {
  console.error(`Benchmark failed: ${err.message}`);
  process.exit(1);
});
