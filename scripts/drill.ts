/**
 * Fault drills: `npm run drill [-- --only worker-kill,provider-faults --orders 60 --returns 20 --purchases 20]`
 *
 * Each drill boots a stack of its own (a Temporal dev server on a file, a
 * fresh database, the API and the workers as separate processes, the
 * warehouse and carrier simulator), runs a mixed load (orders with split
 * shipments, returns refunded, purchase orders received, billed and paid),
 * injects its fault, waits for every process to finish, and prints: faults
 * injected, processes completed, stuck, failed, duplicated effects found in
 * the data, and the invariant check. The test suite runs two of them small.
 */
import createClient from 'openapi-fetch';
import type { paths } from '../console/src/schema';
import { cliFlags } from '../lib/cli';
import { dataConverter } from '../lib/payload-codec';
import { loadConfig } from '../lib/config';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import type { Db } from '../db';
import { DevServer, findTemporalBinary, freePort, startDevServer } from '../lib/temporal-dev-server';

export const DRILLS = [
  'worker-kill',
  'two-workers',
  'postgres-outage',
  'temporal-restart',
  'api-kill',
  'provider-faults',
] as const;
export type DrillName = (typeof DRILLS)[number];
export interface Sizes {
  orders: number;
  returns: number;
  purchases: number;
}

export interface DrillReport {
  drill: DrillName;
  faults: string[];
  processes: number;
  completed: number;
  stuck: string[];
  failed: string[];
  duplicates: string[];
  invariantsOk: boolean;
  seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ROOT = join(__dirname, '..');

/**
 * A child process running one of our TypeScript entry points (node --import tsx), so its pid is the process
 * itself; with `logFile`, what it writes (pino JSON) goes there, for a drill that fails to show why.
 */
export function spawnTs(file: string, env: NodeJS.ProcessEnv, logFile?: string): ChildProcess {
  const out = logFile ? openSync(logFile, 'a') : 'ignore';
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, file)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', out, out],
  });
  if (typeof out === 'number') closeSync(out); // the child holds its own copy
  return child;
}

/** The warnings and errors the drill's processes logged, newest last (what to read when a drill fails). */
function troubleIn(dir: string, max = 20): string[] {
  const lines: string[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.log'))) {
    for (const l of readFileSync(join(dir, f), 'utf8').split('\n')) {
      try {
        const j = JSON.parse(l) as { level?: number; time?: number; msg?: string };
        if ((j.level ?? 0) >= 40) lines.push(`${new Date(j.time ?? 0).toISOString()} ${f} ${l.slice(0, 400)}`);
      } catch {
        if (l.trim()) lines.push(`${f} ${l.slice(0, 400)}`);
      }
    }
  }
  return lines.sort().slice(-max);
}
const killHard = (c: ChildProcess | undefined) => void (c && c.exitCode === null && c.kill('SIGKILL'));

interface Keys {
  storefront: string;
  warehouse: string;
  procurement: string;
  finance: string;
  approver: string;
  ops: string;
}

/** Records left waiting on an ended process (the process invariants), asked of the drill's Temporal. */
async function orphansIn(db: Db, address: string) {
  const { Client, Connection } = await import('@temporalio/client');
  const { findOrphans } = await import('../activities/exceptions/orphans');
  const connection = await Connection.connect({ address });
  try {
    return await findOrphans(db, new Client({ connection, dataConverter: dataConverter(loadConfig(process.env)) }));
  } finally {
    await connection.close();
  }
}

/**
 * The typed API client (openapi-fetch on our OpenAPI document, as the console and the demo use it), retrying
 * through outages (network errors, 5xx, 429) with the same Idempotency-Key, as a careful storefront does. The
 * API restarted by the api-kill drill is waited for; each try goes to `apiUrl()`.
 */
