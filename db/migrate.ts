/** `npm run migrate`: creates the database if it does not exist, then applies every pending migration. */
import { createDb, Db } from './index';
import { migrationSource } from './migrations';

/** Creates the database named in `url` when missing (connecting to the server's `postgres` database). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`Database name "${name}" must be letters, digits and underscores`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const k = createDb(admin.toString(), 1);
  try {
    const found = await k.raw('SELECT 1 FROM pg_database WHERE datname = ?', [name]);
    if (found.rows.length === 0) await k.raw(`CREATE DATABASE "${name}"`);
  } finally {
    await k.destroy();
  }
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
    console.log(applied.length ? `Applied ${applied.length} migration(s): ${applied.join(', ')}` : 'Database is up to date.');
  })().catch((err) => {
    console.error(`Migration failed: ${err.message}\nCheck DATABASE_URL and that Postgres is running (pg_isready).`);
    process.exit(1);
  });
}
