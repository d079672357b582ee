/**
 * Marketplace orders in, status out. The sync remembers how far it read the marketplace's order feed; what the
 * marketplace must hear of our orders (a parcel shipped, an order cancelled) is written in the same transaction
 * as the change (an outbox the channel's sync delivers); and two new cases: a buyer cancelled what has already
 * shipped, and a marketplace order this installation cannot take.
 */
import type { Knex } from 'knex';

export async function up(k: Knex): Promise<void> {
  await k.schema.alterTable('channel_sync', (t) => {
    t.bigInteger('orders_cursor').notNullable().defaultTo(0); // the marketplace's order feed, read up to here
    t.timestamp('orders_polled_at', { useTz: true });
  });
  await k.schema.createTable('channel_order_updates', (t) => {
    t.bigIncrements('id');
    t.text('key').notNullable().unique(); // `shipped:<shipment id>` or `cancelled:<order id>`: written once
    t.integer('channel_id').notNullable().references('channels.id');
    t.uuid('order_id').notNullable().references('sales_orders.id');
    t.text('external_ref').notNullable(); // the marketplace's order id
    t.text('kind').notNullable().checkIn(['shipped', 'cancelled']);
    t.jsonb('payload').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
    t.timestamp('sent_at', { useTz: true });
    t.text('outcome'); // 'told', or why the marketplace refused it
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('last_error');
  });
  await k.raw(
    'CREATE INDEX channel_order_updates_pending ON channel_order_updates (channel_id, id) WHERE sent_at IS NULL',
  );
  await k('exception_types').insert([
    {
      type: 'marketplace_cancel_after_shipment',
      queue: 'ops',
      severity: 'medium',
      sla: '8h',
      second_sla: '24h',
      description: 'A buyer cancelled on the marketplace after a parcel had left: it cannot be stopped here',
      actions: JSON.stringify([
        { action: 'acknowledge', effect: 'recorded; the buyer is handled as a return when the parcel comes back' },
      ]),
    },
    {
      type: 'marketplace_order_rejected',
      queue: 'ops',
      severity: 'high',
      sla: '2h',
      second_sla: '8h',
      description: 'A marketplace order could not be taken (unknown SKU, another currency): the buyer waits',
      actions: JSON.stringify([
        { action: 'acknowledge', effect: 'recorded; fix the catalogue or cancel the order on the marketplace' },
      ]),
    },
  ]);
}

export async function down(k: Knex): Promise<void> {
  await k('exception_types')
    .whereIn('type', ['marketplace_cancel_after_shipment', 'marketplace_order_rejected'])
    .delete();
  await k.schema.dropTable('channel_order_updates');
  await k.schema.alterTable('channel_sync', (t) => {
    t.dropColumn('orders_cursor');
    t.dropColumn('orders_polled_at');
  });
}
