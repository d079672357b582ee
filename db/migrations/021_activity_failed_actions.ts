/** A step that failed for good waits on a person: run it again once the cause is fixed, or give up. */
import type { Knex } from 'knex';

export async function up(k: Knex): Promise<void> {
  await k('exception_types')
    .where({ type: 'activity_failed' })
    .update({
      description: 'A step failed with a non-retryable business error; its process waits',
      actions: JSON.stringify([
        { action: 'retry', effect: 'the step runs again (fix its cause first); failing again opens a new case' },
        {
          action: 'give_up',
          effect: 'the process fails with the original error, visible in the Temporal UI; compensate by hand',
        },
      ]),
    });
}

export async function down(k: Knex): Promise<void> {
  await k('exception_types')
    .where({ type: 'activity_failed' })
    .update({ actions: JSON.stringify([{ action: 'acknowledge', effect: 'recorded' }]) });
}
