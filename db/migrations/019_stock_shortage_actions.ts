/** A stock shortage past its wait is decided by a person: wait longer, or cancel. */
import type { Knex } from 'knex';

export async function up(k: Knex): Promise<void> {
  await k('exception_types')
    .where({ type: 'stock_shortage' })
    .update({
      description: 'An order that waits for all its stock is still short after its wait',
      actions: JSON.stringify([
        {
          action: 'keep_waiting',
          effect: 'the order waits another full wait period (and still ships at once when stock arrives)',
        },
        { action: 'cancel', effect: 'the order is cancelled and nothing is charged' },
      ]),
    });
}

export async function down(k: Knex): Promise<void> {
  await k('exception_types')
    .where({ type: 'stock_shortage' })
    .update({ actions: JSON.stringify([{ action: 'acknowledge', effect: 'recorded' }]) });
}
