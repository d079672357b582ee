/**
 * Purchasing (procure-to-pay): suppliers and their prices, reorder rules, the
 * planner's runs with the numbers behind every proposal, purchase orders,
 * receipts, vendor bills (and supplier credit notes), supplier payments, and
 * the sandbox supplier and bank, which keep their own records keyed by our
 * idempotency keys like the payment sandbox does.
 */
import type { Knex } from 'knex';

export const PO_STATUSES = [
  'draft',
  'awaiting_approval',
  'approved',
  'rejected',
  'sent',
  'partially_received',
  'received',
  'closed',
  'cancelled',
] as const;
export const BILL_STATUSES = [
  'received',
  'matched',
  'mismatch',
  'accepted',
  'rejected',
  'awaiting_credit_note',
  'credited',
  'paid',
] as const;
const list = (xs: readonly string[]) => xs.map((x) => `'${x}'`).join(',');

export async function up(k: Knex): Promise<void> {
  await k('accounts').insert({ code: '5200', name: 'Purchase price variance', type: 'expense' });

  await k.schema.createTable('suppliers', (t) => {
    t.increments('id');
    t.text('code').notNullable().unique();
    t.text('name').notNullable();
    t.text('currency').notNullable();
    t.text('email');
    t.integer('lead_time_days').notNullable().defaultTo(7); // when a price row does not say
    t.integer('payment_terms_days').notNullable().defaultTo(30);
    t.boolean('active').notNullable().defaultTo(true);
    t.timestamps(true, true);
  });
  await k.raw(
    `ALTER TABLE suppliers ADD CONSTRAINT suppliers_days CHECK (lead_time_days >= 0 AND payment_terms_days >= 0)`,
  );

  await k.schema.createTable('supplier_prices', (t) => {
    t.increments('id');
    t.integer('supplier_id').notNullable().references('suppliers.id');
    t.integer('product_id').notNullable().references('products.id');
    t.bigInteger('unit_price').notNullable();
    t.integer('moq').notNullable().defaultTo(1);
    t.integer('pack_size').notNullable().defaultTo(1);
    t.integer('lead_time_days').notNullable();
    t.unique(['supplier_id', 'product_id']);
  });
  await k.raw(
    `ALTER TABLE supplier_prices ADD CONSTRAINT supplier_prices_values CHECK (unit_price >= 0 AND moq >= 1 AND pack_size >= 1 AND lead_time_days >= 0)`,
  );

  await k.schema.createTable('reorder_rules', (t) => {
    t.increments('id');
    t.integer('product_id').notNullable().references('products.id');
    t.integer('warehouse_id').notNullable().references('warehouses.id');
    t.text('method').notNullable(); // reorder_point: computed from demand; min_max: fixed levels
    t.integer('min_qty');
    t.integer('max_qty');
    t.integer('safety_stock'); // null: derived from demand variability and the service level
    t.decimal('service_level', 5, 4); // null: set by the SKU's ABC class
    t.integer('cover_days'); // null: set by the SKU's ABC class
    t.unique(['product_id', 'warehouse_id']);
  });
  await k.raw(`ALTER TABLE reorder_rules
    ADD CONSTRAINT reorder_rules_method CHECK (method IN ('reorder_point','min_max')),
    ADD CONSTRAINT reorder_rules_min_max CHECK (method <> 'min_max' OR (min_qty IS NOT NULL AND max_qty IS NOT NULL AND min_qty >= 0 AND max_qty >= min_qty)),
    ADD CONSTRAINT reorder_rules_values CHECK ((safety_stock IS NULL OR safety_stock >= 0) AND (service_level IS NULL OR (service_level >= 0.5 AND service_level < 1)) AND (cover_days IS NULL OR cover_days >= 0))`);

  await k.raw(`CREATE SEQUENCE purchase_order_number_seq`);
  await k.schema.createTable('replenishment_runs', (t) => {
    t.uuid('id').primary();
    t.text('trigger').notNullable(); // schedule, manual
    t.timestamp('planned_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
    t.jsonb('result').notNullable();
  });

  await k.schema.createTable('purchase_orders', (t) => {
    t.uuid('id').primary();
    t.text('number').notNullable().unique();
    t.text('workflow_id').notNullable().unique();
    t.integer('supplier_id').notNullable().references('suppliers.id');
    t.integer('warehouse_id').notNullable().references('warehouses.id');
    t.text('status').notNullable().defaultTo('draft');
    t.text('origin').notNullable(); // planner, manual
    t.uuid('run_id').references('replenishment_runs.id');
    t.text('currency').notNullable();
    t.bigInteger('total').notNullable(); // net of tax: the supplier's tax arrives on the bill
    t.text('note');
    t.text('supplier_ref');
    t.text('decided_by');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
    t.timestamp('sent_at', { useTz: true });
    t.timestamp('expected_at', { useTz: true });
    t.timestamp('closed_at', { useTz: true });
  });
  await k.raw(`ALTER TABLE purchase_orders ADD CONSTRAINT purchase_orders_status CHECK (status IN (${list(PO_STATUSES)})),
    ADD CONSTRAINT purchase_orders_total CHECK (total >= 0)`);
  await k.raw(`CREATE INDEX purchase_orders_status ON purchase_orders (status, created_at)`);
  await k.raw(
    `CREATE INDEX purchase_orders_late ON purchase_orders (expected_at) WHERE status IN ('sent','partially_received')`,
  );

  await k.schema.createTable('purchase_order_lines', (t) => {
    t.increments('id');
    t.uuid('po_id').notNullable().references('purchase_orders.id');
    t.integer('product_id').notNullable().references('products.id');
    t.integer('quantity').notNullable();
    t.bigInteger('unit_price').notNullable();
    t.integer('received_qty').notNullable().defaultTo(0); // booked, including units held in quarantine
    t.integer('quarantined_qty').notNullable().defaultTo(0); // over-receipt beyond tolerance awaiting a decision
    t.integer('billed_qty').notNullable().defaultTo(0); // net of credit notes, posted bills only
    t.integer('cancelled_qty').notNullable().defaultTo(0); // the rest, when the order was closed short
    t.jsonb('explanation'); // the planner's numbers, for planned lines
    t.unique(['po_id', 'product_id']);
  });
  await k.raw(`ALTER TABLE purchase_order_lines ADD CONSTRAINT purchase_order_lines_values
    CHECK (quantity > 0 AND unit_price >= 0 AND received_qty >= 0 AND quarantined_qty >= 0 AND quarantined_qty <= received_qty AND billed_qty >= 0 AND cancelled_qty >= 0)`);
  await k.raw(`CREATE INDEX purchase_order_lines_product ON purchase_order_lines (product_id)`);

  await k.schema.createTable('replenishment_lines', (t) => {
    t.bigIncrements('id');
    t.uuid('run_id').notNullable().references('replenishment_runs.id');
    t.integer('product_id').notNullable().references('products.id');
    t.integer('warehouse_id').notNullable().references('warehouses.id');
    t.text('abc_class').notNullable();
    t.integer('projected').notNullable();
    t.integer('reorder_point').notNullable();
    t.integer('proposed_qty').notNullable().defaultTo(0);
    t.boolean('stockout_risk').notNullable().defaultTo(false);
    t.text('decision').notNullable(); // proposed, covered, above_reorder_point, no_supplier
    t.uuid('po_id').references('purchase_orders.id');
    t.jsonb('explanation').notNullable();
  });
  await k.raw(`CREATE INDEX replenishment_lines_run ON replenishment_lines (run_id)`);

  await k.schema.createTable('purchase_receipts', (t) => {
    t.uuid('id').primary();
    t.uuid('po_id').notNullable().references('purchase_orders.id');
    t.integer('warehouse_id').notNullable().references('warehouses.id');
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
  });
  await k.schema.createTable('purchase_receipt_lines', (t) => {
    t.increments('id');
    t.uuid('receipt_id').notNullable().references('purchase_receipts.id');
    t.integer('po_line_id').notNullable().references('purchase_order_lines.id');
    t.integer('quantity').notNullable(); // into stock
    t.integer('quarantined').notNullable().defaultTo(0); // beyond tolerance, held
    t.bigInteger('unit_cost').notNullable();
  });

  await k.schema.createTable('vendor_bills', (t) => {
    t.uuid('id').primary();
    t.uuid('po_id').notNullable().references('purchase_orders.id');
    t.integer('supplier_id').notNullable().references('suppliers.id');
    t.text('supplier_invoice_ref').notNullable();
    t.text('kind').notNullable().defaultTo('bill'); // bill, credit_note
    t.uuid('credit_note_for').references('vendor_bills.id');
    t.text('currency').notNullable();
    t.bigInteger('subtotal').notNullable();
    t.bigInteger('tax').notNullable();
    t.bigInteger('total').notNullable();
    t.text('status').notNullable().defaultTo('received');
    t.jsonb('match'); // the three-way match, line by line
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
    t.timestamp('posted_at', { useTz: true }); // on the books (payable)
    t.timestamp('due_at', { useTz: true });
    t.unique(['supplier_id', 'supplier_invoice_ref']);
  });
  await k.raw(`ALTER TABLE vendor_bills ADD CONSTRAINT vendor_bills_status CHECK (status IN (${list(BILL_STATUSES)})),
    ADD CONSTRAINT vendor_bills_kind CHECK (kind IN ('bill','credit_note') AND (kind = 'bill') = (credit_note_for IS NULL)),
    ADD CONSTRAINT vendor_bills_total CHECK (total = subtotal + tax AND subtotal >= 0 AND tax >= 0)`);
  await k.raw(`CREATE INDEX vendor_bills_po ON vendor_bills (po_id)`);
  await k.schema.createTable('vendor_bill_lines', (t) => {
    t.increments('id');
    t.uuid('bill_id').notNullable().references('vendor_bills.id');
    t.integer('po_line_id').notNullable().references('purchase_order_lines.id');
    t.integer('quantity').notNullable();
    t.bigInteger('unit_price').notNullable();
  });
  await k.raw(
    `ALTER TABLE vendor_bill_lines ADD CONSTRAINT vendor_bill_lines_values CHECK (quantity >= 0 AND unit_price >= 0)`,
  );

  await k.schema.createTable('supplier_payments', (t) => {
    t.uuid('id').primary();
    t.uuid('bill_id').notNullable().unique().references('vendor_bills.id'); // one payment settles a bill and its credit notes
    t.bigInteger('amount').notNullable();
    t.text('bank_reference').notNullable();
    t.timestamp('paid_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
  });
  await k.raw(`ALTER TABLE supplier_payments ADD CONSTRAINT supplier_payments_amount CHECK (amount >= 0)`);

  // The sandbox supplier's order inbox and the sandbox bank's transfers, keyed by our keys.
  await k.schema.createTable('sandbox_supplier_orders', (t) => {
    t.text('idempotency_key').primary();
    t.text('supplier_code').notNullable();
    t.text('supplier_ref').notNullable();
    t.jsonb('payload').notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
  });
  await k.schema.createTable('sandbox_bank_transfers', (t) => {
    t.text('idempotency_key').primary();
    t.text('payee').notNullable();
    t.bigInteger('amount').notNullable();
    t.text('currency').notNullable();
    t.text('reference').notNullable();
    t.text('bank_reference').notNullable();
    t.timestamp('executed_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
  });

  // Cases of purchasing: what each resolution does to the waiting purchase order.
  const actions = (xs: [string, string][]) => JSON.stringify(xs.map(([action, effect]) => ({ action, effect })));
  await k('exception_types')
    .where({ type: 'late_supplier' })
    .update({
      actions: actions([
        ['keep_waiting', 'the order keeps waiting for the goods (another grace period)'],
        ['cancel_rest', 'what has not arrived is cancelled; the order closes on what was received'],
      ]),
    });
  await k('exception_types')
    .where({ type: 'over_receipt' })
    .update({
      actions: actions([
        ['accept', 'the units held in quarantine move into stock and may be billed'],
        ['return_to_supplier', 'the units held in quarantine go back to the supplier'],
      ]),
    });
  await k('exception_types')
    .where({ type: 'three_way_mismatch' })
    .update({
      actions: actions([
        ['accept_bill', 'the bill is posted as billed; price differences go to purchase price variance'],
        ['reject_bill', 'the bill is refused; the order waits for a new bill'],
        [
          'await_credit_note',
          'the bill is held until the supplier credit note (POST bills with creditNoteFor) arrives, then matched again',
        ],
      ]),
    });
}

export async function down(k: Knex): Promise<void> {
  for (const t of [
    'sandbox_bank_transfers',
    'sandbox_supplier_orders',
    'supplier_payments',
    'vendor_bill_lines',
    'vendor_bills',
    'purchase_receipt_lines',
    'purchase_receipts',
    'replenishment_lines',
    'purchase_order_lines',
    'purchase_orders',
    'replenishment_runs',
    'reorder_rules',
    'supplier_prices',
    'suppliers',
  ]) {
    await k.schema.dropTable(t);
  }
  await k.raw('DROP SEQUENCE purchase_order_number_seq');
  await k('accounts').where({ code: '5200' }).delete();
}
