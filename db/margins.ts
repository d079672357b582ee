/**
 * Margins, read from the journal so they agree with the books to the cent: every line posted to revenue (4000),
 * shipping income (4100), cost of goods sold (5000), payment fees (6100), chargeback losses (6200),
 * marketplace commission (6300) or shipping costs (6500) in the period is attributed to its order through the record that posted it (invoice, shipment, credit note, return
 * receipt, dispute; a payout's fees and commission through each of its lines), and, for the SKU view, split over
 * the products behind it (invoice lines, the stock moves of the same source, the returned lines, a landed
 * cost's allocation). What cannot be attributed (a landed cost has no order; shipping income has no SKU) is
 * a row of its own rather than dropped, so the rows always add up to the ledger.
 */
import type { Db } from './index';
import { ACCOUNT } from './ledger';
import { splitByWeight } from '../lib/money';

export type MarginDimension = 'order' | 'sku' | 'channel';

export interface MarginRow {
  key: string | null; // the order id, SKU or channel code; null: not attributable in this view
  revenue: number; // goods and shipping invoiced, net of tax
  refunds: number; // revenue given back by credit notes
  costOfGoods: number; // at average cost when shipped, less goods returned to stock
  landedCosts: number; // freight, duty, insurance on goods already sold
  fees: number; // payment provider fees (booked with payouts, per order by the payout's lines) and chargeback losses
  commission: number; // marketplace commission (booked with statements, per order by the statement's lines)
  shippingCost: number; // carrier charges, booked per parcel from the carrier's invoice
  margin: number;
  marginPct: number | null; // margin ÷ (revenue − refunds), in percent; null without net revenue
}

interface PostedLine {
  entry_id: number;
  source_type: string;
  source_id: string;
  account_code: string;
  amount: number; // debit − credit
  order_id: string | null;
  channel: string | null;
}

/** Lines on the margin accounts posted in [from, to), each with the order its source belongs to. */
async function postedLines(db: Db, from: Date, to: Date): Promise<PostedLine[]> {
  const { rows } = await db.raw(
    `SELECT e.id AS entry_id, e.source_type, e.source_id, l.account_code, (l.debit - l.credit)::bigint AS amount,
            o.id AS order_id, c.code AS channel
     FROM journal_entries e
     JOIN journal_lines l ON l.entry_id = e.id
     LEFT JOIN invoices i ON e.source_type = 'invoice' AND i.id::text = e.source_id
     LEFT JOIN shipments s ON e.source_type IN ('shipment', 'short_pick', 'intercept') AND s.id::text = e.source_id
     LEFT JOIN credit_notes cn ON e.source_type = 'credit_note' AND cn.id::text = e.source_id
     LEFT JOIN return_receipts rr ON e.source_type = 'return_receipt' AND rr.id::text = e.source_id
     LEFT JOIN returns r ON r.id = rr.return_id
     LEFT JOIN disputes dp ON e.source_type = 'dispute' AND dp.id::text = e.source_id
     LEFT JOIN sales_orders o ON o.id = COALESCE(i.order_id, s.order_id, cn.order_id, r.order_id, dp.order_id)
     LEFT JOIN channels c ON c.id = o.channel_id
     WHERE l.account_code IN (?, ?, ?, ?, ?, ?, ?) AND e.posted_at >= ? AND e.posted_at < ?
       AND NOT (l.account_code IN (?, ?) AND e.source_type = 'settlement'
                AND EXISTS (SELECT 1 FROM settlements st WHERE st.entry_id = e.id))
     UNION ALL
     -- A payout's fees and commission, one posted line each for many orders: each of its lines' own, with the
     -- order the line settled.
     SELECT e.id, e.source_type, e.source_id, x.account, x.amount, o.id, c.code
     FROM settlements st
     JOIN journal_entries e ON e.id = st.entry_id
     JOIN settlement_lines sl ON sl.settlement_id = st.id
     CROSS JOIN LATERAL (VALUES (?::text, sl.fee::bigint), (?::text, sl.commission::bigint)) x(account, amount)
     LEFT JOIN sales_orders o ON o.id = sl.order_id
     LEFT JOIN channels c ON c.id = o.channel_id
     WHERE x.amount > 0 AND e.posted_at >= ? AND e.posted_at < ?
     ORDER BY 1`,
    [
      ...MARGIN_ACCOUNTS,
      from,
      to,
      ACCOUNT.paymentFees,
      ACCOUNT.marketplaceCommission,
      ACCOUNT.paymentFees,
      ACCOUNT.marketplaceCommission,
      from,
      to,
    ],
  );
  return rows;
}

