/**
 * Every API process keeps the API keys and channels it reads on each request in memory (api/lookups.ts). These
 * triggers tell all of them, through Postgres NOTIFY on `erp_changes`, whenever either table is written by any
 * path (the API, a seed, an operator with psql), so a revoked key or a changed channel buffer is dropped from
 * every cache the moment the write commits. NOTIFY inside a transaction is sent at commit, never on rollback.
 */
import type { Knex } from 'knex';

const TABLES = ['api_keys', 'channels', 'channel_warehouses'];

export async function up(k: Knex): Promise<void> {
  await k.raw(`
    CREATE FUNCTION notify_erp_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('erp_changes', TG_TABLE_NAME);
      RETURN NULL;
    END $$`);
  for (const t of TABLES) {
    await k.raw(`CREATE TRIGGER ${t}_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${t}
      FOR EACH STATEMENT EXECUTE FUNCTION notify_erp_change()`);
  }
}

export async function down(k: Knex): Promise<void> {
  for (const t of TABLES) await k.raw(`DROP TRIGGER ${t}_changed ON ${t}`);
  await k.raw(`DROP FUNCTION notify_erp_change()`);
}