function client(apiUrl: () => string, deadline: number) {
  const retrying = async (request: Request): Promise<Response> => {
    const body = request.method === 'GET' ? undefined : await request.text();
    const { pathname, search } = new URL(request.url);
    for (;;) {
      try {
        const res = await fetch(`${apiUrl()}${pathname}${search}`, {
          method: request.method,
          headers: request.headers,
          body,
          signal: AbortSignal.timeout(30000),
        });
        if (res.status >= 500 || res.status === 429)
          throw new Error(`${res.status} ${(await res.text()).slice(0, 200)}`);
        return res;
      } catch (err) {
        if (Date.now() > deadline)
          throw new Error(`${request.method} ${pathname}: still failing at the deadline: ${(err as Error).message}`, {
            cause: err,
          });
        await sleep(400);
      }
    }
  };
  return createClient<paths>({ baseUrl: 'http://api', fetch: retrying });
}

/** Who calls, and the request's Idempotency-Key (a retry of the same journey step sends the same one). */
const as = (key: string, idempotencyKey?: string) => ({
  authorization: `Bearer ${key}`,
  ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
});

/** The answer's status and body (the data, or the contract's error). */
async function answer(p: Promise<{ data?: unknown; error?: unknown; response: Response }>) {
  const r = await p;
  return { status: r.response.status, body: (r.data ?? r.error) as any };
}

