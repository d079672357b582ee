/**
 * Once per test run: a real Temporal dev server (the official CLI, found or
 * built as the README describes), a fresh Postgres database with the schema and
 * base master data, and the workflow bundle every test worker loads.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDb } from '../db';
import { ensureDatabase, migrate } from '../db/migrate';
import { findTemporalBinary, startDevServerOnFreePorts } from '../lib/temporal-dev-server';
import { bundleWorkflows } from '../workers/worker';
import { seedBase } from './helpers/fixtures';
import { buildConsole } from '../scripts/build-console';

/** The suite's payload key (also read by the replay test for fixtures recorded with it). */
export const TEST_PAYLOAD_KEYS = 'test-1:dGVzdC1rZXktZm9yLXRoZS1wYXlsb2FkLWNvZGVjMzI=';

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const binary = findTemporalBinary({ log: (l) => process.stderr.write(`${l}\n`) });
  if (!binary) throw new Error('No temporal CLI: install Go (the tests build it) or set TEMPORAL_BINARY');
  const tmp = join(__dirname, '..', '.tmp');
  mkdirSync(tmp, { recursive: true });
  const dbFile = join(tmp, `temporal-test-${process.pid}-${Date.now()}.db`); // fresh per run: never reopen an old store
  const server = await startDevServerOnFreePorts(binary, { dbFilename: dbFile });

  const base = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const url = new URL(base);
  url.pathname = `/erp_test_${Date.now()}_${process.pid}`;
  await ensureDatabase(url.toString());
  const db = createDb(url.toString(), 2);
  await migrate(db);
  await seedBase(db);
  await db.destroy();

  buildConsole((l) => process.stderr.write(`${l}\n`)); // the browser tests drive the console the API serves
  const bundle = await bundleWorkflows();
  const bundlePath = join(tmp, `workflow-bundle-${process.pid}.js`);
  writeFileSync(bundlePath, bundle.code);

  process.env.DATABASE_URL = url.toString();
  process.env.TEMPORAL_ADDRESS = server.address;
  process.env.TEST_WORKFLOW_BUNDLE = bundlePath;
  // Every process of the suite encrypts its payloads (lib/payload-codec.ts) with this fixed test key, so
  // histories recorded as replay fixtures stay readable by later runs. Not a secret: a test key.
  process.env.PAYLOAD_KEYS ??= TEST_PAYLOAD_KEYS;
  process.env.LOG_LEVEL = process.env.LOG_LEVEL ?? 'warn';
  const statusLog = join(tmp, `statuses-${process.pid}.jsonl`); // every answer the tests' APIs gave (helpers/statuses.ts)
  writeFileSync(statusLog, '');
  process.env.TEST_STATUS_LOG = statusLog;
  (globalThis as Record<string, unknown>).__ERP_TEST__ = {
    server,
    url: url.toString(),
    statusLog,
    files: [bundlePath, statusLog, ...['', '-shm', '-wal'].map((x) => `${dbFile}${x}`)],
  };
  process.stderr.write(
    `\nTest stack: temporal ${server.address} (${binary}), postgres ${url.pathname.slice(1)}, ready in ${Date.now() - started} ms\n`,
  );
}
