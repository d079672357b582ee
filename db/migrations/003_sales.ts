/** Sales: channels, customers, sales orders and their lines. */
import type { Knex } from 'knex';

export const ORDER_STATUSES = [
  'received',
  'on_hold',
  'reserved',
  'backordered',
  'fulfilling',
  'shipped',
  'completed',
  'cancelled',
] as const;

export async function up(k: Knex): Promise<void> {
  await k.schema.createTable('channels', (t) => {
    t.increments('id');
    t.text('code').notNullable().unique();
    t.text('name').notNullable();
    t.integer('safety_buffer').notNullable().defaultTo(0);
    t.integer('return_window_days').notNullable().defaultTo(30);
  });
  await k.schema.createTable('customers', (t) => {
    t.increments('id');
    t.text('email').notNullable().unique(); // stored lower-case
    t.text('name').notNullable();
    t.timestamps(true, true);
  });
  await k.schema.createTable('sales_orders', (t) => {
    t.uuid('id').primary();
    t.integer('channel_id').notNullable().references('channels.id');
    t.text('external_ref').notNullable();
    t.text('workflow_id').notNullable().unique();
    t.integer('customer_id').notNullable().references('customers.id');
    t.text('currency').notNullable();
    t.text('status').notNullable().defaultTo('received');
    t.text('backorder_policy').notNullable();
    t.jsonb('shipping_address').notNullable();
    t.text('payment_method').notNullable();
    t.bigInteger('subtotal').notNullable();
    t.bigInteger('shipping_price').notNullable().defaultTo(0);
    t.integer('shipping_tax_rate_bp').notNullable().defaultTo(0);
    t.bigInteger('tax_total').notNullable();
    t.bigInteger('total').notNullable();
    t.text('cancel_reason');
    t.timestamp('placed_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
    t.unique(['channel_id', 'external_ref']);
  });
  await k.raw(`ALTER TABLE sales_orders
    ADD CONSTRAINT sales_orders_status CHECK (status IN (${ORDER_STATUSES.map((s) => `'${s}'`).join(',')})),
    ADD CONSTRAINT sales_orders_policy CHECK (backorder_policy IN ('ship_available','wait','cancel')),
    ADD CONSTRAINT sales_orders_amounts CHECK (subtotal >= 0 AND shipping_price >= 0 AND tax_total >= 0 AND total = subtotal + shipping_price + tax_total)`);
  await k.raw(`CREATE INDEX sales_orders_customer ON sales_orders (customer_id, placed_at DESC)`);
  await k.raw(`CREATE INDEX sales_orders_status ON sales_orders (status, placed_at)`);
  await k.schema.createTable('sales_order_lines', (t) => {
    t.increments('id');
    t.uuid('order_id').notNullable().references('sales_orders.id');
    t.integer('line_no').notNullable();
    t.integer('product_id').notNullable().references('products.id');
    t.integer('quantity').notNullable();
    t.bigInteger('unit_price').notNullable();
    t.integer('tax_rate_bp').notNullable();
    t.bigInteger('net').notNullable();
    t.bigInteger('tax').notNullable();
    t.integer('quantity_shipped').notNullable().defaultTo(0);
    t.integer('quantity_cancelled').notNullable().defaultTo(0);
    t.unique(['order_id', 'line_no']);
  });
  await k.raw(`ALTER TABLE sales_order_lines
    ADD CONSTRAINT sol_qty CHECK (quantity > 0 AND unit_price >= 0 AND net = quantity * unit_price AND tax >= 0),
    ADD CONSTRAINT sol_progress CHECK (quantity_shipped >= 0 AND quantity_cancelled >= 0 AND quantity_shipped + quantity_cancelled <= quantity)`);
}

export async function down(k: Knex): Promise<void> {
  await k.schema.dropTable('sales_order_lines');
  await k.schema.dropTable('sales_orders');
  await k.schema.dropTable('customers');
  await k.schema.dropTable('channels');
}
