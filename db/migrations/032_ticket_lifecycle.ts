/**
 * Tickets worked to the end: who has a ticket, where it stands (open, pending on the customer, solved,
 * closed), and its conversation: internal notes for colleagues, replies to the customer (sent through the
 * notifications outbox in the same transaction, so a reply is never recorded without being sent, or twice).
 */
import type { Knex } from 'knex';

export async function up(k: Knex): Promise<void> {
  await k.schema.alterTable('tickets', (t) => {
    t.text('assignee');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
  });
  await k.raw(
    `ALTER TABLE tickets ADD CONSTRAINT tickets_status CHECK (status IN ('open', 'pending', 'solved', 'closed'))`,
  );
  await k.schema.createTable('ticket_messages', (t) => {
    t.bigIncrements('id');
    t.uuid('ticket_id').notNullable().references('tickets.id');
    t.text('kind').notNullable().checkIn(['note', 'reply']);
    t.text('author').notNullable();
    t.text('body').notNullable();
    t.uuid('notification_id'); // a reply: the message in the outbox
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
  });
  await k.raw(`CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, id)`);
  await k.raw(`CREATE INDEX tickets_listed ON tickets (created_at DESC, id DESC)`);
}

export async function down(k: Knex): Promise<void> {
  await k.schema.dropTable('ticket_messages');
  await k.raw(`DROP INDEX tickets_listed`);
  await k.raw(`ALTER TABLE tickets DROP CONSTRAINT tickets_status`);
  await k.schema.alterTable('tickets', (t) => {
    t.dropColumn('assignee');
    t.dropColumn('updated_at');
  });
}
