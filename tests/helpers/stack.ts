/**
 * One test file's slice of the real stack: a worker on its own task queue, a
 * Temporal client, and the API listening on a free port, all against the
 * shared dev server and database from global set-up. `stop()` closes them so
 * Jest exits without --forceExit.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { installRuntime } from '../../lib/temporal-runtime';
import { clientTracing } from '../../lib/tracing';
import { dataConverter } from '../../lib/payload-codec';
import { createDb, Db } from '../../db';
import { loadConfig, Config } from '../../lib/config';
import { createApp, listen } from '../../api/app';
import { Lookups } from '../../api/lookups';
import { logStatuses } from './statuses';
import { createApiKey, Role } from '../../api/auth';
import { createWorker } from '../../workers/worker';
import type { PaymentProvider } from '../../activities/payments/provider';

export interface Stack {
  url: string;
  db: Db;
  client: Client;
  config: Config;
  taskQueue: string;
  keys: Record<Role, string>;
  call(
    method: string,
    path: string,
    opts?: { key?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
  stopWorker(): Promise<void>;
  startWorker(): Promise<void>;
}

export const TEST_TIMINGS = {
  RISK_REVIEW_TIMEOUT: '4s',
  BACKORDER_WAIT_TIMEOUT: '6s',
  BACKORDER_RECHECK_INTERVAL: '1s',
  FULFILMENT_TIMEOUT: '1h',
  // Tests read the live timeline. A query on a closed process replays its history on the worker, which on a
  // loaded 2-core CI machine can outlast the 500 ms production default (a landing failed on exactly that).
  // The fallback itself is tested with a short deadline in human-input.test.ts.
  LIVE_VIEW_TIMEOUT_MS: '5000',
};

/** `providers` swaps a sandbox provider for one a test controls (the worker's activities use it). */
export async function startStack(
  env: Record<string, string> = {},
  providers: (db: Db) => { payments?: PaymentProvider } = () => ({}),
): Promise<Stack> {
  installRuntime('warn');
  const taskQueue = `test-${randomUUID().slice(0, 8)}`;
  const config = loadConfig({ ...process.env, ...TEST_TIMINGS, TEMPORAL_TASK_QUEUE: taskQueue, ...env });
  const db = createDb(config.DATABASE_URL, 10);
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const client = new Client({ connection, interceptors: clientTracing(), dataConverter: dataConverter(config) });
  const native = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  const startWorker = async () => {
    worker = await createWorker({
      connection: native,
      namespace: 'default',
      taskQueue,
      db,
      ...providers(db),
      workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! },
      dataConverter: dataConverter(config),
    });
    running = worker.run();
  };
  const stopWorker = async () => {
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
    await running;
    worker = undefined;
  };
  await startWorker();
  const lookups = await new Lookups(db, config.DATABASE_URL).start();
  const app = createApp({ db, temporal: client, config, lookups });
  logStatuses(app);
  const server = await listen(app, 0, '127.0.0.1');
  const addr = server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const keys = {} as Record<Role, string>;
  for (const role of ['storefront', 'warehouse', 'approver', 'ops', 'procurement', 'finance', 'admin'] as Role[]) {
    keys[role] = (await createApiKey(db, `test ${role} ${taskQueue}`, [role])).key;
  }
  return {
    url,
    db,
    client,
    config,
    taskQueue,
    keys,
    startWorker,
    stopWorker,
    async call(method, path, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.key !== null) headers.authorization = `Bearer ${opts.key ?? keys.admin}`;
      if (opts.body !== undefined || opts.raw !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${url}${path}`, {
        method,
        headers,
        body: opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* not JSON: metrics, docs */
      }
      return { status: res.status, body, headers: res.headers };
    },
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stopWorker();
      await native.close();
      await connection.close();
      await lookups.stop();
      await db.destroy();
    },
  };
}

/** Polls `probe` until it returns a truthy value (or throws the last error after `timeoutMs`). */
export async function eventually<T>(
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 30000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`Timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/**
 * A free port below Linux's ephemeral range (32768–60999), for a server a test starts some seconds later: a
 * port the kernel handed out (listen on 0) may be handed again meanwhile to any of the suite's own servers.
 */
export async function portForLater(): Promise<number> {
  const { createServer } = await import('node:net');
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
}
