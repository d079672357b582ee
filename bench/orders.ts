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
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import { Client, Connection } from '@temporalio/client';
import { findTemporalBinary, freePort, startDevServerOnFreePorts, waitForPort } from '../lib/temporal-dev-server';
import { cpuMeter, formatCpu } from './cpu';
import { appendResult } from './results';

const arg = (name: string, fallback: number) =>
  process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : fallback;
const N = arg('--orders', 500);
const CONCURRENCY = arg('--concurrency', 25);
const RATE = arg('--rate', 0); // 0: half the throughput this run measured
const SECONDS = arg('--seconds', 60);
const OPEN_ORDERS = arg('--open-orders', 1000); // left waiting on the warehouse at the end, for the worker's memory
const SKUS = 20;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN;
};

/** Peak (VmHWM) or current (VmRSS) resident memory of a process, in MiB. */
function memoryMiB(pid: number, which: 'VmHWM' | 'VmRSS' = 'VmHWM'): number {
  const m = new RegExp(`${which}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function spawnTs(file: string, env: NodeJS.ProcessEnv): ChildProcess {
  // node --import tsx runs the TypeScript in this one process, so its pid is the worker's.
  return spawn(process.execPath, ['--import', 'tsx', file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function pool<T>(items: T[], width: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

async function main() {
  const binary = findTemporalBinary();
  if (!binary) throw new Error('No temporal CLI; install Go or set TEMPORAL_BINARY');
  const tmp = mkdtempSync(join(tmpdir(), 'erp-bench-'));
  const server = await startDevServerOnFreePorts(binary, { dbFilename: join(tmp, 'temporal.db') });
  const dbUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  dbUrl.pathname = `/erp_bench_${Date.now()}`;
  const env = {
    DATABASE_URL: dbUrl.toString(),
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_TASK_QUEUE: 'bench',
    LOG_LEVEL: 'warn',
    API_PORT: String(await freePort()),
    FULFILMENT_TIMEOUT: '1h',
  };
  Object.assign(process.env, env);
  const children: ChildProcess[] = [];
  try {
    console.log(
      `Benchmark: ${N} orders, ${CONCURRENCY} at a time; Temporal ${server.address}, database ${dbUrl.pathname.slice(1)}`,
    );
    const { ensureDatabase, migrate } = await import('../db/migrate');
    const { createDb } = await import('../db');
    const { createApiKey } = await import('../api/auth');
    const { ensureChannel, ensureProduct, ensureTaxRate, ensureWarehouse, receiveOpeningStock } =
      await import('../db/seeds/master-data');
    await ensureDatabase(env.DATABASE_URL);
    const db = createDb(env.DATABASE_URL, 5);
    await migrate(db);
    await ensureWarehouse(db, { code: 'EAST', name: 'East', priority: 10 });
    await ensureWarehouse(db, { code: 'WEST', name: 'West', priority: 20 });
    await ensureChannel(db, { code: 'web', name: 'Web' });
    await ensureTaxRate(db, { country: 'DE', rateBp: 1900, name: 'DE VAT' });
    for (let i = 0; i < SKUS; i++) {
      await ensureProduct(db, { sku: `BENCH-${i}`, name: `Bench ${i}`, cost: 500, price: 1500 });
      await receiveOpeningStock(db, i % 2 ? 'WEST' : 'EAST', `BENCH-${i}`, N * 3);
    }
    const storefront = (await createApiKey(db, 'bench storefront', ['storefront'])).key;
    const warehouse = (await createApiKey(db, 'bench warehouse', ['warehouse'])).key;

    // As production runs it: the workflow bundle built beforehand, not by webpack inside the worker.
    const { buildWorkflowBundle } = await import('../scripts/build-workflows');
    const worker = spawnTs(join(__dirname, '..', 'workers', 'main.ts'), {
      ...env,
      WORKFLOW_BUNDLE: await buildWorkflowBundle(join(tmp, 'workflows.js')),
    });
    children.push(worker);
    const apiProcess = spawnTs(join(__dirname, '..', 'api', 'server.ts'), env);
    children.push(apiProcess);
    const { loadConfig } = await import('../lib/config');
    await waitForPort('127.0.0.1', Number(env.API_PORT), 60_000);
    const api = { url: `http://127.0.0.1:${env.API_PORT}` };
    const cpu = cpuMeter({
      'temporal server': server.process.pid!,
      worker: worker.pid!,
      api: apiProcess.pid!,
      postgres: 'postgres',
      'load generator + simulator': process.pid,
    });
    const { startSimulator } = await import('../scripts/simulator');
    const sim = startSimulator({
      apiUrl: api.url,
      warehouseKey: warehouse,
      webhookSecret: loadConfig(process.env).WEBHOOK_SECRET,
      pace: 0,
      failureRate: 0,
    });

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
      const res = await fetch(`${api.url}/v1/orders`, {
        method: 'POST',
        headers: { authorization: `Bearer ${storefront}`, 'content-type': 'application/json' },
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
    const steps = await countSteps(server.address, 'order-web-B1');
    // The ceiling runs as many no-op activities as the order has steps, local or not: the same work done the
    // plain way, so moving steps into the worker shows as a gain instead of lowering the bar.
    const activitiesPerOrder = steps.remote + steps.local;
    const workerPeak = memoryMiB(worker.pid!);

    // The ceiling: the same number of do-nothing activities per workflow, same server, same concurrency.
    const ceilingWorker = spawnTs(join(__dirname, 'ceiling-worker.ts'), {
      ...env,
      TEMPORAL_TASK_QUEUE: 'bench-ceiling',
    });
    children.push(ceilingWorker);
    const connection = await Connection.connect({ address: server.address });
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

    // Many orders open at once, all waiting on the warehouse (no simulator now): what the worker holds for them.
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
          .where('status', 'fulfilling')
          .where('external_ref', 'like', 'WAIT%')
          .count({ n: '*' })
          .first())!.n,
      );
      bar.update(waiting);
      if (waiting < OPEN_ORDERS) await new Promise((r) => setTimeout(r, 250));
    }
    bar.stop();
    await new Promise((r) => setTimeout(r, 2000));
    const workerOpen = memoryMiB(worker.pid!, 'VmRSS');

    const { checkInvariants, formatInvariants } = await import('../db/invariants');
    const invariants = await checkInvariants(db);
    const throughput = N / elapsed;
    const ceiling = N / ceilingElapsed;
    const figures = `Results (${N} orders, concurrency ${CONCURRENCY}; a single-shipment order takes ${activitiesPerOrder} steps: ${steps.remote} activities, ${steps.local} local)
  orders completed per second        ${throughput.toFixed(1)}   (${elapsed.toFixed(1)} s in all)
  placed -> invoiced  p50 / p99      ${pct(toInvoice, 50).toFixed(0)} ms / ${pct(toInvoice, 99).toFixed(0)} ms
  POST /v1/orders     p50 / p99      ${pct(postLatency, 50).toFixed(1)} ms / ${pct(postLatency, 99).toFixed(1)} ms   (closed loop, ${CONCURRENCY} at a time)
  worker peak memory (VmHWM)         ${workerPeak.toFixed(0)} MiB while the orders ran
  worker memory (VmRSS)              ${workerOpen.toFixed(0)} MiB with ${OPEN_ORDERS} open orders waiting on the warehouse
  ceiling: no-op workflows/second    ${ceiling.toFixed(1)}   (${activitiesPerOrder} empty activities each)
  ratio orders / ceiling             ${(throughput / ceiling).toFixed(2)}
  CPU while the orders ran           ${formatCpu(cpuUsed, elapsed)}
  open loop at ${rate} orders/s for ${SECONDS} s: POST /v1/orders p50 / p99 ${pct(openLatency, 50).toFixed(1)} ms / ${pct(openLatency, 99).toFixed(1)} ms`;
    console.log(`\n${figures}\n\nInvariants:\n${formatInvariants(invariants)}`);
    appendResult(
      'bench:orders',
      figures,
      invariants.every((r) => r.ok),
    );
    await db.destroy();
    if (invariants.some((r) => !r.ok)) {
      process.exitCode = 1;
      console.log(`Database kept for inspection: ${env.DATABASE_URL}`);
    } else {
      await (await import('../db/migrate')).dropDatabase(env.DATABASE_URL);
    }
  } finally {
    for (const c of children) c.kill('SIGINT');
    await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** How many steps one order ran, read from its history: activities through the server, and local ones (markers). */
async function countSteps(address: string, workflowId: string): Promise<{ remote: number; local: number }> {
  const connection = await Connection.connect({ address });
  const history = await new Client({ connection }).workflow.getHandle(workflowId).fetchHistory();
  await connection.close();
  const events = history.events ?? [];
  return {
    remote: events.filter((e) => e.activityTaskScheduledEventAttributes).length,
    local: events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length,
  };
}

main().catch((err) => {
  console.error(`Benchmark failed: ${err.message}`);
  process.exit(1);
});