export async function runDrill(
  drill: DrillName,
  sizes: Sizes,
  log: (line: string) => void = console.log,
  kills = 4,
): Promise<DrillReport> {
  const binary = findTemporalBinary();
  if (!binary) throw new Error('No temporal CLI: install Go (it is built on first use) or set TEMPORAL_BINARY');
  const started = Date.now();
  const tmp = mkdtempSync(join(tmpdir(), `erp-drill-${drill}-`));
  const temporalPort = await freePort();
  const dbFilename = join(tmp, 'temporal.db');
  let server: DevServer = await startDevServer(binary, { port: temporalPort, dbFilename });
  const dbUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  dbUrl.pathname = `/erp_drill_${drill.replace(/-/g, '_')}_${Date.now()}`;
  const apiPort = await freePort();
  const taskQueue = `drill-${drill}`;
  const env: NodeJS.ProcessEnv = {
    DATABASE_URL: dbUrl.toString(),
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    API_PORT: String(apiPort),
    LOG_LEVEL: 'warn', // kept in the drill's directory; shown when the drill fails
    FULFILMENT_TIMEOUT: '1h',
    SUPPLIER_DAY: '1s',
    SUPPLIER_LATE_GRACE: '1h',
    PO_AUTO_APPROVE_LIMIT: '100000000',
    REFUND_AUTO_APPROVE_LIMIT: '100000',
    RATE_LIMIT_PER_MINUTE: '100000',
    SANDBOX_FAULT_RATE: drill === 'provider-faults' ? '0.3' : '0',
  };
  const faults: string[] = [];
  const children = new Set<ChildProcess>();
  let spawned = 0;
  const spawnChild = (file: string) => {
    const c = spawnTs(file, env, join(tmp, `${basename(file, '.ts')}-${++spawned}.log`));
    children.add(c);
    c.once('exit', () => children.delete(c));
    return c;
  };
  const { ensureDatabase, migrate, dropDatabase } = await import('../db/migrate');
  const { createDb } = await import('../db');
  await ensureDatabase(env.DATABASE_URL!);
  const db = createDb(env.DATABASE_URL!, 5);
  let sim: { stop(): Promise<void> } | undefined;
  let keepLogs = false;
  try {
    await migrate(db);
    const keys = await seed(db);
    let api = spawnChild('api/server.ts');
    const workers = [
      spawnChild('workers/main.ts'),
      ...(drill === 'two-workers' ? [spawnChild('workers/main.ts')] : []),
    ];
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const deadline = Date.now() + 10 * 60 * 1000;
    const http = client(() => apiUrl, deadline);
    const { startSimulator } = await import('./simulator');
    const { webhookSecrets } = await import('../lib/config');
    sim = startSimulator({
      apiUrl,
      warehouseKey: keys.warehouse,
      webhookSecret: webhookSecrets(loadConfig(env), 'carrier')[0],
      pace: 0,
      failureRate: 0,
      log: () => undefined,
    });

    const total = sizes.orders + sizes.returns + sizes.purchases;
    const bar = new SingleBar(
      {
        format: `${drill.padEnd(16)} [{bar}] {value}/{total} processes done  {fault}`,
        noTTYOutput: true,
        notTTYSchedule: 10000,
      },
      Presets.shades_classic,
    );
    bar.start(total, 0, { fault: '' });
    let done = 0;
    const finished = () => bar.update(++done);
    const note = (f: string) => {
      faults.push(f);
      bar.update(done, { fault: f });
    };

    // The fault, beside the load.
    let loadOver = false;
    const fault = (async () => {
      if (drill === 'worker-kill') {
        for (let i = 0; i < kills && !loadOver; i++) {
          await sleep(6000 + Math.random() * 6000);
          const victim = workers.pop();
          killHard(victim);
          note(`worker SIGKILL #${i + 1}`);
          await sleep(1000);
          workers.push(spawnChild('workers/main.ts'));
        }
      } else if (drill === 'two-workers') {
        await sleep(8000);
        killHard(workers.shift());
        note('one of two workers SIGKILLed for good');
      } else if (drill === 'postgres-outage') {
        await sleep(8000);
        const cluster = postgresCluster();
        if (!cluster) return note('skipped: no local Postgres cluster to stop (pg_ctlcluster)');
        execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', cluster, 'main', 'stop', '-m', 'immediate'], {
          stdio: 'ignore',
        });
        note('Postgres stopped (immediate)');
        await sleep(20000);
        execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', cluster, 'main', 'start'], { stdio: 'ignore' });
        note('Postgres back after 20 s');
      } else if (drill === 'temporal-restart') {
        await sleep(8000);
        server.process.kill('SIGKILL');
        await new Promise((r) => server.process.once('exit', r));
        note('Temporal dev server SIGKILLed');
        await sleep(3000);
        server = await startDevServer(binary, { port: temporalPort, dbFilename });
        note('Temporal restarted on its database');
      } else if (drill === 'api-kill') {
        // Kill it mid-burst: once some orders are in and before all are.
        const recorded = async () => Number((await db('sales_orders').count({ n: '*' }).first())!.n);
        await until(
          recorded,
          (n) => n >= Math.max(1, Math.floor(sizes.orders / 5)),
          'the order burst to start',
          120000,
        );
        killHard(api);
        note(`API SIGKILLed with ${await recorded()} of ${sizes.orders} orders recorded`);
        await sleep(2000);
        api = spawnChild('api/server.ts');
        note('API restarted');
      } else {
        note('sandbox payment, supplier, bank and mail calls fail or slow down 30 % of the time');
      }
    })();

    const loadError = await runLoad(http, keys, sizes, finished).then(
      () => undefined,
      (err) => String(err),
    );
    loadOver = true;
    await fault;
    bar.stop();
    if (loadError) log(`load did not finish: ${loadError}`);
    await sim.stop();
    sim = undefined;

    const outcome = await inspect(db, sizes);
    const { checkInvariants, formatInvariants, orphanInvariants } = await import('../db/invariants');
    const invariants = [...(await checkInvariants(db)), ...orphanInvariants(await orphansIn(db, server.address))];
    const report: DrillReport = {
      drill,
      faults,
      processes: total,
      completed: outcome.completed,
      stuck: outcome.stuck,
      failed: outcome.failed,
      duplicates: outcome.duplicates,
      invariantsOk: invariants.every((r) => r.ok),
      seconds: Math.round((Date.now() - started) / 1000),
    };
    log(formatReport(report));
    if (!report.invariantsOk) log(formatInvariants(invariants));
    if (report.invariantsOk && report.completed === total && !report.duplicates.length)
      await dropDatabase(env.DATABASE_URL!).catch(() => undefined);
    else {
      keepLogs = true;
      log(`database kept for inspection: ${env.DATABASE_URL}`);
      log(`the processes' logs are kept in ${tmp}; their last warnings and errors:`);
      for (const l of troubleIn(tmp)) log(`  ${l}`);
    }
    return report;
  } finally {
    await sim?.stop();
    for (const c of children) c.kill('SIGINT');
    await sleep(500);
    for (const c of children) killHard(c);
    await db.destroy();
    await server.stop();
    if (!keepLogs) rmSync(tmp, { recursive: true, force: true });
  }
}

