/** Indexes for the operations report's time windows (plans verified at a million orders: bench/report-plan.ts). */
import type { Knex } from 'knex';

export async function up(k: Knex): Promise<void> {
  await k.raw(`CREATE INDEX sales_orders_placed ON sales_orders (placed_at)`);
  await k.raw(`CREATE INDEX returns_requested ON returns (requested_at)`);
  await k.raw(`CREATE INDEX return_lines_order_line ON return_lines (order_line_id) INCLUDE (quantity_received)`);
}

export async function down(k: Knex): Promise<void> {
  await k.raw(`DROP INDEX sales_orders_placed`);
  await k.raw(`DROP INDEX returns_requested`);
  await k.raw(`DROP INDEX return_lines_order_line`);
}
