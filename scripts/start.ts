/**
 * `npm start`: the whole platform in one terminal.
 *   Postgres   DATABASE_URL if set; else the local server on 127.0.0.1:5432; else (or with
 *              --embedded-postgres / EMBEDDED_POSTGRES=1) the embedded one in <data dir>/postgres
 *   Temporal   TEMPORAL_ADDRESS if set, else the dev server (found or built; UI on :8233)
 *   then migrations, demo data and keys, a worker, the API and the warehouse simulator.
 * Ctrl-C stops everything it started. A start that was killed hard leaves its dev server and
 * embedded Postgres running; the next start finds them and reuses them, saying so.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, webhookSecrets } from '../lib/config';
import { newPayloadKey } from '../lib/payload-codec';
import { startEmbeddedPostgres } from './start/embedded-postgres';
import { describe, StartError } from './start/errors';
import { listening, requireFree } from './start/ports';
import { chooseTemporal } from './start/temporal';

const HELP = `npm start [-- options]
  --embedded-postgres   run the embedded Postgres even if one listens on 127.0.0.1:5432 (or EMBEDDED_POSTGRES=1)
  --no-simulator        do not work shipments automatically
  --port N              the API's port (default 3000, or API_PORT)
  --temporal-port N     the dev server's port (default 7233)
  --ui-port N           the Temporal UI's port (default 8233)
  --postgres-port N     the embedded Postgres' port (default 54329)
  --help`;

const OPTIONS = {
  'embedded-postgres': { type: 'boolean', default: false },
  'no-simulator': { type: 'boolean', default: false },
  port: { type: 'string' },
  'temporal-port': { type: 'string', default: '7233' },
  'ui-port': { type: 'string', default: '8233' },
  'postgres-port': { type: 'string', default: '54329' },
  help: { type: 'boolean', default: false },
} as const;

function readFlags() {
  try {
    return parseArgs({ options: OPTIONS }).values;
  } catch (err) {
    console.error(`${describe(err)}\n\n${HELP}`);
    process.exit(2);
  }
}
const flags = readFlags();
const say = (line: string) => console.log(`\x1b[36m[start]\x1b[0m ${line}`);
const stops: { what: string; stop: () => Promise<void> }[] = []; // run first to last on the way out
const port = (value: string, flag: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new StartError(
      `${flag} ${value} is not a port.`,
      `Give a number from 1 to 65535, e.g. \`npm start -- ${flag} 4000\`.`,
    );
  return n;
};

async function choosePostgres(dataDir: string, embedded: boolean): Promise<string> {
  if (process.env.DATABASE_URL && !embedded) return process.env.DATABASE_URL;
  if (!embedded && (await listening('127.0.0.1', 5432))) return 'postgres://postgres@127.0.0.1:5432/erp';
  if (!embedded) say('No Postgres on 127.0.0.1:5432 and no DATABASE_URL: using the embedded Postgres');
  const pg = await startEmbeddedPostgres({
    dataDir: join(dataDir, 'postgres'),
    port: port(flags['postgres-port'], '--postgres-port'),
    log: say,
  });
  if (!pg.adopted)
    say(
      `Embedded Postgres (pid ${pg.pid}) on 127.0.0.1:${flags['postgres-port']}, data in ${join(dataDir, 'postgres')}`,
    );
  stops.push({ what: 'the embedded Postgres', stop: pg.stop });
  return pg.url;
}

/** Connects once before anything else uses the database, so a refusal reads as what to do. */
async function checkDatabase(url: string): Promise<void> {
  const { ensureDatabase } = await import('../db/migrate');
  const where = new URL(url);
  try {
    await ensureDatabase(url);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT') {
      throw new StartError(
        `Postgres at ${where.host} refused the connection (${code}).`,
        'Start Postgres, fix DATABASE_URL, or unset DATABASE_URL and run `npm start -- --embedded-postgres`.',
      );
    }
    if (code === '28P01' || code === '28000') {
      throw new StartError(
        `Postgres at ${where.host} refused the user "${decodeURIComponent(where.username)}": ${describe(err)}.`,
        'Put a user and password that may connect into DATABASE_URL (postgres://user:password@host:port/erp).',
      );
    }
    if (code === '42501')
      throw new StartError(
        `The user "${decodeURIComponent(where.username)}" may not create the database ${where.pathname.slice(1)}.`,
        'Create the database yourself, or connect as a user with CREATEDB.',
      );
    throw err;
  }
}

