/**
 * Inventory as double entry. A stock move takes quantity from one location to
 * another; quants are the materialised on-hand and reserved balance of each
 * internal location, kept equal to the sum of done moves in the same
 * transaction as the move. Reservations hold stock for order lines.
 */
import type { Knex } from 'knex';

export async function up(k: Knex): Promise<void> {
  await k.schema.createTable('stock_moves', (t) => {
    t.bigIncrements('id');
    t.integer('product_id').notNullable().references('products.id');
    t.integer('from_location_id').notNullable().references('locations.id');
    t.integer('to_location_id').notNullable().references('locations.id');
    t.integer('quantity').notNullable();
    t.text('state').notNullable().defaultTo('done');
    t.bigInteger('unit_cost').notNullable().defaultTo(0);
    t.text('source_type').notNullable(); // shipment, adjustment, seed, receipt, return...
    t.text('source_id').notNullable();
    t.text('idempotency_key').notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
  });
  await k.raw(`ALTER TABLE stock_moves
    ADD CONSTRAINT stock_moves_qty CHECK (quantity > 0),
    ADD CONSTRAINT stock_moves_distinct CHECK (from_location_id <> to_location_id),
    ADD CONSTRAINT stock_moves_state CHECK (state IN ('done','cancelled'))`);
  await k.raw(`CREATE INDEX stock_moves_product ON stock_moves (product_id, created_at)`);
  await k.raw(`CREATE INDEX stock_moves_source ON stock_moves (source_type, source_id)`);

  await k.schema.createTable('quants', (t) => {
    t.integer('location_id').notNullable().references('locations.id');
    t.integer('product_id').notNullable().references('products.id');
    t.integer('on_hand').notNullable().defaultTo(0);
    t.integer('reserved').notNullable().defaultTo(0);
    t.primary(['location_id', 'product_id']);
  });
  // The anti-oversell guarantee lives here: no code path can make these false.
  await k.raw(`ALTER TABLE quants
    ADD CONSTRAINT quants_on_hand_non_negative CHECK (on_hand >= 0),
    ADD CONSTRAINT quants_reserved_within_on_hand CHECK (reserved >= 0 AND reserved <= on_hand)`);
  await k.raw(`CREATE INDEX quants_product ON quants (product_id)`);

  await k.schema.createTable('reservations', (t) => {
    t.bigIncrements('id');
    t.uuid('order_id').notNullable().references('sales_orders.id');
    t.integer('order_line_id').notNullable().references('sales_order_lines.id');
    t.integer('warehouse_id').notNullable().references('warehouses.id');
    t.integer('location_id').notNullable().references('locations.id');
    t.integer('product_id').notNullable().references('products.id');
    t.integer('quantity').notNullable(); // units of product_id held
    t.integer('line_units').notNullable(); // units of the order line this covers (kits: kits, not components)
    t.uuid('allocation_id').notNullable(); // the rows of one kit allocation share it, so line units count once
    t.text('state').notNullable().defaultTo('active');
    t.uuid('shipment_id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
  });
  await k.raw(`ALTER TABLE reservations
    ADD CONSTRAINT reservations_qty CHECK (quantity > 0 AND line_units > 0),
    ADD CONSTRAINT reservations_state CHECK (state IN ('active','consumed','released'))`);
  await k.raw(`CREATE INDEX reservations_order ON reservations (order_id, state)`);
  await k.raw(`CREATE INDEX reservations_active ON reservations (location_id, product_id) WHERE state = 'active'`);
}

export async function down(k: Knex): Promise<void> {
  await k.schema.dropTable('reservations');
  await k.schema.dropTable('quants');
  await k.schema.dropTable('stock_moves');
}
