/**
 * Nothing waits forever on a dead process: when a process ends (an engineer gave up, someone terminated it)
 * while a record still waits on it, the exception sweep closes the record and opens one of these cases.
 */
import type { Knex } from 'knex';

export async function up(k: Knex): Promise<void> {
  await k('exception_types').insert({
    type: 'orphaned_record',
    queue: 'engineering',
    severity: 'high',
    sla: '4h',
    second_sla: '24h',
    description:
      'A record waited on a process that had ended; the sweep closed it (an approval withdrawn, a case closed, a return closed, a purchase order cancelled or closed)',
    actions: JSON.stringify([
      { action: 'acknowledge', effect: 'recorded after checking the record and its process by hand' },
    ]),
  });
}

export async function down(k: Knex): Promise<void> {
  await k('exception_types').where({ type: 'orphaned_record' }).delete();
}
