/** After the run: the invariant checker over everything the tests did, then the server goes and the database is dropped. */
import { rmSync } from 'node:fs';
import { createDb } from '../db';
import { checkInvariants, formatInvariants } from '../db/invariants';
import { dropDatabase } from '../db/migrate';
import type { DevServer } from '../lib/temporal-dev-server';

export default async function globalTeardown(): Promise<void> {
  const { server, url, files } = (globalThis as Record<string, unknown>).__ERP_TEST__ as { server: DevServer; url: string; files: string[] };
  const db = createDb(url, 1);
  const results = await checkInvariants(db);
  await db.destroy();
  await server.stop();
  for (const f of files) rmSync(f, { force: true });
  process.stderr.write(`\nInvariants over the whole test database:\n${formatInvariants(results)}\n`);
  const broken = results.filter((r) => !r.ok);
  if (broken.length) throw new Error(`${broken.length} invariant(s) broken after the test run (database kept: ${url})`);
  await dropDatabase(url);
}
