/** A channel out of sync past a threshold is a case for ops; it closes itself when the channel catches up. */
import type { Knex } from 'knex';

export async function up(k: Knex): Promise<void> {
  await k('exception_types').insert({
    type: 'channel_sync_failed',
    queue: 'ops',
    severity: 'high',
    sla: '1h',
    second_sla: '4h',
    description:
      'A channel has not taken its stock levels for longer than the alert threshold: it may be selling what is gone',
    actions: JSON.stringify([
      {
        action: 'acknowledge',
        effect: 'recorded while the connection is fixed; the case closes itself once the channel catches up',
      },
    ]),
  });
}

export async function down(k: Knex): Promise<void> {
  await k('exception_types').where({ type: 'channel_sync_failed' }).delete();
}
