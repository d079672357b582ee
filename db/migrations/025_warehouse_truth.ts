/**
 * The warehouse is the truth. A parcel that left has left: once the warehouse is picking, a cancel is a
 * request it must answer, and the order waits in `cancel_requested` until it confirms the parcel stopped
 * or reports it shipped. A count below what is reserved is recorded anyway: the orders it hurt re-plan,
 * listed in one `stock_shortfall` case per count.
 */
import type { Knex } from 'knex';
import { ORDER_STATUSES } from './003_sales';

const statuses = (xs: readonly string[]) => xs.map((s) => `'${s}'`).join(',');

export async function up(k: Knex): Promise<void> {
  await k.raw(`ALTER TABLE sales_orders DROP CONSTRAINT sales_orders_status,
    ADD CONSTRAINT sales_orders_status CHECK (status IN (${statuses([...ORDER_STATUSES, 'cancel_requested'])}))`);
  await k('exception_types').insert({
    type: 'stock_shortfall', queue: 'inventory', severity: 'high', sla: '24h', second_sla: '72h',
    description: 'A count found fewer units than were promised to orders; the orders listed lost their reservation and re-planned',
    actions: JSON.stringify([{ action: 'acknowledge', effect: 'recorded after checking the shelf and the orders listed' }]),
  });
}

export async function down(k: Knex): Promise<void> {
  await k('exception_types').where({ type: 'stock_shortfall' }).delete();
  await k('sales_orders').where({ status: 'cancel_requested' }).update({ status: 'fulfilling' });
  await k.raw(`ALTER TABLE sales_orders DROP CONSTRAINT sales_orders_status, ADD CONSTRAINT sales_orders_status CHECK (status IN (${statuses(ORDER_STATUSES)}))`);
}
