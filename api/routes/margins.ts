/** The margin report: what each order, SKU or channel earned after cost of goods, landed costs, refunds, fees and commission. */
import { stringify } from 'csv-stringify/sync';
import { marginReport, type MarginRow } from '../../db/margins';
import type { RouteDeps } from '../deps';
import { major, wantsCsv } from '../csv';
import type { Routes } from '../route';
import { MarginQuery, MarginReport } from '../schemas';

const FIGURES = [
  'revenue',
  'refunds',
  'costOfGoods',
  'landedCosts',
  'fees',
  'commission',
  'shippingCost',
  'margin',
] as const;
const DAY = 24 * 3600 * 1000;

export function marginRoutes(routes: Routes, { db, config }: RouteDeps): void {
  routes.add({
    method: 'get',
    path: '/v1/reports/margins',
    tag: 'Reports',
    summary:
      'Revenue, cost of goods, landed costs, refunds, payment fees, chargeback losses, marketplace commission and margin by order, SKU or channel for a period, from the journal (JSON or CSV)',
    roles: ['finance', 'ops'],
    query: MarginQuery,
    raw: true,
    response: {
      status: 200,
      schema: MarginReport,
      description: 'Rows by revenue, and their totals, which equal the ledger for the period (or text/csv of the rows)',
    },
    handler: async (ctx, { query }) => {
      const to = query.to ? new Date(query.to) : new Date();
      const from = query.from ? new Date(query.from) : new Date(to.getTime() - 30 * DAY);
      const rows = await marginReport(db, query.by, from, to);
      if (wantsCsv(ctx, query.format)) {
        ctx.type = 'text/csv; charset=utf-8';
        ctx.set('Content-Disposition', `attachment; filename="margins-by-${query.by}.csv"`);
        ctx.body = stringify(
          rows.map((r) => ({ ...r, ...Object.fromEntries(FIGURES.map((f) => [f, major(r[f])])) })),
          {
            header: true,
            columns: [
              { key: 'key', header: query.by },
              ...FIGURES.map((f) => ({ key: f, header: f })),
              { key: 'marginPct', header: 'marginPct' },
            ],
          },
        );
        return { body: undefined };
      }
      ctx.body = { by: query.by, from, to, currency: config.BASE_CURRENCY, rows, totals: totalsOf(rows) };
      return { body: ctx.body };
    },
  });
}

function totalsOf(rows: MarginRow[]) {
  const t = Object.fromEntries(FIGURES.map((f) => [f, rows.reduce((s, r) => s + r[f], 0)])) as Record<
    (typeof FIGURES)[number],
    number
  >;
  const net = t.revenue - t.refunds;
  return { ...t, marginPct: net > 0 ? Math.round((t.margin / net) * 10000) / 100 : null };
}
