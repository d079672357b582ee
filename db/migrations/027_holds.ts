/**
 * Checkout holds: units a storefront holds for a shopper while they pay, for a channel, until a deadline.
 * Held units are reservations (so on hand, reserved and every invariant stay as they are) that belong to a
 * hold instead of an order line; an order placed with the hold takes them over in one step.
 */
import type { Knex } from 'knex';

export const HOLD_STATUSES = ['active', 'released', 'expired', 'consumed'] as const;

export async function up(k: Knex): Promise<void> {
  await k.schema.createTable('holds', (t) => {
    t.uuid('id').primary();
    t.integer('channel_id').notNullable().references('channels.id');
    t.text('status').notNullable().defaultTo('active');
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.uuid('order_id').references('sales_orders.id'); // the order that claimed it
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
    t.timestamp('ended_at', { useTz: true });
  });
  await k.raw(
    `ALTER TABLE holds ADD CONSTRAINT holds_status CHECK (status IN (${HOLD_STATUSES.map((s) => `'${s}'`).join(',')}))`,
  );
  await k.raw(`CREATE UNIQUE INDEX holds_order ON holds (order_id) WHERE order_id IS NOT NULL`);
  await k.schema.createTable('hold_lines', (t) => {
    t.increments('id');
    t.uuid('hold_id').notNullable().references('holds.id');
    t.integer('product_id').notNullable().references('products.id');
    t.integer('quantity').notNullable();
  });
  await k.raw(`ALTER TABLE hold_lines ADD CONSTRAINT hold_lines_qty CHECK (quantity > 0)`);
  await k.schema.alterTable('reservations', (t) => {
    t.uuid('order_id').nullable().alter();
    t.integer('order_line_id').nullable().alter();
    t.uuid('hold_id').references('holds.id');
    t.integer('hold_line_id').references('hold_lines.id');
  });
  await k.raw(`ALTER TABLE reservations ADD CONSTRAINT reservations_owner CHECK (
    (order_id IS NOT NULL AND order_line_id IS NOT NULL AND hold_id IS NULL)
    OR (order_id IS NULL AND hold_id IS NOT NULL AND hold_line_id IS NOT NULL))`);
  await k.raw(`CREATE INDEX reservations_hold ON reservations (hold_id) WHERE hold_id IS NOT NULL`);
  await k.schema.alterTable('sales_orders', (t) => {
    t.uuid('hold_id').references('holds.id');
  });
}

export async function down(k: Knex): Promise<void> {
  await k.schema.alterTable('sales_orders', (t) => t.dropColumn('hold_id'));
  await k.raw(`DELETE FROM reservations WHERE hold_id IS NOT NULL`);
  await k.raw(`ALTER TABLE reservations DROP CONSTRAINT reservations_owner`);
  await k.schema.alterTable('reservations', (t) => {
    t.dropColumns('hold_id', 'hold_line_id');
  });
  await k.schema.alterTable('reservations', (t) => {
    t.uuid('order_id').notNullable().alter();
    t.integer('order_line_id').notNullable().alter();
  });
  await k.schema.dropTable('hold_lines');
  await k.schema.dropTable('holds');
}
