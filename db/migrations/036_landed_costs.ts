/**
 * Landed costs: freight, duty and insurance billed for goods already received, spread over the receipt lines
 * of a purchase order (by value, quantity or weight). The share of units still on hand raises their average
 * cost; the share of units already sold goes to cost of goods sold. Owed to the carrier, customs or insurer on
 * their own account (2060), so supplier payables (and their invariant) are untouched.
 */
import type { Knex } from 'knex';

export const LANDED_COST_KINDS = ['freight', 'duty', 'insurance'] as const;
export const ALLOCATION_METHODS = ['value', 'quantity', 'weight'] as const;
const list = (xs: readonly string[]) => xs.map((x) => `'${x}'`).join(',');

export async function up(k: Knex): Promise<void> {
  await k.schema.alterTable('products', (t) => {
    t.integer('weight_grams'); // one unit's shipping weight
  });
  await k('accounts').insert({ code: '2060', name: 'Landed costs payable', type: 'liability' });
  await k.schema.createTable('landed_costs', (t) => {
    t.uuid('id').primary();
    t.uuid('po_id').notNullable().references('purchase_orders.id');
    t.text('kind').notNullable();
    t.text('method').notNullable();
    t.bigInteger('amount').notNullable();
    t.text('currency').notNullable();
    t.text('bill_ref').notNullable(); // the carrier's, customs' or insurer's bill
    t.text('billed_by').notNullable();
    t.text('recorded_by');
    t.bigInteger('entry_id').references('journal_entries.id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
    t.unique(['po_id', 'kind', 'bill_ref']); // one bill is booked once
  });
  await k.raw(`ALTER TABLE landed_costs ADD CONSTRAINT landed_costs_values
    CHECK (amount > 0 AND kind IN (${list(LANDED_COST_KINDS)}) AND method IN (${list(ALLOCATION_METHODS)}))`);
  await k.schema.createTable('landed_cost_allocations', (t) => {
    t.bigIncrements('id');
    t.uuid('landed_cost_id').notNullable().references('landed_costs.id');
    t.integer('product_id').notNullable().references('products.id');
    t.integer('received_units').notNullable();
    t.integer('on_hand_units').notNullable(); // of those, still on hand when the cost was booked
    t.bigInteger('amount').notNullable();
    t.bigInteger('to_inventory').notNullable();
    t.bigInteger('to_cost_of_goods_sold').notNullable();
    t.bigInteger('rounding').notNullable(); // to inventory adjustment, so inventory stays on hand × cost exactly
    t.bigInteger('cost_before').notNullable();
    t.bigInteger('cost_after').notNullable();
    t.unique(['landed_cost_id', 'product_id']);
  });
  await k.raw(`ALTER TABLE landed_cost_allocations ADD CONSTRAINT landed_cost_allocations_sum
    CHECK (amount = to_inventory + to_cost_of_goods_sold AND on_hand_units <= received_units)`);
}

export async function down(k: Knex): Promise<void> {
  await k.schema.dropTable('landed_cost_allocations');
  await k.schema.dropTable('landed_costs');
  await k('accounts').where({ code: '2060' }).delete();
  await k.schema.alterTable('products', (t) => t.dropColumn('weight_grams'));
}