/** This installation's payload key (.data/payload-keys), made on the first start. */
function localPayloadKey(dataDir: string): string {
  const file = join(dataDir, 'payload-keys');
  if (!existsSync(file)) writeFileSync(file, newPayloadKey(`local-${Date.now().toString(36)}`), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

async function main() {
  if (flags.help) return console.log(HELP);
  const early = loadConfig();
  const apiPort = port(flags.port ?? process.env.API_PORT ?? '3000', '--port');
  await requireFree(apiPort, 'the API', '--port');
  mkdirSync(early.ERP_DATA_DIR, { recursive: true });
  const databaseUrl = await choosePostgres(early.ERP_DATA_DIR, flags['embedded-postgres'] || early.EMBEDDED_POSTGRES);
  await checkDatabase(databaseUrl);
  const temporal = await chooseTemporal({
    dataDir: early.ERP_DATA_DIR,
    port: port(flags['temporal-port'], '--temporal-port'),
    uiPort: port(flags['ui-port'], '--ui-port'),
    log: say,
  });
  stops.unshift({ what: 'the Temporal dev server', stop: temporal.stop });
  process.env.DATABASE_URL = databaseUrl;
  process.env.TEMPORAL_ADDRESS = temporal.address;
  process.env.API_PORT = String(apiPort);
  // Demo timings, so a newcomer sees holds and backorders resolve in minutes, not days.
  process.env.RISK_REVIEW_TIMEOUT ??= '10m';
  process.env.BACKORDER_WAIT_TIMEOUT ??= '15m';
  process.env.BACKORDER_RECHECK_INTERVAL ??= '1m';
  // Payloads are encrypted in Temporal from the first run: a key is made once and kept with the data.
  process.env.PAYLOAD_KEYS ??= localPayloadKey(early.ERP_DATA_DIR);
  await runPlatform(temporal.ui);
}

async function runPlatform(temporalUi: string | undefined) {
  const { config } = await import('../lib/config');
  const c = config();
  const { migrate } = await import('../db/migrate');
  const { db, closeDb } = await import('../db');
  const { seedDemo } = await import('../db/seeds/demo');
  const applied = await migrate(db());
  const where = new URL(c.DATABASE_URL);
  say(
    `Postgres ${where.host}${where.pathname}: ${applied.length ? `applied ${applied.length} migration(s)` : 'schema up to date'}`,
  );
  const { readLocalKeys } = await import('./local-keys');
  const known = readLocalKeys()?.keys ?? {};
  const { keys } = await seedDemo(db(), say, (role) => !known[role]);
  stops.unshift({ what: 'the database pool', stop: closeDb }); // after the worker (unshifted below), before Temporal and Postgres

  const { NativeConnection } = await import('@temporalio/worker');
  (await import('../lib/temporal-runtime')).installRuntime(c.LOG_LEVEL === 'info' ? 'warn' : c.LOG_LEVEL);
  const { bundleWorkflows, createWorker } = await import('../workers/worker');
  say('Bundling workflows and starting a worker...');
  const connection = await NativeConnection.connect({ address: c.TEMPORAL_ADDRESS });
  const worker = await createWorker({
    connection,
    namespace: c.TEMPORAL_NAMESPACE,
    taskQueue: c.TEMPORAL_TASK_QUEUE,
    db: db(),
    workflowBundle: await bundleWorkflows(),
  });
  const workerRun = worker.run();
  stops.unshift({
    what: 'the worker',
    stop: async () => {
      // The SDK's runtime shuts workers down by itself on SIGINT/SIGTERM; only ask when it has not.
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await workerRun;
      await connection.close();
    },
  });
  const { Client, Connection } = await import('@temporalio/client');
  const clientConnection = await Connection.connect({ address: c.TEMPORAL_ADDRESS });
  const { dataConverter } = await import('../lib/payload-codec');
  const client = new Client({ connection: clientConnection, dataConverter: dataConverter(c) });
  await (await import('../workers/schedules')).ensureSchedules(client, c);
  // As every worker does at start: the webhook dispatcher picks up what is pending (it ends if nobody subscribed).
  await (await import('../lib/start-process')).startWebhookDispatch(client, c);
  await clientConnection.close();

  (await import('./build-console')).buildConsole(say);
  const { startApi } = await import('../api/server');
  const api = await startApi(c, { sharesDb: true });
  stops.unshift({ what: 'the API', stop: api.stop });
  const { saveLocalKeys, keyFor } = await import('./local-keys');
  saveLocalKeys({ apiUrl: api.url, keys: Object.fromEntries(keys.map((k) => [k.role, k.key])) });

  let simulator: { stop(): Promise<void> } | undefined;
  if (!flags['no-simulator']) {
    const { startSimulator } = await import('./simulator');
    simulator = startSimulator({
      apiUrl: api.url,
      warehouseKey: keyFor('warehouse').key,
      webhookSecret: webhookSecrets(c, 'carrier')[0],
      log: say,
    });
    stops.unshift({ what: 'the simulator', stop: simulator.stop });
  }
  const market = await connectSandboxMarketplace(api.url, keyFor('admin').key);
  stops.unshift({ what: 'the sandbox marketplace', stop: market.stop });
  printBanner({ apiUrl: api.url, temporalUi, c, simulator: !!simulator, keys, marketplace: market.url });
}

/**
 * The sandbox marketplace on loopback, and the demo `marketplace` channel connected to it: its sync process
 * pushes every level there (GET <url>/listings/:sku shows what the marketplace shows its buyers), and a
 * buyer's order placed there (POST <url>/orders) comes in by its signed webhook. The shared secret is the
 * environment variable SANDBOX_MARKETPLACE (made up for this run when not set).
 */
async function connectSandboxMarketplace(apiUrl: string, adminKey: string) {
  const { connectMarketplaceChannel, startSandboxMarketplace } = await import('./sandbox-marketplace');
  const { db } = await import('../db');
  process.env.SANDBOX_MARKETPLACE ??= randomBytes(24).toString('hex');
  // It charges buyers our tax on top of our prices, so its statements match what we invoice.
  const rates: { country: string; rate_bp: number }[] = await db()('tax_rates').where({ region: '' });
  const market = await startSandboxMarketplace({
    ratePerSecond: 20,
    webhook: { url: `${apiUrl}/v1/webhooks/marketplace/marketplace`, secret: process.env.SANDBOX_MARKETPLACE },
    taxRates: Object.fromEntries(rates.map((r) => [r.country, r.rate_bp])),
  });
  await connectMarketplaceChannel(apiUrl, adminKey, market.url).catch((err: Error) => say(err.message));
  return market;
}

function printBanner(o: {
  apiUrl: string;
  temporalUi?: string;
  c: { TEMPORAL_ADDRESS: string; TEMPORAL_TASK_QUEUE: string; DATABASE_URL: string; ERP_DATA_DIR: string };
  simulator: boolean;
  keys: { role: string; key: string }[];
  marketplace: string;
}) {
  const keyFile = join(o.c.ERP_DATA_DIR, 'demo-keys.json');
  console.log(`
  ERP process platform is running.
    API           ${o.apiUrl}            (reference: ${o.apiUrl}/docs)
    Console       ${o.apiUrl}/console    (sign in with one of the keys below)
    Temporal UI   ${o.temporalUi ?? '(external server)'}
    Temporal      ${o.c.TEMPORAL_ADDRESS}  task queue "${o.c.TEMPORAL_TASK_QUEUE}"
    Postgres      ${o.c.DATABASE_URL.replace(/:[^:@/]+@/, ':***@')}
    Simulator     ${o.simulator ? 'working shipments (picked → packed → shipped → delivered)' : 'off'}
    Marketplace   ${o.marketplace}  (sandbox; channel "marketplace": GET /listings/:sku, buyers POST /orders)
${o.keys.length ? `  API keys (shown once; also saved to ${keyFile}):\n${o.keys.map((k) => `    ${k.role.padEnd(12)} ${k.key}`).join('\n')}` : `  API keys: created on the first start, saved in ${keyFile}`}

  Place demo orders:  npm run demo        Stop: Ctrl-C
`);
}

let stopping = false;
async function stopAll(): Promise<boolean> {
  stopping = true;
  let clean = true;
  for (const { what, stop } of stops) {
    await stop().catch((err) => {
      clean = false;
      console.error(`[start] stopping ${what} failed: ${describe(err)}`);
    });
  }
  return clean;
}

const shutdown = async () => {
  if (stopping) return;
  say('Stopping...');
  process.exit((await stopAll()) ? 0 : 1);
};
process.on('SIGINT', shutdown); // on, not once: Ctrl-C reaches us from the terminal and again from tsx; a second one must not kill us mid-stop
process.on('SIGTERM', shutdown);

main().catch(async (err: unknown) => {
  if (stopping) return;
  console.error(`\nStart-up failed: ${describe(err)}`);
  console.error(
    err instanceof StartError
      ? `Next step: ${err.nextStep}`
      : 'Next step: read the message above; `npm start -- --help` lists the options.',
  );
  await stopAll();
  process.exit(1);
});
