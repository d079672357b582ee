/**
 * The warehouse is the truth. A parcel that left has left: once the warehouse is picking, a cancel is a
 * request it must answer, and the order waits in `cancel_requested` until it confirms the parcel stopped
 * or reports it shipped. A count below what is reserved is recorded anyway: the orders it hurt re-plan,
 * listed in one `stock_shortfall` case per count. Damaged units move out of sellable stock (and repaired
 * ones back) as `stock_transfers`, with the reason.
 */
import type { Knex } from 'knex';
import { ORDER_STATUSES } from './003_sales';

const statuses = (xs: readonly string[]) => xs.map((s) => `'${s}'`).join(',');

export async function up(k: Knex): Promise<void> {
  await k.raw(`ALTER TABLE sales_orders DROP CONSTRAINT sales_orders_status,
    ADD CONSTRAINT sales_orders_status CHECK (status IN (${statuses([...ORDER_STATUSES, 'cancel_requested'])}))`);
  // Units moved between a warehouse's locations by a person (damaged to quarantine, repaired back to stock...), with why.
  await k.schema.createTable('stock_transfers', (t) => {
    t.uuid('id').primary();
    t.integer('warehouse_id').notNullable().references('warehouses.id');
    t.integer('product_id').notNullable().references('products.id');
    t.text('from_type').notNullable();
    t.text('to_type').notNullable();
    t.integer('quantity').notNullable();
    t.text('reason').notNullable();
    t.text('moved_by');
    t.timestamp('moved_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
  });
  await k.raw(
    `ALTER TABLE stock_transfers ADD CONSTRAINT stock_transfers_qty CHECK (quantity > 0 AND from_type <> to_type)`,
  );
  await k('exception_types').insert({
    type: 'shipped_after_cancel',
    queue: 'logistics',
    severity: 'high',
    sla: '4h',
    second_sla: '24h',
    description: 'The warehouse shipped a parcel after its order was cancelled; its stock has left the books',
    actions: JSON.stringify([
      { action: 'intercept', effect: 'the carrier brings the parcel back: its units and their cost return to stock' },
      {
        action: 'charge',
        effect: 'the shipment is invoiced to the customer after all (collect it outside the voided card authorisation)',
      },
      { action: 'write_off', effect: 'the parcel is not recovered: its cost stays booked as cost of goods sold' },
    ]),
  });
  await k('exception_types').insert({
    type: 'stock_shortfall',
    queue: 'inventory',
    severity: 'high',
    sla: '24h',
    second_sla: '72h',
    description:
      'A count found fewer units than were promised to orders; the orders listed lost their reservation and re-planned',
    actions: JSON.stringify([
      { action: 'acknowledge', effect: 'recorded after checking the shelf and the orders listed' },
    ]),
  });
}

export async function down(k: Knex): Promise<void> {
  await k('exception_types').whereIn('type', ['stock_shortfall', 'shipped_after_cancel']).delete();
  await k.schema.dropTable('stock_transfers');
  await k('sales_orders').where({ status: 'cancel_requested' }).update({ status: 'fulfilling' });
  await k.raw(
    `ALTER TABLE sales_orders DROP CONSTRAINT sales_orders_status, ADD CONSTRAINT sales_orders_status CHECK (status IN (${statuses(ORDER_STATUSES)}))`,
  );
}