/** The accounts the report reads: revenue, shipping income, cost of goods sold, payment fees, chargeback losses. */
const MARGIN_ACCOUNTS = [
  ACCOUNT.revenue,
  ACCOUNT.shippingIncome,
  ACCOUNT.costOfGoodsSold,
  ACCOUNT.paymentFees,
  ACCOUNT.chargebackLosses,
  ACCOUNT.marketplaceCommission,
  ACCOUNT.shippingCosts,
] as const;

type Column = 'revenue' | 'refunds' | 'costOfGoods' | 'landedCosts' | 'fees' | 'commission' | 'shippingCost';

/** Which margin column a posted line belongs to, and its amount in that column's sense (positive = as named). */
function columnOf(l: PostedLine): { column: Column; amount: number } {
  if (l.account_code === ACCOUNT.paymentFees || l.account_code === ACCOUNT.chargebackLosses)
    return { column: 'fees', amount: l.amount };
  if (l.account_code === ACCOUNT.marketplaceCommission) return { column: 'commission', amount: l.amount };
  if (l.account_code === ACCOUNT.shippingCosts) return { column: 'shippingCost', amount: l.amount };
  if (l.account_code === ACCOUNT.costOfGoodsSold)
    return { column: l.source_type === 'landed_cost' ? 'landedCosts' : 'costOfGoods', amount: l.amount };
  if (l.source_type === 'credit_note') return { column: 'refunds', amount: l.amount };
  return { column: 'revenue', amount: -l.amount };
}

