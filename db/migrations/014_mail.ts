/** The sandbox mail provider's own mailbox: what was actually "sent", keyed by message id so nothing goes out twice. */
import type { Knex } from 'knex';

export async function up(k: Knex): Promise<void> {
  await k.schema.createTable('sandbox_mailbox', (t) => {
    t.text('message_id').primary(); // the notification id, our idempotency key at the provider
    t.text('recipient').notNullable();
    t.text('subject').notNullable();
    t.text('body').notNullable();
    t.timestamp('sent_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
  });
}

export async function down(k: Knex): Promise<void> {
  await k.schema.dropTable('sandbox_mailbox');
}
