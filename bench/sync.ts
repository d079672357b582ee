/**
 * `npm run bench:sync [-- --skus 10000 --changes 5000 --rate 20]`: how fast channels learn what they may sell.
 * A fresh Temporal dev server and database, N SKUs over two warehouses, three channels each connected to its
 * own sandbox marketplace (rate limit `--rate` calls per second), a worker in this process. After the first
 * full sync, a burst of stock changes (receipts of random SKUs); prints the time from the last change until
 * every listing equals its channel's availability, the push calls and levels sent per change (coalescing),
 * and the invariants. Target: convergence within 5 s of the burst at the sandbox's default rate limit.
 */
import { cliFlags } from '../lib/cli';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Presets, SingleBar } from 'cli-progress';

const flags = cliFlags('npm run bench:sync -- [flags]', {
  skus: { type: 'number', default: 10_000, help: 'SKUs in the catalogue' },
  changes: { type: 'number', default: 5_000, help: 'stock changes in the burst' },
  rate: { type: 'number', default: 20, help: "each channel's push rate limit per second" },
});
const SKUS = flags.skus;
const CHANGES = flags.changes;
const RATE = flags.rate;
const CHANNELS = ['web', 'market', 'shop'];

async function main() {
  const { findTemporalBinary, startDevServerOnFreePorts } = await import('../lib/temporal-dev-server');
  const binary = findTemporalBinary();
  if (!binary)
    throw new Error('No temporal CLI: run `npm run temporal:binary` (builds it with Go) or set TEMPORAL_BINARY');
  const tmp = mkdtempSync(join(tmpdir(), 'erp-bench-sync-'));
  const server = await startDevServerOnFreePorts(binary, { dbFilename: join(tmp, 'temporal.db') });
  const dbUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  dbUrl.pathname = `/erp_bench_sync_${Date.now()}`;
  Object.assign(process.env, { DATABASE_URL: dbUrl.toString(), TEMPORAL_ADDRESS: server.address, LOG_LEVEL: 'warn' });
  const { ensureDatabase, migrate } = await import('../db/migrate');
  const { createDb, inTransaction } = await import('../db');
  const { receiveOpeningStock } = await import('../db/seeds/master-data');
  const { stockBenchCatalogue } = await import('./catalogue');
  const { upsertChannels, channelByCode, availabilityOf } = await import('../db/channels');
  const { startSandboxMarketplace } = await import('../scripts/sandbox-marketplace');
  const { installRuntime } = await import('../lib/temporal-runtime');
  const { NativeConnection } = await import('@temporalio/worker');
  const { Client, Connection } = await import('@temporalio/client');
  const { createWorker } = await import('../workers/worker');
  const { loadConfig } = await import('../lib/config');
  const { dataConverter } = await import('../lib/payload-codec');
  const { channelSyncStart } = await import('../api/routes/channels');
  const { checkInvariants, formatInvariants } = await import('../db/invariants');

  console.log(`Benchmark: ${SKUS} SKUs, ${CHANNELS.length} channels at ${RATE} calls/s, a burst of ${CHANGES} changes`);
  await ensureDatabase(dbUrl.toString());
  const db = createDb(dbUrl.toString(), 10);
  const markets = await Promise.all(CHANNELS.map(() => startSandboxMarketplace({ ratePerSecond: RATE })));
  installRuntime('warn');
  const native = await NativeConnection.connect({ address: server.address });
  const worker = await createWorker({ connection: native, namespace: 'default', taskQueue: 'bench-sync', db });
  const running = worker.run();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, dataConverter: dataConverter(loadConfig(process.env)) }); // as the worker's
  try {
    await migrate(db);
    await stockBenchCatalogue(db, SKUS);
    const east = (await db('warehouses').where({ code: 'EAST' }).first('id')).id as number;
    const rules = [
      { warehouseIds: null, bufferUnits: 0, bufferPct: 0, cap: null },
      { warehouseIds: null, bufferUnits: 3, bufferPct: 10, cap: null },
      { warehouseIds: [east], bufferUnits: 0, bufferPct: 0, cap: 5 },
    ];
    await inTransaction(db, (tx) =>
      upsertChannels(
        tx,
        CHANNELS.map((code, i) => ({
          code,
          name: code,
          kind: 'marketplace' as const,
          ...rules[i],
          connection: { endpoint: markets[i].url, credentialsRef: `BENCH_MARKET_${i}`, ratePerSecond: RATE },
        })),
      ),
    );
    // Started as the API starts them: each round also reads the marketplace's order feed when due and
    // delivers order updates, as in production.
    const config = loadConfig({ ...process.env, TEMPORAL_TASK_QUEUE: 'bench-sync' });
    for (const code of CHANNELS) await client.workflow.start('channelSync', channelSyncStart(config, { code }));
    const skus = Array.from({ length: SKUS }, (_, i) => `AV-${i}`);
    const converged = async () => {
      for (const [i, code] of CHANNELS.entries()) {
        const channel = (await channelByCode(db, code))!;
        for (let k = 0; k < skus.length; k += 1000) {
          for (const a of await availabilityOf(db, channel, skus.slice(k, k + 1000))) {
            if (markets[i].listings.get(a.sku)?.quantity !== a.available) return false;
          }
        }
      }
      return true;
    };
    const waitConverged = async (what: string) => {
      const started = Date.now();
      while (!(await converged())) {
        if (Date.now() - started > 600_000) throw new Error(`${what}: the listings did not converge in 10 minutes`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return Date.now() - started;
    };
    const first = await waitConverged('the first full sync');
    console.log(
      `first full sync of ${SKUS} SKUs × ${CHANNELS.length} channels converged ${first} ms after start-up checks began`,
    );

    const calls0 = markets.reduce((s, m) => s + m.stats.calls, 0);
    const items0 = markets.reduce((s, m) => s + m.stats.items, 0);
    const burst = new SingleBar({ format: 'burst      [{bar}] {value}/{total} stock changes' }, Presets.shades_classic);
    burst.start(CHANGES, 0);
    for (let c = 0; c < CHANGES; c += 8) {
      await Promise.all(
        Array.from({ length: Math.min(8, CHANGES - c) }, () =>
          receiveOpeningStock(db, Math.random() < 0.7 ? 'EAST' : 'WEST', skus[Math.floor(Math.random() * SKUS)], 1),
        ),
      );
      burst.update(Math.min(CHANGES, c + 8));
    }
    burst.stop();
    const convergeMs = await waitConverged('after the burst');
    const calls = markets.reduce((s, m) => s + m.stats.calls, 0) - calls0;
    const items = markets.reduce((s, m) => s + m.stats.items, 0) - items0;
    const invariants = await checkInvariants(db);
    console.log(`
Results (${SKUS} SKUs, ${CHANNELS.length} channels, ${RATE} calls/s each, a burst of ${CHANGES} stock changes)
  converged after the last change      ${(convergeMs / 1000).toFixed(1)} s   (target <= 5 s)
  push calls per change (all channels) ${(calls / CHANGES).toFixed(3)}   (${calls} calls)
  levels sent per change               ${(items / CHANGES).toFixed(2)}   (${items} levels; coalesced per SKU)

Invariants:
${formatInvariants(invariants)}`);
    if (invariants.some((r) => !r.ok)) process.exitCode = 1;
  } finally {
    for (const code of CHANNELS)
      await client.workflow
        .getHandle(`channel-sync-${code}`)
        .terminate('benchmark over')
        .catch(() => undefined);
    worker.shutdown();
    await running;
    await connection.close();
    await native.close();
    for (const m of markets) await m.stop();
    await db.destroy();
    await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
