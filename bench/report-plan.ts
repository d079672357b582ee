/**
 * `npm run bench:report [-- --orders 1000000]`: builds a database with a million
 * orders (lines, shipments, returns, exceptions), then runs the operations
 * report with EXPLAIN (ANALYZE, BUFFERS) on each of its queries and prints the
 * plans and timings: the evidence that its indexes keep it fast at that size.
 */
import { cliFlags } from '../lib/cli';
import type { Knex } from 'knex';
import type { Db } from '../db';

const flags = cliFlags('npm run bench:report -- [flags]', {
  orders: { type: 'number', default: 1_000_000, help: 'orders in the generated database' },
  keep: { type: 'boolean', help: 'keep the database afterwards' },
});
const N = flags.orders;

async function main() {
  const { createDb } = await import('../db');
  const { ensureDatabase, migrate, dropDatabase } = await import('../db/migrate');
  const { ensureWarehouse, ensureChannel } = await import('../db/seeds/master-data');
  const { operationsReport } = await import('../db/reports');
  const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  url.pathname = `/erp_report_plan_${Date.now()}`;
  await ensureDatabase(url.toString());
  const db = createDb(url.toString(), 2);
  const t0 = Date.now();
  const step = (what: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${what}`);
  try {
    await migrate(db);
    await ensureWarehouse(db, { code: 'EAST', name: 'East', priority: 10 });
    await ensureChannel(db, { code: 'web', name: 'Web' });
    step(`generating ${N.toLocaleString()} orders`);
    await db.raw(
      `INSERT INTO products (sku, name, cost, price) SELECT 'P-' || i, 'Product ' || i, 500, 1000 FROM generate_series(1, 500) i`,
    );
    await db.raw(
      `INSERT INTO customers (email, name) SELECT 'c' || i || '@example.com', 'Customer ' || i FROM generate_series(1, 20000) i`,
    );
    await db.raw(`INSERT INTO quants (location_id, product_id, on_hand, reserved)
                  SELECT l.id, p.id, (p.id * 7) % 300, 0 FROM products p, locations l WHERE l.code = 'EAST/STOCK'`);
    await db.raw(
      `
      INSERT INTO sales_orders (id, channel_id, external_ref, workflow_id, customer_id, currency, status, backorder_policy, shipping_address, payment_method, subtotal, shipping_price, tax_total, total, placed_at)
      SELECT gen_random_uuid(), (SELECT id FROM channels WHERE code = 'web'), 'R' || i, 'order-web-R' || i, 1 + (i % 20000), 'EUR',
             (ARRAY['completed','completed','completed','completed','completed','completed','shipped','fulfilling','backordered','cancelled'])[1 + (i % 10)],
             'ship_available', '{}'::jsonb, 'card', 1000, 0, 0, 1000, now() - make_interval(mins => (i % 262800))
        FROM generate_series(1, ?) i`,
      [N],
    );
    step('orders written; lines and shipments');
    await db.raw(`INSERT INTO sales_order_lines (order_id, line_no, product_id, quantity, unit_price, tax_rate_bp, net, tax, quantity_shipped)
                  SELECT o.id, 1, 1 + (abs(hashtext(o.external_ref)) % 500), 1, 1000, 0, 1000, 0, CASE WHEN o.status IN ('completed','shipped') THEN 1 ELSE 0 END FROM sales_orders o`);
    await db.raw(`INSERT INTO shipments (id, order_id, warehouse_id, wave, status, shipped_at, delivered_at)
                  SELECT gen_random_uuid(), o.id, (SELECT id FROM warehouses WHERE code = 'EAST'), 1, CASE o.status WHEN 'completed' THEN 'delivered' ELSE 'shipped' END,
                         o.placed_at + make_interval(hours => 2 + abs(hashtext(o.external_ref)) % 70), o.placed_at + interval '3 days'
                    FROM sales_orders o WHERE o.status IN ('completed','shipped')`);
    step('returns and exceptions');
    await db.raw(`INSERT INTO returns (id, order_id, workflow_id, status, resolution, requested_at)
                  SELECT gen_random_uuid(), o.id, 'return-' || o.external_ref, 'refunded', 'refund', o.placed_at + interval '5 days'
                    FROM sales_orders o WHERE o.status = 'completed' AND abs(hashtext(o.external_ref)) % 25 = 0`);
    await db.raw(`INSERT INTO return_lines (return_id, order_line_id, product_id, quantity, reason, quantity_received, quantity_inspected)
                  SELECT r.id, l.id, l.product_id, 1, (ARRAY['too small','changed my mind','damaged','not as described'])[1 + abs(hashtext(r.id::text)) % 4], 1, 1
                    FROM returns r JOIN sales_order_lines l ON l.order_id = r.order_id`);
    await db.raw(`INSERT INTO exceptions (id, type, status, severity, queue, subject_type, subject_id, summary, idempotency_key, opened_at, sla_due_at)
                  SELECT gen_random_uuid(), (ARRAY['invalid_address','carrier_failure','stock_drift'])[1 + i % 3], CASE WHEN i % 10 = 0 THEN 'open' ELSE 'resolved' END,
                         'medium', 'ops', 'order', 'x', 'generated', 'gen:' || i, now() - make_interval(hours => i % 500), now() - make_interval(hours => i % 500) + interval '24 hours'
                    FROM generate_series(1, 50000) i`);
    await db.raw('ANALYZE');
    step('analysed; running the report with EXPLAIN (ANALYZE, BUFFERS)');

    const plans: { sql: string; plan: string; ms: number }[] = [];
    const explaining = {
      raw: async (sql: string, bindings?: readonly Knex.RawBinding[]) => {
        const res = await db.raw(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, bindings ?? []);
        const plan = res.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
        plans.push({
          sql: sql.replace(/\s+/g, ' ').trim().slice(0, 120),
          plan,
          ms: Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? NaN),
        });
        return db.raw(sql, bindings ?? []);
      },
    } as unknown as Db;
    const started = Date.now();
    const report = await operationsReport(explaining, { windowDays: 30, promiseHours: 48, coverDays: 7 });
    for (const p of plans) console.log(`\n=== ${p.ms.toFixed(1)} ms  ${p.sql}\n${p.plan}`);
    const timed = Date.now();
    await operationsReport(db, { windowDays: 30, promiseHours: 48, coverDays: 7 });
    console.log(
      `\nOrders: ${N.toLocaleString()}. Report (all queries, in parallel, without EXPLAIN): ${Date.now() - timed} ms; sum of query execution times under EXPLAIN: ${plans.reduce((s, p) => s + p.ms, 0).toFixed(0)} ms (${Date.now() - started} ms with EXPLAIN).`,
    );
    console.log(
      `Backlog: ${JSON.stringify(report.ordersByStage)}; fulfilment p50/p90 ${report.fulfilmentHours.p50}/${report.fulfilmentHours.p90} h`,
    );
  } finally {
    await db.destroy();
    if (!flags.keep) await dropDatabase(url.toString());
  }
}

main().catch((err) => {
  console.error(`Report plan failed: ${err.message}`);
  process.exit(1);
});
