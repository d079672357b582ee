/**
 * The operations report, computed from Postgres. Each query is shaped to use an
 * index and a bounded window (see bench/report-plan.ts for the plans at a
 * million orders).
 */
import type { Db } from './index';

export interface ReportOptions {
  windowDays: number;
  promiseHours: number; // an order not shipped this long after it was placed is late
  coverDays: number; // stock that lasts fewer days than this at recent demand is a stockout risk
}

export async function operationsReport(db: Db, o: ReportOptions) {
  const since = new Date(Date.now() - o.windowDays * 86400000);
  const [
    stages,
    fulfilment,
    byDay,
    late,
    rateBySku,
    rateByReason,
    exceptions,
    approvals,
    risks,
    planned,
    lateSuppliers,
  ] = await Promise.all([
    db.raw(
      `SELECT status, COUNT(*)::int AS orders FROM sales_orders WHERE placed_at >= ? GROUP BY status ORDER BY status`,
      [since],
    ),
    db.raw(
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) AS p50, percentile_cont(0.9) WITHIN GROUP (ORDER BY hours) AS p90, COUNT(*)::int AS orders
              FROM (SELECT EXTRACT(EPOCH FROM (MIN(s.shipped_at) - o.placed_at)) / 3600 AS hours
                      FROM sales_orders o JOIN shipments s ON s.order_id = o.id
                     WHERE o.placed_at >= ? AND s.shipped_at IS NOT NULL GROUP BY o.id, o.placed_at) t`,
      [since],
    ),
    // The same figures day by day (by the day the order was placed): is fulfilment getting slower?
    db.raw(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, ROUND(percentile_cont(0.5) WITHIN GROUP (ORDER BY hours)::numeric, 2)::float AS p50,
                ROUND(percentile_cont(0.9) WITHIN GROUP (ORDER BY hours)::numeric, 2)::float AS p90, COUNT(*)::int AS orders
           FROM (SELECT date_trunc('day', o.placed_at) AS day, EXTRACT(EPOCH FROM (MIN(s.shipped_at) - o.placed_at)) / 3600 AS hours
                   FROM sales_orders o JOIN shipments s ON s.order_id = o.id
                  WHERE o.placed_at >= ? AND s.shipped_at IS NOT NULL GROUP BY o.id, o.placed_at) t
          GROUP BY day ORDER BY day`,
      [since],
    ),
    db.raw(
      `SELECT COUNT(*)::int AS orders, MIN(placed_at) AS oldest FROM sales_orders
             WHERE status IN ('received','on_hold','reserved','backordered','fulfilling','cancel_requested') AND placed_at < now() - make_interval(hours => ?)`,
      [o.promiseHours],
    ),
    db.raw(
      `SELECT p.sku, SUM(l.quantity_shipped)::int AS shipped, COALESCE(SUM(r.received), 0)::int AS returned,
                   ROUND(COALESCE(SUM(r.received), 0)::numeric / NULLIF(SUM(l.quantity_shipped), 0), 4)::float AS rate
              FROM sales_orders o JOIN sales_order_lines l ON l.order_id = o.id JOIN products p ON p.id = l.product_id
              LEFT JOIN (SELECT order_line_id, SUM(quantity_received) AS received FROM return_lines GROUP BY 1) r ON r.order_line_id = l.id
             WHERE o.placed_at >= ? AND l.quantity_shipped > 0 GROUP BY p.sku ORDER BY rate DESC NULLS LAST, shipped DESC LIMIT 20`,
      [since],
    ),
    db.raw(
      `SELECT rl.reason, COUNT(*)::int AS lines, SUM(rl.quantity)::int AS units FROM return_lines rl JOIN returns r ON r.id = rl.return_id
             WHERE r.requested_at >= ? GROUP BY rl.reason ORDER BY units DESC LIMIT 20`,
      [since],
    ),
    db.raw(`SELECT type, COUNT(*)::int AS open, COUNT(*) FILTER (WHERE sla_due_at < now())::int AS sla_breached, MIN(opened_at) AS oldest
              FROM exceptions WHERE status = 'open' GROUP BY type ORDER BY open DESC`),
    db.raw(`SELECT kind, COUNT(*)::int AS pending, COUNT(*) FILTER (WHERE sla_due_at < now())::int AS sla_breached, MIN(requested_at) AS oldest
              FROM approvals WHERE status = 'pending' GROUP BY kind`),
    db.raw(
      `WITH demand AS (
              SELECT l.product_id, SUM(l.quantity_shipped)::numeric / 28 AS per_day
                FROM sales_orders o JOIN sales_order_lines l ON l.order_id = o.id
               WHERE o.placed_at >= now() - interval '28 days' GROUP BY l.product_id),
            stock AS (
              SELECT q.product_id, SUM(q.on_hand - q.reserved)::int AS available
                FROM quants q JOIN locations loc ON loc.id = q.location_id AND loc.type = 'stock' GROUP BY q.product_id)
            SELECT p.sku, COALESCE(s.available, 0) AS available, ROUND(d.per_day, 2)::float AS per_day,
                   ROUND(COALESCE(s.available, 0) / NULLIF(d.per_day, 0), 1)::float AS days_of_cover
              FROM demand d JOIN products p ON p.id = d.product_id LEFT JOIN stock s ON s.product_id = d.product_id
             WHERE d.per_day > 0 AND COALESCE(s.available, 0) / d.per_day < ?
             ORDER BY days_of_cover NULLS FIRST LIMIT 50`,
      [o.coverDays],
    ),
    // The planner's view: projected stock that runs out before the earliest possible receipt (latest run).
    db.raw(`SELECT p.sku, w.code AS warehouse, rl.projected, (rl.explanation->>'daysOfCover')::float AS days_of_cover, (rl.explanation->>'leadTimeDays')::int AS lead_time_days
              FROM replenishment_lines rl JOIN products p ON p.id = rl.product_id JOIN warehouses w ON w.id = rl.warehouse_id
             WHERE rl.run_id = (SELECT id FROM replenishment_runs ORDER BY planned_at DESC LIMIT 1) AND rl.stockout_risk
             ORDER BY days_of_cover NULLS FIRST, p.sku LIMIT 50`),
    db.raw(`SELECT po.number, s.code AS supplier, po.expected_at, po.status,
                   (SELECT SUM(quantity - cancelled_qty)::int FROM purchase_order_lines WHERE po_id = po.id) AS ordered,
                   (SELECT SUM(received_qty)::int FROM purchase_order_lines WHERE po_id = po.id) AS received
              FROM purchase_orders po JOIN suppliers s ON s.id = po.supplier_id
             WHERE po.status IN ('sent','partially_received') AND po.expected_at < now()
             ORDER BY po.expected_at LIMIT 50`),
  ]);
  const f = fulfilment.rows[0];
  return {
    windowDays: o.windowDays,
    ordersByStage: Object.fromEntries(stages.rows.map((r: { status: string; orders: number }) => [r.status, r.orders])),
    fulfilmentHours: {
      p50: f.p50 === null ? null : Number(Number(f.p50).toFixed(2)),
      p90: f.p90 === null ? null : Number(Number(f.p90).toFixed(2)),
      orders: f.orders,
    },
    fulfilmentByDay: byDay.rows as { day: string; p50: number; p90: number; orders: number }[],
    lateOrders: { promiseHours: o.promiseHours, count: late.rows[0].orders, oldestPlacedAt: late.rows[0].oldest },
    returnRateBySku: rateBySku.rows,
    returnsByReason: rateByReason.rows,
    openExceptions: exceptions.rows.map((r: { type: string; open: number; sla_breached: number; oldest: Date }) => ({
      type: r.type,
      open: r.open,
      slaBreached: r.sla_breached,
      oldest: r.oldest,
    })),
    pendingApprovals: approvals.rows.map(
      (r: { kind: string; pending: number; sla_breached: number; oldest: Date }) => ({
        kind: r.kind,
        pending: r.pending,
        slaBreached: r.sla_breached,
        oldest: r.oldest,
      }),
    ),
    stockoutRisks: [
      ...planned.rows.map(
        (r: {
          sku: string;
          warehouse: string;
          projected: number;
          days_of_cover: number | null;
          lead_time_days: number;
        }) => ({
          source: 'planner',
          sku: r.sku,
          warehouse: r.warehouse,
          projected: r.projected,
          daysOfCover: r.days_of_cover,
          leadTimeDays: r.lead_time_days,
        }),
      ),
      ...risks.rows
        .filter((r: { sku: string }) => !planned.rows.some((p: { sku: string }) => p.sku === r.sku))
        .map((r: { sku: string; available: number; per_day: number; days_of_cover: number | null }) => ({
          source: 'demand',
          sku: r.sku,
          available: r.available,
          dailyDemand: r.per_day,
          daysOfCover: r.days_of_cover,
        })),
    ],
    lateSuppliers: lateSuppliers.rows.map(
      (r: {
        number: string;
        supplier: string;
        expected_at: Date;
        status: string;
        ordered: number;
        received: number;
      }) => ({
        purchaseOrder: r.number,
        supplier: r.supplier,
        expectedAt: r.expected_at,
        status: r.status,
        ordered: r.ordered,
        received: r.received,
        daysLate: Math.floor((Date.now() - new Date(r.expected_at).getTime()) / 86400000),
      }),
    ),
  };
}