/** Per entry, the products behind it and their weight in it (the basis an amount is split by). */
async function productBases(db: Db, lines: PostedLine[]): Promise<Map<string, { product: string; weight: number }[]>> {
  const ids = (type: string[]) => [
    ...new Set(lines.filter((l) => type.includes(l.source_type)).map((l) => l.source_id)),
  ];
  const bases = new Map<string, { product: string; weight: number }[]>();
  const add = (key: string, product: string, weight: number) => {
    if (weight > 0) bases.set(key, [...(bases.get(key) ?? []), { product, weight }]);
  };
  const invoices = ids(['invoice']);
  if (invoices.length) {
    const { rows } = await db.raw(
      `SELECT il.invoice_id::text AS id, p.sku, sum(il.net)::bigint AS w
       FROM invoice_lines il JOIN sales_order_lines sol ON sol.id = il.order_line_id JOIN products p ON p.id = sol.product_id
       WHERE il.invoice_id::text = ANY(?) GROUP BY 1, 2 ORDER BY 1, 2`,
      [invoices],
    );
    for (const r of rows) add(`invoice:${r.id}:${ACCOUNT.revenue}`, r.sku, Number(r.w));
  }
  const moved = ids(['shipment', 'short_pick', 'intercept', 'return_receipt']);
  if (moved.length) {
    // A kit ships (and comes back) as its components: their cost belongs to the kit the order sold, unless the
    // order also sold the component on its own line.
    const { rows } = await db.raw(
      `SELECT m.source_type, m.source_id, COALESCE(kit.sku, p.sku) AS sku, sum(m.quantity * m.unit_cost)::bigint AS w
       FROM stock_moves m
       JOIN products p ON p.id = m.product_id
       LEFT JOIN shipments s ON m.source_type IN ('shipment', 'short_pick', 'intercept') AND s.id::text = m.source_id
       LEFT JOIN return_receipts rr ON m.source_type = 'return_receipt' AND rr.id::text = m.source_id
       LEFT JOIN returns rt ON rt.id = rr.return_id
       LEFT JOIN LATERAL (
         SELECT kp.sku FROM sales_order_lines sol
         JOIN products kp ON kp.id = sol.product_id
         JOIN kit_components kc ON kc.kit_product_id = sol.product_id AND kc.component_product_id = m.product_id
         WHERE sol.order_id = COALESCE(s.order_id, rt.order_id)
           AND NOT EXISTS (SELECT 1 FROM sales_order_lines own
                           WHERE own.order_id = sol.order_id AND own.product_id = m.product_id)
         ORDER BY sol.line_no LIMIT 1) kit ON true
       WHERE m.state = 'done' AND m.source_id = ANY(?) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      [moved],
    );
    for (const r of rows) add(`${r.source_type}:${r.source_id}:${ACCOUNT.costOfGoodsSold}`, r.sku, Number(r.w));
  }
  const credits = ids(['credit_note']);
  if (credits.length) {
    const { rows } = await db.raw(
      `SELECT cn.id::text AS id, p.sku, sum(rl.quantity * sol.unit_price)::bigint AS w
       FROM credit_notes cn JOIN return_lines rl ON rl.return_id = cn.return_id
       JOIN sales_order_lines sol ON sol.id = rl.order_line_id JOIN products p ON p.id = rl.product_id
       WHERE cn.id::text = ANY(?) GROUP BY 1, 2 ORDER BY 1, 2`,
      [credits],
    );
    for (const r of rows) add(`credit_note:${r.id}:${ACCOUNT.revenue}`, r.sku, Number(r.w));
  }
  const landed = ids(['landed_cost']);
  if (landed.length) {
    const { rows } = await db.raw(
      `SELECT a.landed_cost_id::text AS id, p.sku, a.to_cost_of_goods_sold AS w
       FROM landed_cost_allocations a JOIN products p ON p.id = a.product_id
       WHERE a.landed_cost_id::text = ANY(?) ORDER BY 1, 2`,
      [landed],
    );
    for (const r of rows) add(`landed_cost:${r.id}:${ACCOUNT.costOfGoodsSold}`, r.sku, Number(r.w));
  }
  return bases;
}

/** Splits an amount over the basis so the parts add up to it exactly (none: all of it unattributed). */
function split(amount: number, basis: { product: string; weight: number }[] | undefined) {
  if (!basis?.length) return [{ product: null, amount }];
  const parts = splitByWeight(
    amount,
    basis.map((b) => b.weight),
  );
  return basis.map((b, i) => ({ product: b.product as string | null, amount: parts[i] }));
}

export async function marginReport(db: Db, by: MarginDimension, from: Date, to: Date): Promise<MarginRow[]> {
  const lines = await postedLines(db, from, to);
  const bases = by === 'sku' ? await productBases(db, lines) : new Map();
  const rows = new Map<string | null, Record<Column, number>>();
  const add = (key: string | null, column: Column, amount: number) => {
    const row = rows.get(key) ?? {
      revenue: 0,
      refunds: 0,
      costOfGoods: 0,
      landedCosts: 0,
      fees: 0,
      commission: 0,
      shippingCost: 0,
    };
    row[column] += amount;
    rows.set(key, row);
  };
  for (const l of lines) {
    const { column, amount } = columnOf(l);
    if (by === 'order') add(l.order_id, column, amount);
    else if (by === 'channel') add(l.channel, column, amount);
    else {
      // Shipping income has no basis by SKU: it stays in the row of what is not attributable.
      for (const part of split(amount, bases.get(`${l.source_type}:${l.source_id}:${l.account_code}`)))
        add(part.product, column, part.amount);
    }
  }
  return [...rows.entries()]
    .map(([key, r]) => {
      const margin = r.revenue - r.refunds - r.costOfGoods - r.landedCosts - r.fees - r.commission - r.shippingCost;
      const net = r.revenue - r.refunds;
      return {
        key,
        ...r,
        margin,
        marginPct: net > 0 ? Math.round((margin / net) * 10000) / 100 : null,
      };
    })
    .sort((a, b) => b.revenue - a.revenue || String(a.key).localeCompare(String(b.key)));
}

/** The same accounts' movements in the period, straight from the ledger (what the report must add up to). */
export async function marginAccountTotals(db: Db, from: Date, to: Date): Promise<Record<string, number>> {
  const rows: { account_code: string; net: number }[] = await db('journal_lines as l')
    .join('journal_entries as e', 'e.id', 'l.entry_id')
    .whereIn('l.account_code', MARGIN_ACCOUNTS)
    .where('e.posted_at', '>=', from)
    .where('e.posted_at', '<', to)
    .groupBy('l.account_code')
    .select('l.account_code', db.raw('sum(l.debit - l.credit)::bigint AS net'));
  return Object.fromEntries(rows.map((r) => [r.account_code, Number(r.net)]));
}
