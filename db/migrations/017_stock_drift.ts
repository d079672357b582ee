/** A catalogue entry for stock drift, found by the scheduled reconciliation. */
import type { Knex } from 'knex';

export async function up(k: Knex): Promise<void> {
  await k('exception_types').insert({
    type: 'stock_drift',
    queue: 'inventory',
    severity: 'high',
    sla: '8h',
    second_sla: '24h',
    description: 'A stock balance differs from the sum of its moves or reservations',
    actions: JSON.stringify([
      { action: 'acknowledge', effect: 'recorded after the cause was found and fixed' },
      { action: 'recount', effect: 'a cycle count is requested for the location' },
    ]),
  });
}

export async function down(k: Knex): Promise<void> {
  await k('exception_types').where({ type: 'stock_drift' }).delete();
}