/**
 * What waits on people and on delivery, for the /metrics gauges (read at scrape time, one statement each):
 * open exception cases by type with how many are past their SLA, pending approvals by kind with the age of
 * the oldest, and notifications not sent yet with the age of the oldest.
 */
export async function workGauges(db: Db) {
  const [cases, approvals, outbox, webhooks] = await Promise.all([
    db('exceptions')
      .where('status', 'open')
      .groupBy('type')
      .select(
        'type',
        db.raw('COUNT(*)::int AS open'),
        db.raw('COUNT(*) FILTER (WHERE sla_due_at < now())::int AS breached'),
      ) as Promise<{ type: string; open: number; breached: number }[]>,
    db('approvals')
      .where('status', 'pending')
      .groupBy('kind')
      .select(
        'kind',
        db.raw('COUNT(*)::int AS pending'),
        db.raw('EXTRACT(EPOCH FROM now() - MIN(requested_at))::float AS oldest_seconds'),
      ) as Promise<{ kind: string; pending: number; oldest_seconds: number }[]>,
    db('notifications')
      .where('status', 'pending')
      .first(
        db.raw('COUNT(*)::int AS pending'),
        db.raw('COALESCE(EXTRACT(EPOCH FROM now() - MIN(created_at)), 0)::float AS oldest_seconds'),
      ) as Promise<{ pending: number; oldest_seconds: number }>,
    db('webhook_deliveries')
      .whereIn('status', ['pending', 'dead'])
      .first(
        db.raw(`COUNT(*) FILTER (WHERE status = 'pending')::int AS pending`),
        db.raw(`COUNT(*) FILTER (WHERE status = 'dead')::int AS dead`),
        db.raw(
          `COALESCE(EXTRACT(EPOCH FROM now() - MIN(created_at) FILTER (WHERE status = 'pending')), 0)::float AS oldest_seconds`,
        ),
      ) as Promise<{ pending: number; dead: number; oldest_seconds: number }>,
  ]);
  return { cases, approvals, outbox, webhooks };
}
