/** `npm run migrate`: creates the database if it does not exist, then applies every pending migration. */
import { createDb, Db } from './index';
import { migrationSource } from './migrations';

/** Runs `work` on the server's `postgres` database, with the name of the database `url` points at. */
async function onServer(url: string, work: (k: Db, name: string) => Promise<void>): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`Database name "${name}" must be letters, digits and underscores`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const k = createDb(admin.toString(), 1);
  try {
    await work(k, name);
  } finally {
    await k.destroy();
  }
}

/** Creates the database named in `url` when missing. */
export async function ensureDatabase(url: string): Promise<void> {
  await onServer(url, async (k, name) => {
    const found = await k.raw('SELECT 1 FROM pg_database WHERE datname = ?', [name]);
    if (found.rows.length === 0) await k.raw(`CREATE DATABASE "${name}"`);
  });
}

/** Drops the database named in `url` (test runs and benchmarks clean up after themselves). */
export async function dropDatabase(url: string): Promise<void> {
  await onServer(url, async (k, name) => {
    await k.raw(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
}

export async function migrate(database: Db): Promise<string[]> {
  const [, applied] = await database.migrate.latest({ migrationSource });
  return applied as string[];
}

if (require.main === module) {
  (async () => {
    const { config } = await import('../lib/config');
    const url = config().DATABASE_URL;
    await ensureDatabase(url);
    const database = createDb(url, 1);
    const applied = await migrate(database);
    await database.destroy();
    console.log(
      applied.length ? `Applied ${applied.length} migration(s): ${applied.join(', ')}` : 'Database is up to date.',
    );
  })().catch((err) => {
    console.error(`Migration failed: ${err.message}\nCheck DATABASE_URL and that Postgres is running (pg_isready).`);
    process.exit(1);
  });
}
