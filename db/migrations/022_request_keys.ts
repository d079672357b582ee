/**
 * The client's request key (its Idempotency-Key, scoped to its API key and route) on records a POST
 * creates outside a natural business key, so a retry after a lost answer finds the record instead of
 * making a second one, even when the API died between writing it and answering.
 */
import type { Knex } from 'knex';

export async function up(k: Knex): Promise<void> {
  for (const table of ['purchase_orders', 'returns']) {
    await k.schema.alterTable(table, (t) => {
      t.text('request_key').unique();
    });
  }
}

export async function down(k: Knex): Promise<void> {
  for (const table of ['purchase_orders', 'returns']) {
    await k.schema.alterTable(table, (t) => {
      t.dropColumn('request_key');
    });
  }
}
