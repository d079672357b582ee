/**
 * Returns: return authorisations (RMA) and their lines, receipts, inspections
 * with the disposition chosen by quality rules (kept as data, per SKU or
 * category), credit notes, and refunds recorded as intents before the provider is called.
 */
import type { Knex } from 'knex';

export const CONDITIONS = ['new', 'opened', 'damaged', 'defective'] as const;
export const DISPOSITIONS = ['restock', 'repair', 'quarantine', 'scrap'] as const;
export const RETURN_STATUSES = [
  'requested',
  'authorised',
  'partially_received',
  'received',
  'inspected',
  'awaiting_decision',
  'refunding',
  'refunded',
  'rejected',
  'replacement_ordered',
  'replaced',
  'expired',
  'closed',
] as const;
const list = (xs: readonly string[]) => xs.map((x) => `'${x}'`).join(',');

export async function up(k: Knex): Promise<void> {
  await k.schema.alterTable('products', (t) => {
    t.text('category'); // quality rules and reports group by it
  });

  await k.raw(`CREATE SEQUENCE rma_number_seq`);
  await k.schema.createTable('returns', (t) => {
    t.uuid('id').primary();
    t.text('rma_number');
    t.uuid('order_id').notNullable().references('sales_orders.id');
    t.text('workflow_id').notNullable().unique();
    t.text('status').notNullable().defaultTo('requested');
    t.text('resolution').notNullable();
    t.text('note');
    t.text('label_carrier');
    t.text('label_tracking');
    t.bigInteger('refund_amount');
    t.uuid('replacement_order_id');
    t.text('outcome_reason');
    t.timestamp('requested_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
  });
  await k.raw(`ALTER TABLE returns
    ADD CONSTRAINT returns_status CHECK (status IN (${list(RETURN_STATUSES)})),
    ADD CONSTRAINT returns_resolution CHECK (resolution IN ('refund','replacement'))`);
  await k.raw(`CREATE INDEX returns_order ON returns (order_id)`);

  await k.schema.createTable('return_lines', (t) => {
    t.increments('id');
    t.uuid('return_id').notNullable().references('returns.id');
    t.integer('order_line_id').notNullable().references('sales_order_lines.id');
    t.integer('product_id').notNullable().references('products.id');
    t.integer('quantity').notNullable();
    t.text('reason').notNullable();
    t.integer('quantity_received').notNullable().defaultTo(0);
    t.integer('quantity_inspected').notNullable().defaultTo(0);
    t.unique(['return_id', 'order_line_id']);
  });
  await k.raw(`ALTER TABLE return_lines
    ADD CONSTRAINT return_lines_qty CHECK (quantity > 0 AND quantity_received >= 0 AND quantity_received <= quantity AND quantity_inspected >= 0 AND quantity_inspected <= quantity_received)`);

  await k.schema.createTable('return_receipts', (t) => {
    t.uuid('id').primary();
    t.uuid('return_id').notNullable().references('returns.id');
    t.integer('warehouse_id').notNullable().references('warehouses.id');
    t.jsonb('lines').notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
  });

  await k.schema.createTable('return_inspections', (t) => {
    t.uuid('id').primary();
    t.integer('return_line_id').notNullable().references('return_lines.id');
    t.integer('quantity').notNullable();
    t.text('condition').notNullable();
    t.text('disposition').notNullable();
    t.timestamp('inspected_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
  });
  await k.raw(`ALTER TABLE return_inspections
    ADD CONSTRAINT return_inspections_qty CHECK (quantity > 0),
    ADD CONSTRAINT return_inspections_condition CHECK (condition IN (${list(CONDITIONS)})),
    ADD CONSTRAINT return_inspections_disposition CHECK (disposition IN (${list(DISPOSITIONS)}))`);

  // Quality rules: the most specific match wins (SKU, then category, then the default with neither).
  await k.schema.createTable('quality_rules', (t) => {
    t.increments('id');
    t.text('sku');
    t.text('category');
    t.text('condition').notNullable();
    t.text('disposition').notNullable();
  });
  await k.raw(`ALTER TABLE quality_rules
    ADD CONSTRAINT quality_rules_condition CHECK (condition IN (${list(CONDITIONS)})),
    ADD CONSTRAINT quality_rules_disposition CHECK (disposition IN (${list(DISPOSITIONS)}))`);
  await k.raw(
    `CREATE UNIQUE INDEX quality_rules_unique ON quality_rules (COALESCE(sku, ''), COALESCE(category, ''), condition)`,
  );
  await k('quality_rules').insert([
    { condition: 'new', disposition: 'restock' },
    { condition: 'opened', disposition: 'restock' },
    { condition: 'damaged', disposition: 'repair' },
    { condition: 'defective', disposition: 'quarantine' },
    { category: 'homeware', condition: 'damaged', disposition: 'scrap' }, // a chipped mug is not repaired
    { category: 'hygiene', condition: 'opened', disposition: 'scrap' },
  ]);

  await k.raw(`CREATE SEQUENCE credit_note_number_seq`);
  await k.schema.createTable('credit_notes', (t) => {
    t.uuid('id').primary();
    t.text('number').notNullable().unique();
    t.uuid('return_id').notNullable().unique().references('returns.id');
    t.uuid('order_id').notNullable().references('sales_orders.id');
    t.uuid('invoice_id').notNullable().references('invoices.id');
    t.text('currency').notNullable();
    t.bigInteger('net').notNullable();
    t.bigInteger('tax').notNullable();
    t.bigInteger('total').notNullable();
    t.timestamp('issued_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
  });
  await k.raw(
    `ALTER TABLE credit_notes ADD CONSTRAINT credit_notes_total CHECK (net >= 0 AND tax >= 0 AND total = net + tax)`,
  );

  // A refund is recorded as an intent ('pending') before the provider is called.
  await k.raw(
    `ALTER TABLE payments DROP CONSTRAINT payments_status, ADD CONSTRAINT payments_status CHECK (status IN ('pending','succeeded','failed'))`,
  );
  await k.schema.alterTable('payments', (t) => {
    t.uuid('return_id').references('returns.id');
    t.uuid('parent_payment_id').references('payments.id'); // a refund draws on one capture
  });
  await k.raw(`CREATE INDEX payments_return ON payments (return_id) WHERE return_id IS NOT NULL`);
}

export async function down(k: Knex): Promise<void> {
  await k.raw('DROP INDEX IF EXISTS payments_return');
  await k.schema.alterTable('payments', (t) => {
    t.dropColumn('parent_payment_id');
    t.dropColumn('return_id');
  });
  await k.raw(
    `ALTER TABLE payments DROP CONSTRAINT payments_status, ADD CONSTRAINT payments_status CHECK (status IN ('succeeded','failed'))`,
  );
  for (const table of [
    'credit_notes',
    'quality_rules',
    'return_inspections',
    'return_receipts',
    'return_lines',
    'returns',
  ])
    await k.schema.dropTable(table);
  await k.raw('DROP SEQUENCE credit_note_number_seq');
  await k.raw('DROP SEQUENCE rma_number_seq');
  await k.schema.alterTable('products', (t) => t.dropColumn('category'));
}