async function seed(db: Db): Promise<Keys> {
  const { ensureChannel, ensureProduct, ensureTaxRate, ensureWarehouse, receiveOpeningStock } =
    await import('../db/seeds/master-data');
  const { createApiKey } = await import('../api/auth');
  await ensureWarehouse(db, { code: 'EAST', name: 'East', priority: 10 });
  await ensureWarehouse(db, { code: 'WEST', name: 'West', priority: 20 });
  await ensureChannel(db, { code: 'web', name: 'Web' });
  await ensureTaxRate(db, { country: 'DE', rateBp: 1900, name: 'DE VAT' });
  // SKUs 0-4 live in EAST only and 5-9 in WEST only, so an order with one of each ships in two parcels.
  for (let i = 0; i < 10; i++) {
    await ensureProduct(db, { sku: `DRILL-${i}`, name: `Drill ${i}`, cost: 500, price: 1500 });
    await receiveOpeningStock(db, i < 5 ? 'EAST' : 'WEST', `DRILL-${i}`, 2000);
  }
  await db('suppliers').insert({
    code: 'DRILL-SUP',
    name: 'Drill supplies',
    currency: 'EUR',
    lead_time_days: 1,
    payment_terms_days: 0,
  });
  const keys = {} as Keys;
  for (const role of ['storefront', 'warehouse', 'procurement', 'finance', 'approver', 'ops'] as const)
    keys[role] = (await createApiKey(db, `drill ${role}`, [role])).key;
  return keys;
}

type Api = ReturnType<typeof client>;

