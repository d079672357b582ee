/**
 * The journal read by people: finance pages through it newest first and exports it by period, so entries are
 * indexed by when they were posted (with the id as the tie-breaker the cursor uses).
 */
import type { Knex } from 'knex';

export async function up(k: Knex): Promise<void> {
  await k.raw(`CREATE INDEX journal_entries_posted ON journal_entries (posted_at DESC, id DESC)`);
}

export async function down(k: Knex): Promise<void> {
  await k.raw(`DROP INDEX journal_entries_posted`);
}
