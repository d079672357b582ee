/**
 * The books must always balance. Each check is one SQL query that returns the
 * rows violating it; an empty result means the invariant holds. Run with
 * `npm run check:invariants` against any database (DATABASE_URL).
 */
import type { Db } from './index';
import { ACCOUNT } from './ledger';
import type { Orphan, OrphanKind } from './orphans';

export interface InvariantResult {
  name: string;
  ok: boolean;
  violations: unknown[];
}

const CHECKS: { name: string; sql: string }[] = [
  {
    name: 'quants equal the sum of done stock moves (internal locations)',
    sql: `WITH moved AS (
            SELECT location_id, product_id, SUM(qty) AS qty FROM (
              SELECT to_location_id AS location_id, product_id, quantity AS qty FROM stock_moves WHERE state = 'done'
              UNION ALL
              SELECT from_location_id, product_id, -quantity FROM stock_moves WHERE state = 'done') m
            JOIN locations l ON l.id = m.location_id AND l.internal
            GROUP BY location_id, product_id)
          SELECT COALESCE(q.location_id, m.location_id) AS location_id, COALESCE(q.product_id, m.product_id) AS product_id,
                 q.on_hand AS quant, m.qty AS moves
            FROM quants q FULL OUTER JOIN moved m ON m.location_id = q.location_id AND m.product_id = q.product_id
           WHERE COALESCE(q.on_hand, 0) <> COALESCE(m.qty, 0)`,
  },
  { name: 'no negative on-hand in internal locations', sql: `SELECT * FROM quants WHERE on_hand < 0` },
  { name: '0 <= reserved <= on-hand', sql: `SELECT * FROM quants WHERE reserved < 0 OR reserved > on_hand` },
  {
    name: 'reserved equals the sum of active reservations',
    sql: `SELECT q.location_id, q.product_id, q.reserved, COALESCE(r.qty, 0) AS active
            FROM quants q LEFT JOIN (SELECT location_id, product_id, SUM(quantity) AS qty FROM reservations WHERE state = 'active' GROUP BY 1, 2) r
              ON r.location_id = q.location_id AND r.product_id = q.product_id
           WHERE q.reserved <> COALESCE(r.qty, 0)
          UNION ALL
          SELECT r.location_id, r.product_id, NULL, SUM(r.quantity) FROM reservations r
            LEFT JOIN quants q ON q.location_id = r.location_id AND q.product_id = r.product_id
           WHERE r.state = 'active' AND q.location_id IS NULL GROUP BY 1, 2`,
  },
  {
    name: 'every journal entry balances with at least two lines',
    sql: `SELECT e.id, e.idempotency_key, COALESCE(SUM(l.debit), 0) AS debit, COALESCE(SUM(l.credit), 0) AS credit, COUNT(l.id) AS lines
            FROM journal_entries e LEFT JOIN journal_lines l ON l.entry_id = e.id
           GROUP BY e.id HAVING COALESCE(SUM(l.debit), 0) <> COALESCE(SUM(l.credit), 0) OR COUNT(l.id) < 2`,
  },
  {
    name: 'total debits equal total credits',
    sql: `SELECT SUM(debit) AS debit, SUM(credit) AS credit FROM journal_lines HAVING SUM(debit) <> SUM(credit)`,
  },
  {
    name: 'captures never exceed the authorisation',
    sql: `SELECT a.order_id, a.amount AS authorised, c.captured FROM payments a
            JOIN (SELECT order_id, SUM(amount) AS captured FROM payments WHERE kind = 'capture' AND status = 'succeeded' GROUP BY 1) c ON c.order_id = a.order_id
           WHERE a.kind = 'authorization' AND a.status = 'succeeded' AND c.captured > a.amount`,
  },
  {
    name: 'invoice totals equal the sum of their lines',
    sql: `SELECT i.id, i.total, SUM(l.net + l.tax) AS lines FROM invoices i JOIN invoice_lines l ON l.invoice_id = i.id GROUP BY i.id HAVING i.total <> SUM(l.net + l.tax)`,
  },
  {
    name: 'shipped units match stock moved to customers',
    sql: `SELECT s.id FROM shipments s WHERE s.status IN ('shipped','delivered')
             AND NOT EXISTS (SELECT 1 FROM stock_moves m WHERE m.source_type = 'shipment' AND m.source_id = s.id::text)`,
  },
  {
    name: 'units returned never exceed units shipped',
    sql: `SELECT l.id AS order_line_id, l.quantity_shipped, SUM(rl.quantity_received) AS returned
            FROM sales_order_lines l JOIN return_lines rl ON rl.order_line_id = l.id
           GROUP BY l.id HAVING SUM(rl.quantity_received) > l.quantity_shipped`,
  },
  {
    name: 'refunds never exceed captures (per order, and per capture)',
    sql: `SELECT o.id AS order_id, c.captured, r.refunded FROM sales_orders o
            JOIN (SELECT order_id, SUM(amount) AS captured FROM payments WHERE kind = 'capture' AND status = 'succeeded' GROUP BY 1) c ON c.order_id = o.id
            JOIN (SELECT order_id, SUM(amount) AS refunded FROM payments WHERE kind = 'refund' AND status IN ('pending','succeeded') GROUP BY 1) r ON r.order_id = o.id
           WHERE r.refunded > c.captured
          UNION ALL
          SELECT c.order_id, c.amount, SUM(r.amount) FROM payments c JOIN payments r ON r.parent_payment_id = c.id AND r.kind = 'refund' AND r.status IN ('pending','succeeded')
           GROUP BY c.order_id, c.id, c.amount HAVING SUM(r.amount) > c.amount`,
  },
  {
    name: 'every credit note equals the refunds that pay it out',
    sql: `SELECT cn.id, cn.total, COALESCE(SUM(p.amount), 0) AS refunds FROM credit_notes cn
            LEFT JOIN payments p ON p.credit_note_id = cn.id AND p.kind = 'refund' AND p.status IN ('pending','succeeded')
           GROUP BY cn.id, cn.total HAVING cn.total <> COALESCE(SUM(p.amount), 0)`,
  },
  {
    name: 'stock valuation (on hand × average cost) equals the inventory account',
    sql: `WITH valuation AS (
            SELECT COALESCE(SUM(q.on_hand::numeric * p.cost), 0) AS value FROM quants q JOIN locations l ON l.id = q.location_id AND l.internal JOIN products p ON p.id = q.product_id),
          account AS (SELECT COALESCE(SUM(debit - credit), 0) AS balance FROM journal_lines WHERE account_code = '${ACCOUNT.inventory}')
          SELECT v.value, a.balance FROM valuation v, account a WHERE v.value <> a.balance`,
  },
  {
    name: 'goods received not invoiced equals received-but-unbilled purchase lines at order price',
    sql: `WITH lines AS (SELECT COALESCE(SUM((received_qty - billed_qty)::numeric * unit_price), 0) AS value FROM purchase_order_lines),
          account AS (SELECT COALESCE(SUM(credit - debit), 0) AS balance FROM journal_lines WHERE account_code = '${ACCOUNT.goodsReceivedNotInvoiced}')
          SELECT l.value, a.balance FROM lines l, account a WHERE l.value <> a.balance`,
  },
  {
    name: 'accounts payable equals open posted bills (bills − credit notes − payments)',
    sql: `WITH bills AS (SELECT COALESCE(SUM(CASE kind WHEN 'bill' THEN total ELSE -total END), 0) AS value FROM vendor_bills WHERE posted_at IS NOT NULL),
          paid AS (SELECT COALESCE(SUM(amount), 0) AS value FROM supplier_payments),
          account AS (SELECT COALESCE(SUM(credit - debit), 0) AS balance FROM journal_lines WHERE account_code = '${ACCOUNT.payables}')
          SELECT b.value - p.value AS open_bills, a.balance FROM bills b, paid p, account a WHERE b.value - p.value <> a.balance`,
  },
  {
    name: 'payment clearing equals captures − refunds − disputed + reinstated not yet settled by a payout',
    sql: `WITH unsettled AS (
            SELECT CASE p.kind WHEN 'capture' THEN p.amount ELSE -p.amount END AS amount FROM payments p
             WHERE p.kind IN ('capture', 'refund') AND p.status = 'succeeded'
               AND NOT EXISTS (SELECT 1 FROM settlement_matches m WHERE m.payment_id = p.id)
            UNION ALL
            SELECT -d.amount FROM disputes d
             WHERE NOT EXISTS (SELECT 1 FROM settlement_matches m WHERE m.dispute_id = d.id AND m.movement = 'withdrawal')
            UNION ALL
            SELECT d.amount FROM disputes d WHERE d.status = 'won'
               AND NOT EXISTS (SELECT 1 FROM settlement_matches m WHERE m.dispute_id = d.id AND m.movement = 'reinstatement')),
          account AS (SELECT COALESCE(SUM(debit - credit), 0) AS balance FROM journal_lines WHERE account_code = '${ACCOUNT.paymentClearing}')
          SELECT (SELECT COALESCE(SUM(amount), 0) FROM unsettled) AS unsettled, a.balance FROM account a
           WHERE a.balance <> (SELECT COALESCE(SUM(amount), 0) FROM unsettled)`,
  },
  {
    name: 'settlement suspense equals the open payout differences',
    sql: `WITH open AS (SELECT COALESCE(SUM(amount), 0) AS value FROM settlement_mismatches WHERE status = 'open'),
          account AS (SELECT COALESCE(SUM(debit - credit), 0) AS balance FROM journal_lines WHERE account_code = '${ACCOUNT.settlementSuspense}')
          SELECT o.value AS open_differences, a.balance FROM open o, account a WHERE o.value <> a.balance`,
  },
  {
    name: 'disputed payments equal the disputes not yet decided',
    sql: `WITH open AS (SELECT COALESCE(SUM(amount), 0) AS value FROM disputes WHERE status IN ('needs_response', 'under_review')),
          account AS (SELECT COALESCE(SUM(debit - credit), 0) AS balance FROM journal_lines WHERE account_code = '${ACCOUNT.disputedPayments}')
          SELECT o.value AS open_disputes, a.balance FROM open o, account a WHERE o.value <> a.balance`,
  },
  {
    name: 'carrier payables equal the carrier charges booked',
    sql: `WITH charged AS (SELECT COALESCE(SUM(amount), 0) AS value FROM carrier_charges),
          account AS (SELECT COALESCE(SUM(credit - debit), 0) AS balance FROM journal_lines WHERE account_code = '${ACCOUNT.carrierPayables}')
          SELECT c.value AS charged, a.balance FROM charged c, account a WHERE c.value <> a.balance`,
  },
  {
    name: 'every supplier payment matches the sandbox bank transfer',
    sql: `SELECT sp.bill_id, sp.amount, t.amount AS bank_amount FROM supplier_payments sp
            LEFT JOIN sandbox_bank_transfers t ON t.bank_reference = sp.bank_reference
           WHERE sp.bank_reference LIKE 'bank_%' AND t.amount IS DISTINCT FROM sp.amount`, // the sandbox's transfers; a real bank is reconciled from its statement
  },
];

