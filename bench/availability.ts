/**
 * `npm run bench:availability [-- --skus 10000 --reads 300]`: what a storefront pays to ask what it may sell.
 * A fresh database with N SKUs stocked over two warehouses and three channels (no buffer; 3 units and 10 %;
 * one warehouse with a cap), the API in this process, then reads of 1,000 random SKUs per call over real
 * HTTP, round robin over the channels. Prints p50/p95/p99 and the invariants. Target: p99 ≤ 50 ms.
 */
import { cliFlags } from '../lib/cli';
import { Presets, SingleBar } from 'cli-progress';

const flags = cliFlags('npm run bench:availability -- [flags]', {
  skus: { type: 'number', default: 10_000, help: 'SKUs in the catalogue' },
  reads: { type: 'number', default: 300, help: 'reads of 1,000 SKUs each' },
});
const SKUS = flags.skus;
const READS = flags.reads;
const PER_READ = 1000;

async function main() {
  const dbUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  dbUrl.pathname = `/erp_bench_availability_${Date.now()}`;
  Object.assign(process.env, { DATABASE_URL: dbUrl.toString(), LOG_LEVEL: 'warn' });
  const { ensureDatabase, migrate } = await import('../db/migrate');
  const { createDb, inTransaction } = await import('../db');
  const { ensureChannel } = await import('../db/seeds/master-data');
  const { stockBenchCatalogue } = await import('./catalogue');
  const { upsertChannels, channelByCode } = await import('../db/channels');
  const { createApp, listen } = await import('../api/app');
  const { createApiKey } = await import('../db/access');
  const { loadConfig } = await import('../lib/config');
  const { Client } = await import('@temporalio/client');
  const { checkInvariants, formatInvariants } = await import('../db/invariants');

  console.log(
    `Benchmark: availability of ${PER_READ} SKUs per read, ${READS} reads; database ${dbUrl.pathname.slice(1)}`,
  );
  await ensureDatabase(dbUrl.toString());
  const db = createDb(dbUrl.toString(), 10);
  try {
    await migrate(db);
    await ensureChannel(db, { code: 'web', name: 'Web' });
    await stockBenchCatalogue(db, SKUS);
    const east = (await db('warehouses').where({ code: 'EAST' }).first('id')).id as number;
    await inTransaction(db, (tx) =>
      upsertChannels(tx, [
        {
          code: 'web',
          name: 'Web',
          kind: 'webshop',
          warehouseIds: null,
          bufferUnits: 0,
          bufferPct: 0,
          cap: null,
          connection: null,
        },
        {
          code: 'market',
          name: 'Market',
          kind: 'marketplace',
          warehouseIds: null,
          bufferUnits: 3,
          bufferPct: 10,
          cap: null,
          connection: null,
        },
        {
          code: 'shop',
          name: 'Shop',
          kind: 'pos',
          warehouseIds: [east],
          bufferUnits: 0,
          bufferPct: 0,
          cap: 5,
          connection: null,
        },
      ]),
    );
    const key = (await createApiKey(db, 'bench storefront', ['storefront'])).key;
    const config = loadConfig({ ...process.env, RATE_LIMIT_PER_MINUTE: '1000000' });
    const server = await listen(createApp({ db, temporal: new Client(), config }), 0, '127.0.0.1');
    const addr = server.address();
    const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    const channels = ['web', 'market', 'shop'];
    const times: number[] = [];
    const reads = new SingleBar({ format: 'reads      [{bar}] {value}/{total}' }, Presets.shades_classic);
    reads.start(READS, 0);
    for (let i = 0; i < READS; i++) {
      const skus = Array.from({ length: PER_READ }, () => `AV-${Math.floor(Math.random() * SKUS)}`);
      const path = `/v1/availability?channel=${channels[i % 3]}&${[...new Set(skus)].map((s) => `sku=${s}`).join('&')}`;
      const started = performance.now();
      const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } });
      const body = (await res.json()) as { items?: unknown[] };
      times.push(performance.now() - started);
      if (res.status !== 200 || !body.items?.length) throw new Error(`availability answered ${res.status}`);
      reads.update(i + 1);
    }
    reads.stop();
    server.close();
    times.sort((a, b) => a - b);
    const at = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))].toFixed(1);
    const invariants = await checkInvariants(db);
    console.log(`
Results (${SKUS} SKUs, 3 channels, ${READS} reads of ${PER_READ} SKUs, over HTTP)
  availability read  p50 / p95 / p99   ${at(50)} ms / ${at(95)} ms / ${at(99)} ms   (target p99 <= 50 ms)
  channel rules: market = ${JSON.stringify(await channelByCode(db, 'market').then((c) => c && { bufferUnits: c.bufferUnits, bufferPct: c.bufferPct }))}

Invariants:
${formatInvariants(invariants)}`);
    if (invariants.some((r) => !r.ok)) process.exitCode = 1;
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
