/**
 * A stack of its own for a benchmark: a fresh Temporal dev server and database, the worker and the API each in
 * its own process (as production runs them, with a prebuilt workflow bundle), the simulated warehouse and
 * carrier, and a meter of each process's CPU. `stop()` tears it all down.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTemporalBinary, freePort, startDevServerOnFreePorts, waitForPort } from '../lib/temporal-dev-server';
import type { Db } from '../db';
import { cpuMeter } from './cpu';

/** Peak (VmHWM) or current (VmRSS) resident memory of a process, in MiB. */
export function memoryMiB(pid: number, which: 'VmHWM' | 'VmRSS' = 'VmHWM'): number {
  const m = new RegExp(`${which}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN;
};

/** Runs `work` over `items`, `width` at a time. */
export async function pool<T>(items: T[], width: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

const running = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;

function spawnTs(file: string, env: NodeJS.ProcessEnv): ChildProcess {
  // node --import tsx runs the TypeScript in this one process, so its pid is the worker's.
  return spawn(process.execPath, ['--import', 'tsx', file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export interface BenchStack {
  env: Record<string, string>;
  db: Db;
  apiUrl: string;
  keys: { storefront: string; warehouse: string };
  temporalAddress: string;
  worker: ChildProcess;
  /** A worker of its own with these extra settings (the first one is started for you). */
  startWorker(extra?: Record<string, string>): ChildProcess;
  /** Any TypeScript file as a process of the stack, with the stack's environment and these extras. */
  spawn(file: string, extra?: Record<string, string>): ChildProcess;
  /** Another API process on a port of its own (scale-out); answers its URL once it listens. */
  startApi(): Promise<string>;
  stopWorker(w: ChildProcess): Promise<void>;
  /** Starts counting CPU seconds per process; the function answers what each used since. */
  meterCpu(): () => Record<string, number>;
  startSimulator(): { stop(): Promise<void> };
  /** Stops everything; drops the database when `keepDatabase` is false. */
  stop(keepDatabase: boolean): Promise<void>;
}

export async function startBenchStack(
  name: string,
  seed: (db: Db) => Promise<void>,
  extraEnv: Record<string, string> = {},
): Promise<BenchStack> {
  const binary = findTemporalBinary();
  if (!binary) throw new Error('No temporal CLI: run `npm run temporal:binary` (needs Go) or set TEMPORAL_BINARY');
  const tmp = mkdtempSync(join(tmpdir(), 'erp-bench-'));
  const server = await startDevServerOnFreePorts(binary, { dbFilename: join(tmp, 'temporal.db') });
  const dbUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  dbUrl.pathname = `/erp_bench_${name}_${Date.now()}`;
  const env: Record<string, string> = {
    DATABASE_URL: dbUrl.toString(),
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_TASK_QUEUE: 'bench',
    LOG_LEVEL: 'warn',
    API_PORT: String(await freePort()),
    FULFILMENT_TIMEOUT: '1h',
    ...extraEnv,
  };
  Object.assign(process.env, env);
  const children: ChildProcess[] = [];
  const { ensureDatabase, migrate, dropDatabase } = await import('../db/migrate');
  const { createDb } = await import('../db');
  const { createApiKey } = await import('../api/auth');
  const { ensureChannel, ensureTaxRate, ensureWarehouse } = await import('../db/seeds/master-data');
  await ensureDatabase(env.DATABASE_URL);
  const db = createDb(env.DATABASE_URL, 20);
  await migrate(db);
  await ensureWarehouse(db, { code: 'EAST', name: 'East', priority: 10 });
  await ensureWarehouse(db, { code: 'WEST', name: 'West', priority: 20 });
  await ensureChannel(db, { code: 'web', name: 'Web' });
  await ensureTaxRate(db, { country: 'DE', rateBp: 1900, name: 'DE VAT' });
  await seed(db);
  const keys = {
    storefront: (await createApiKey(db, 'bench storefront', ['storefront'])).key,
    warehouse: (await createApiKey(db, 'bench warehouse', ['warehouse'])).key,
  };
  // As production runs it: the workflow bundle built beforehand, not by webpack inside the worker.
  const { buildWorkflowBundle } = await import('../scripts/build-workflows');
  const bundle = await buildWorkflowBundle(join(tmp, 'workflows.js'));
  const spawnInStack = (file: string, extra: Record<string, string> = {}) => {
    const child = spawnTs(file, { ...env, ...extra });
    children.push(child);
    return child;
  };
  // Every worker and API process, so the CPU meter counts all of them.
  const workers: ChildProcess[] = [];
  const apis: ChildProcess[] = [];
  const startWorker = (extra: Record<string, string> = {}) => {
    const w = spawnInStack(join(__dirname, '..', 'workers', 'main.ts'), { WORKFLOW_BUNDLE: bundle, ...extra });
    workers.push(w);
    return w;
  };
  const startApi = async (port?: number) => {
    const p = port ?? (await freePort());
    apis.push(spawnInStack(join(__dirname, '..', 'api', 'server.ts'), { API_PORT: String(p) }));
    await waitForPort('127.0.0.1', p, 60_000);
    return `http://127.0.0.1:${p}`;
  };
  const worker = startWorker();
  const apiUrl = await startApi(Number(env.API_PORT));
  const { loadConfig, webhookSecrets } = await import('../lib/config');
  return {
    env,
    db,
    apiUrl,
    keys,
    temporalAddress: server.address,
    worker,
    startWorker,
    spawn: spawnInStack,
    startApi: () => startApi(),
    stopWorker: async (w) => {
      const exited = new Promise((r) => w.once('exit', r));
      w.kill('SIGINT');
      await exited;
    },
    meterCpu: () =>
      cpuMeter({
        'temporal server': server.process.pid!,
        ...Object.fromEntries(workers.filter(running).map((w, i) => [`worker${i ? ` ${i + 1}` : ''}`, w.pid!])),
        ...Object.fromEntries(apis.filter(running).map((a, i) => [`api${i ? ` ${i + 1}` : ''}`, a.pid!])),
        postgres: 'postgres',
        'load generator + simulator': process.pid,
      }),
    startSimulator: () => {
      const { startSimulator } = require('../scripts/simulator') as typeof import('../scripts/simulator');
      return startSimulator({
        apiUrl,
        warehouseKey: keys.warehouse,
        webhookSecret: webhookSecrets(loadConfig(process.env), 'carrier')[0],
        pace: 0,
        failureRate: 0,
      });
    },
    stop: async (keepDatabase) => {
      await db.destroy();
      for (const c of children) c.kill('SIGINT');
      await server.stop();
      rmSync(tmp, { recursive: true, force: true });
      if (keepDatabase) console.log(`Database kept for inspection: ${env.DATABASE_URL}`);
      else await dropDatabase(env.DATABASE_URL);
    },
  };
}