export async function checkInvariants(db: Db): Promise<InvariantResult[]> {
  const results: InvariantResult[] = [];
  for (const c of CHECKS) {
    const rows = (await db.raw(c.sql)).rows as unknown[];
    results.push({ name: c.name, ok: rows.length === 0, violations: rows.slice(0, 20) });
  }
  return results;
}

export function formatInvariants(results: InvariantResult[]): string {
  return results
    .map((r) => `${r.ok ? 'ok  ' : 'FAIL'} ${r.name}${r.ok ? '' : `\n       ${JSON.stringify(r.violations)}`}`)
    .join('\n');
}

const WAITS: Record<OrphanKind, string> = {
  approval: 'no pending approval whose process has ended',
  case: 'no open exception case whose process has ended',
  return: 'no unfinished return whose process has ended',
  purchase_order: 'no unfinished purchase order whose process has ended',
};

/** The process invariants, from the orphans found (activities/exceptions/orphans.ts findOrphans): they need Temporal to check. */
export function orphanInvariants(orphans: Orphan[]): InvariantResult[] {
  return (Object.keys(WAITS) as OrphanKind[]).map((kind) => {
    const violations = orphans
      .filter((o) => o.kind === kind)
      .map(({ id, label, status, workflowId, process }) => ({ id, label, status, workflowId, process }));
    return { name: WAITS[kind], ok: violations.length === 0, violations: violations.slice(0, 20) };
  });
}
