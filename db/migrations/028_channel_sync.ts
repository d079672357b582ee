/** Where each channel's sync stands: the last change it pushed and the marketplace acknowledged, and the last error. */
import type { Knex } from 'knex';

export async function up(k: Knex): Promise<void> {
  await k.schema.createTable('channel_sync', (t) => {
    t.integer('channel_id').primary().references('channels.id');
    t.bigInteger('cursor').notNullable().defaultTo(0); // the feed position everything before which is pushed
    t.integer('pushed_items').notNullable().defaultTo(0);
    t.integer('push_calls').notNullable().defaultTo(0);
    t.text('last_error');
    t.timestamp('last_pushed_at', { useTz: true });
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
  });
}

export async function down(k: Knex): Promise<void> {
  await k.schema.dropTable('channel_sync');
}