/** Polls a read until `ok`; reads are safe to repeat. */
async function until<T>(
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  what: string,
  timeoutMs = 8 * 60 * 1000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

async function runLoad(api: Api, keys: Keys, sizes: Sizes, finished: () => void): Promise<void> {
  const orderIds: string[] = [];
  const orderJourney = async (i: number) => {
    const split = i % 4 === 0;
    const body = {
      channel: 'web',
      externalRef: `D${i}`,
      currency: 'EUR',
      customer: { email: `drill${i % 20}@example.com`, name: 'Drill' },
      shippingAddress: { name: 'Drill', line1: 'Street 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
      lines: split
        ? [
            { sku: `DRILL-${i % 5}`, quantity: 1, unitPrice: 1500 },
            { sku: `DRILL-${5 + (i % 5)}`, quantity: 2, unitPrice: 1500 },
          ]
        : [{ sku: `DRILL-${i % 10}`, quantity: 1, unitPrice: 1500 }],
      shippingPrice: 495,
      payment: { method: 'card', token: i % 7 === 0 ? 'tok_flaky' : 'tok_approve' },
    };
    const r = await answer(api.POST('/v1/orders', { body, headers: as(keys.storefront, `order-D${i}`) }));
    if (r.status !== 201 && r.status !== 200) throw new Error(`order D${i}: ${r.status} ${JSON.stringify(r.body)}`); // 200: the retry found the order
    orderIds[i] = r.body.orderId;
    await until(
      () =>
        answer(
          api.GET('/v1/orders/{orderId}', { params: { path: { orderId: r.body.orderId } }, headers: as(keys.ops) }),
        ),
      (o) => o.body?.status === 'completed',
      `order D${i} to complete`,
    );
    finished();
  };
  const returnJourney = async (i: number) => {
    await until(
      async () => orderIds[i],
      (id) => id !== undefined,
      `order D${i} to exist`,
    );
    const orderId = orderIds[i];
    await until(
      () => answer(api.GET('/v1/orders/{orderId}', { params: { path: { orderId } }, headers: as(keys.ops) })),
      (o) => o.body?.status === 'completed',
      `order D${i} to complete`,
    );
    const order = (
      await answer(api.GET('/v1/orders/{orderId}', { params: { path: { orderId } }, headers: as(keys.ops) }))
    ).body;
    const sku = order.lines[0].sku;
    const req = await answer(
      api.POST('/v1/returns', {
        body: { orderId, resolution: 'refund', lines: [{ sku, quantity: 1, reason: 'changed my mind' }] },
        headers: as(keys.storefront, `return-D${i}`),
      }),
    );
    if (req.status !== 201 && req.status !== 200)
      throw new Error(`return of D${i}: ${req.status} ${JSON.stringify(req.body)}`);
    const id = req.body.returnId;
    await until(
      () => answer(api.GET('/v1/returns/{returnId}', { params: { path: { returnId: id } }, headers: as(keys.ops) })),
      (x) => x.body?.status === 'authorised',
      `return of D${i} to be authorised`,
    );
    const got = await answer(
      api.POST('/v1/returns/{returnId}/receipt', {
        params: { path: { returnId: id } },
        body: { lines: [{ sku, quantity: 1 }] },
        headers: as(keys.warehouse, `return-receipt-D${i}`),
      }),
    );
    if (got.status !== 200) throw new Error(`return receipt of D${i}: ${got.status} ${JSON.stringify(got.body)}`);
    await until(
      () => answer(api.GET('/v1/returns/{returnId}', { params: { path: { returnId: id } }, headers: as(keys.ops) })),
      (x) => x.body?.status === 'received',
      `return of D${i} to be received`,
    );
    const graded = await answer(
      api.POST('/v1/returns/{returnId}/inspection', {
        params: { path: { returnId: id } },
        body: { lines: [{ sku, quantity: 1, condition: 'new' }] },
        headers: as(keys.warehouse, `return-inspection-D${i}`),
      }),
    );
    if (graded.status !== 200) throw new Error(`inspection of D${i}: ${graded.status} ${JSON.stringify(graded.body)}`);
    await until(
      () => answer(api.GET('/v1/returns/{returnId}', { params: { path: { returnId: id } }, headers: as(keys.ops) })),
      (x) => x.body?.status === 'refunded',
      `return of D${i} to be refunded`,
    );
    finished();
  };
  const purchaseJourney = async (i: number) => {
    const sku = `DRILL-${i % 10}`;
    const created = await answer(
      api.POST('/v1/purchase-orders', {
        body: {
          supplier: 'DRILL-SUP',
          warehouse: i % 10 < 5 ? 'EAST' : 'WEST',
          lines: [{ sku, quantity: 10, unitPrice: 450 }],
        },
        headers: as(keys.procurement, `po-${i}`),
      }),
    );
    if (created.status !== 201 && created.status !== 200)
      throw new Error(`purchase ${i}: ${created.status} ${JSON.stringify(created.body)}`);
    const po = created.body.poId;
    await until(
      () =>
        answer(
          api.GET('/v1/purchase-orders/{poId}', { params: { path: { poId: po } }, headers: as(keys.procurement) }),
        ),
      (x) => x.body?.status === 'sent',
      `purchase ${i} to be sent`,
    );
    const receipt = await answer(
      api.POST('/v1/purchase-orders/{poId}/receipts', {
        params: { path: { poId: po } },
        body: { lines: [{ sku, quantity: 10 }] },
        headers: as(keys.warehouse, `po-receipt-${i}`),
      }),
    );
    if (receipt.status !== 201)
      throw new Error(`receipt of purchase ${i}: ${receipt.status} ${JSON.stringify(receipt.body)}`);
    const bill = await answer(
      api.POST('/v1/purchase-orders/{poId}/bills', {
        params: { path: { poId: po } },
        body: {
          supplierInvoiceRef: `DRILL-INV-${i}`,
          lines: [{ sku, quantity: 10, unitPrice: 450 }],
          tax: 855,
          total: 5355,
        },
        headers: as(keys.finance, `po-bill-${i}`),
      }),
    );
    if (bill.status !== 201 || !bill.body.matched)
      throw new Error(`bill of purchase ${i}: ${bill.status} ${JSON.stringify(bill.body)}`);
    await until(
      () =>
        answer(
          api.GET('/v1/purchase-orders/{poId}', { params: { path: { poId: po } }, headers: as(keys.procurement) }),
        ),
      (x) => x.body?.status === 'closed',
      `purchase ${i} to close`,
    );
    finished();
  };
  await Promise.all([
    ...Array.from({ length: sizes.orders }, (_, i) => orderJourney(i)),
    ...Array.from({ length: sizes.returns }, (_, i) => returnJourney(i)),
    ...Array.from({ length: sizes.purchases }, (_, i) => purchaseJourney(i)),
  ]);
}

/** What the data says: processes finished or not, and any effect that happened twice. */
async function inspect(
  db: Db,
  sizes: Sizes,
): Promise<{ completed: number; stuck: string[]; failed: string[]; duplicates: string[] }> {
  const rows = async (sql: string) => (await db.raw(sql)).rows as Record<string, unknown>[];
  const orders = await rows(`SELECT external_ref, status FROM sales_orders`);
  const returns = await rows(`SELECT r.id, r.status FROM returns r`);
  const purchases = await rows(`SELECT number, status FROM purchase_orders`);
  const completed =
    orders.filter((o) => o.status === 'completed').length +
    returns.filter((r) => r.status === 'refunded').length +
    purchases.filter((p) => p.status === 'closed').length;
  const stuck = [
    ...orders.filter((o) => o.status !== 'completed').map((o) => `order ${o.external_ref}: ${o.status}`),
    ...returns.filter((r) => r.status !== 'refunded').map((r) => `return ${r.id}: ${r.status}`),
    ...purchases.filter((p) => p.status !== 'closed').map((p) => `purchase ${p.number}: ${p.status}`),
    ...(orders.length < sizes.orders ? [`${sizes.orders - orders.length} order(s) never recorded`] : []),
  ];
  const failed = (await rows(`SELECT type, summary FROM exceptions WHERE type = 'activity_failed'`)).map((e) =>
    String(e.summary),
  );
  const duplicates: string[] = [];
  if (purchases.length > sizes.purchases)
    duplicates.push(`more purchase orders than requested: ${purchases.length} for ${sizes.purchases}`);
  if (returns.length > sizes.returns)
    duplicates.push(`more returns than requested: ${returns.length} for ${sizes.returns}`);
  duplicates.push(...(await duplicatedEffects(db)));
  return { completed, stuck, failed, duplicates };
}

/** Effects that happened more than once in the data (or differ from the provider's side): each found, described. */
export async function duplicatedEffects(db: Db): Promise<string[]> {
  const duplicates: string[] = [];
  const dup = async (what: string, sql: string) => {
    for (const r of (await db.raw(sql)).rows as Record<string, unknown>[])
      duplicates.push(`${what}: ${JSON.stringify(r)}`);
  };
  await dup(
    'more than one order per storefront reference',
    `SELECT external_ref, COUNT(*) AS n FROM sales_orders GROUP BY external_ref HAVING COUNT(*) > 1`,
  );
  await dup(
    'more than one capture per invoice',
    `SELECT invoice_id, COUNT(*) AS n FROM payments WHERE kind = 'capture' GROUP BY invoice_id HAVING COUNT(*) > 1`,
  );
  await dup(
    'provider captures differ from ours',
    `SELECT (SELECT COUNT(*) FROM sandbox_payment_ledger WHERE operation = 'capture' AND outcome = 'approved') AS provider, (SELECT COUNT(*) FROM payments WHERE kind = 'capture' AND status = 'succeeded' AND provider_ref <> 'none') AS ours WHERE (SELECT COUNT(*) FROM sandbox_payment_ledger WHERE operation = 'capture' AND outcome = 'approved') <> (SELECT COUNT(*) FROM payments WHERE kind = 'capture' AND status = 'succeeded' AND provider_ref <> 'none')`,
  );
  await dup(
    'provider refunds differ from ours',
    `SELECT p, o FROM (SELECT (SELECT COUNT(*) FROM sandbox_payment_ledger WHERE operation = 'refund' AND outcome = 'approved') AS p, (SELECT COUNT(*) FROM payments WHERE kind = 'refund' AND status = 'succeeded') AS o) x WHERE p <> o`,
  );
  await dup(
    'more than one refund per return',
    `SELECT cn.return_id, COUNT(p.id) AS n FROM credit_notes cn JOIN payments p ON p.credit_note_id = cn.id AND p.kind = 'refund' GROUP BY cn.return_id HAVING COUNT(p.id) > 1`,
  );
  await dup(
    'more than one return per order',
    `SELECT order_id, COUNT(*) AS n FROM returns GROUP BY order_id HAVING COUNT(*) > 1`,
  );
  await dup(
    'more than one stock move out per reservation',
    `SELECT idempotency_key FROM stock_moves GROUP BY idempotency_key HAVING COUNT(*) > 1`,
  );
  await dup(
    'more than one receipt per purchase order',
    `SELECT po_id, COUNT(*) AS n FROM purchase_receipts GROUP BY po_id HAVING COUNT(*) > 1`,
  );
  await dup(
    'more than one journal entry per business event',
    `SELECT source_type, source_id, description, COUNT(*) AS n FROM journal_entries GROUP BY 1, 2, 3 HAVING COUNT(*) > 1`,
  );
  await dup(
    'bank transfers differ from supplier payments',
    `SELECT t, p FROM (SELECT (SELECT COUNT(*) FROM sandbox_bank_transfers) AS t, (SELECT COUNT(*) FROM supplier_payments) AS p) x WHERE t <> p`,
  );
  await dup(
    'supplier received an order twice',
    `SELECT supplier_code, payload->>'number' AS number, COUNT(*) AS n FROM sandbox_supplier_orders GROUP BY 1, 2 HAVING COUNT(*) > 1`,
  );
  await dup(
    'mails sent differ from notifications marked sent',
    `SELECT m, n FROM (SELECT (SELECT COUNT(*) FROM sandbox_mailbox) AS m, (SELECT COUNT(*) FROM notifications WHERE status = 'sent') AS n) x WHERE m < n`,
  );
  return duplicates;
}

function postgresCluster(): string | undefined {
  if (!existsSync('/etc/postgresql')) return undefined;
  return readdirSync('/etc/postgresql').sort().pop();
}

export function formatReport(r: DrillReport): string {
  const ok = r.completed === r.processes && r.duplicates.length === 0 && r.invariantsOk && r.failed.length === 0;
  return [
    `${ok ? 'PASS' : 'FAIL'} drill ${r.drill} (${r.seconds} s)`,
    `  faults injected      ${r.faults.length ? r.faults.join('; ') : 'none'}`,
    `  processes completed  ${r.completed} of ${r.processes}`,
    `  stuck                ${r.stuck.length}${r.stuck.length ? `: ${r.stuck.slice(0, 5).join(', ')}` : ''}`,
    `  failed               ${r.failed.length}${r.failed.length ? `: ${r.failed.slice(0, 3).join(', ')}` : ''}`,
    `  duplicated effects   ${r.duplicates.length}${r.duplicates.length ? `: ${r.duplicates.slice(0, 5).join(', ')}` : ''}`,
    `  invariants           ${r.invariantsOk ? 'green' : 'BROKEN'}`,
  ].join('\n');
}

if (require.main === module) {
  const flags = cliFlags('npm run drill -- [flags]', {
    only: { type: 'string', default: DRILLS.join(','), help: 'the drills to run, comma separated' },
    orders: { type: 'number', default: 60, help: 'orders in each drill' },
    returns: { type: 'number', default: 20, help: 'returns in each drill' },
    purchases: { type: 'number', default: 20, help: 'purchase orders in each drill' },
  });
  const only = flags.only.split(',') as DrillName[];
  const sizes = { orders: flags.orders, returns: flags.returns, purchases: flags.purchases };
  (async () => {
    const reports: DrillReport[] = [];
    for (const d of only) {
      if (!DRILLS.includes(d)) throw new Error(`unknown drill ${d}; choose from ${DRILLS.join(', ')}`);
      console.log(`\n== ${d}: ${sizes.orders} orders, ${sizes.returns} returns, ${sizes.purchases} purchase orders`);
      reports.push(await runDrill(d, sizes));
    }
    const bad = reports.filter(
      (r) => r.completed !== r.processes || r.duplicates.length || !r.invariantsOk || r.failed.length,
    );
    console.log(`\n${reports.length - bad.length} of ${reports.length} drills passed`);
    process.exitCode = bad.length ? 1 : 0;
  })().catch((err) => {
    console.error(`drill failed to run: ${err.message}`);
    process.exit(1);
  });
}
