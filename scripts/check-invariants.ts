/**
 * `npm run check:invariants [-- --database-url URL] [-- --temporal-address HOST:PORT]`: exits 1 when any
 * invariant is broken. The process invariants (no record waits on an ended process) also ask Temporal;
 * without it they are reported as not checked.
 */
import { Client, Connection } from '@temporalio/client';
import { findOrphans } from '../activities/exceptions/orphans';
import { createDb } from '../db';
import { cliFlags } from '../lib/cli';
import { dataConverter } from '../lib/payload-codec';
import { loadConfig } from '../lib/config';
import { checkInvariants, formatInvariants, orphanInvariants, type InvariantResult } from '../db/invariants';

const flags = cliFlags('npm run check:invariants -- [flags]', {
  'database-url': { type: 'string', help: 'the database to check (default DATABASE_URL)' },
  'temporal-address': { type: 'string', help: 'Temporal, for the process invariants (default TEMPORAL_ADDRESS)' },
});

async function processInvariants(
  db: ReturnType<typeof createDb>,
  address: string,
  namespace: string,
): Promise<InvariantResult[] | string> {
  const connection = await Connection.connect({ address, connectTimeout: 3000 }).catch((err: Error) => err);
  if (connection instanceof Error)
    return `not checked: Temporal at ${address} did not answer (${connection.message}); pass --temporal-address or set TEMPORAL_ADDRESS`;
  try {
    return orphanInvariants(
      await findOrphans(
        db,
        new Client({ connection, namespace, dataConverter: dataConverter(loadConfig(process.env)) }),
      ),
    );
  } finally {
    await connection.close();
  }
}

(async () => {
  const { config } = await import('../lib/config');
  const c = config();
  const db = createDb(flags['database-url'] ?? c.DATABASE_URL, 1);
  try {
    const results = await checkInvariants(db);
    const processes = await processInvariants(
      db,
      flags['temporal-address'] ?? c.TEMPORAL_ADDRESS,
      c.TEMPORAL_NAMESPACE,
    );
    if (typeof processes !== 'string') results.push(...processes);
    console.log(formatInvariants(results));
    if (typeof processes === 'string') console.log(`skip process invariants ${processes}`);
    const failed = results.filter((r) => !r.ok).length;
    console.log(
      failed
        ? `${failed} invariant(s) broken. Orphaned records are closed by the exception sweep (every EXCEPTION_SWEEP_INTERVAL) with an engineering case each.`
        : 'All invariants hold.',
    );
    process.exitCode = failed ? 1 : 0;
  } finally {
    await db.destroy();
  }
})().catch((err) => {
  console.error(`Cannot check invariants: ${err.message}. Is DATABASE_URL right and migrated?`);
  process.exit(2);
});
