/** Shipping: one shipment per warehouse and order wave, its lines, and every event reported for it. */
import type { Knex } from 'knex';

export const SHIPMENT_STATUSES = [
  'pending',
  'picked',
  'packed',
  'shipped',
  'delivered',
  'failed',
  'cancelled',
] as const;

export async function up(k: Knex): Promise<void> {
  await k.schema.createTable('shipments', (t) => {
    t.uuid('id').primary();
    t.uuid('order_id').notNullable().references('sales_orders.id');
    t.integer('warehouse_id').notNullable().references('warehouses.id');
    t.integer('wave').notNullable(); // 1 for the first allocation, 2+ for backorders released later
    t.text('status').notNullable().defaultTo('pending');
    t.text('carrier');
    t.text('tracking_number');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
    t.timestamp('shipped_at', { useTz: true });
    t.timestamp('delivered_at', { useTz: true });
    t.unique(['order_id', 'warehouse_id', 'wave']);
  });
  await k.raw(
    `ALTER TABLE shipments ADD CONSTRAINT shipments_status CHECK (status IN (${SHIPMENT_STATUSES.map((s) => `'${s}'`).join(',')}))`,
  );
  await k.raw(
    `CREATE INDEX shipments_pending ON shipments (status, created_at) WHERE status IN ('pending','picked','packed','shipped')`,
  );
  await k.raw(`CREATE INDEX shipments_tracking ON shipments (tracking_number) WHERE tracking_number IS NOT NULL`);
  await k.schema.createTable('shipment_lines', (t) => {
    t.uuid('shipment_id').notNullable().references('shipments.id');
    t.integer('order_line_id').notNullable().references('sales_order_lines.id');
    t.integer('quantity').notNullable();
    t.primary(['shipment_id', 'order_line_id']);
  });
  await k.raw(`ALTER TABLE shipment_lines ADD CONSTRAINT shipment_lines_qty CHECK (quantity > 0)`);
  await k.schema.createTable('shipment_events', (t) => {
    t.bigIncrements('id');
    t.uuid('shipment_id').notNullable().references('shipments.id');
    t.text('type').notNullable();
    t.text('carrier');
    t.text('tracking_number');
    t.text('note');
    t.text('source').notNullable(); // api, webhook
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(k.fn.now());
  });
  await k.raw(`CREATE INDEX shipment_events_shipment ON shipment_events (shipment_id, at)`);
}

export async function down(k: Knex): Promise<void> {
  await k.schema.dropTable('shipment_events');
  await k.schema.dropTable('shipment_lines');
  await k.schema.dropTable('shipments');
}
