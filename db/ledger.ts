/** Posting journal entries. The database rejects an unbalanced entry at commit; this keeps callers honest earlier. */
import type { Db, Tx } from './index';

export type AccountCode =
  | '1000'
  | '1100'
  | '1150'
  | '1170'
  | '1200'
  | '1300'
  | '2000'
  | '2050'
  | '2060'
  | '2070'
  | '2100'
  | '3000'
  | '4000'
  | '4100'
  | '5000'
  | '5100'
  | '5200'
  | '6100'
  | '6200'
  | '6300'
  | '6400'
  | '6500';

/** The chart of accounts by name (the rows are seeded by the accounting migrations): postings say what they book. */
export const ACCOUNT = {
  bank: '1000',
  paymentClearing: '1100',
  settlementSuspense: '1150',
  disputedPayments: '1170',
  receivables: '1200',
  inventory: '1300',
  payables: '2000',
  goodsReceivedNotInvoiced: '2050',
  landedCostsPayable: '2060',
  carrierPayables: '2070',
  taxPayable: '2100',
  openingEquity: '3000',
  revenue: '4000',
  shippingIncome: '4100',
  costOfGoodsSold: '5000',
  inventoryLoss: '5100',
  purchasePriceVariance: '5200',
  paymentFees: '6100',
  chargebackLosses: '6200',
  marketplaceCommission: '6300',
  settlementWriteOffs: '6400',
  shippingCosts: '6500',
} as const satisfies Record<string, AccountCode>;

export interface JournalLine {
  account: AccountCode;
  debit?: number;
  credit?: number;
}

export interface JournalEntry {
  key: string; // one entry per business event: posting twice with the same key is a no-op
  description: string;
  sourceType: string;
  sourceId: string;
  currency: string;
  lines: JournalLine[];
}

/** Posts the entry once; returns its id, or the existing id when the key was already posted. */
export async function postEntry(tx: Tx, entry: JournalEntry): Promise<number | null> {
  const lines = entry.lines.filter((l) => (l.debit ?? 0) > 0 || (l.credit ?? 0) > 0);
  if (lines.length === 0) return null; // nothing to book, e.g. a zero-price replacement
  const debit = lines.reduce((s, l) => s + (l.debit ?? 0), 0);
  const credit = lines.reduce((s, l) => s + (l.credit ?? 0), 0);
  if (debit !== credit)
    throw new Error(`Journal entry ${entry.key} does not balance: debit ${debit}, credit ${credit}`);
  const inserted = await tx('journal_entries')
    .insert({
      idempotency_key: entry.key,
      description: entry.description,
      source_type: entry.sourceType,
      source_id: entry.sourceId,
      currency: entry.currency,
    })
    .onConflict('idempotency_key')
    .ignore()
    .returning('id');
  if (inserted.length === 0) {
    const existing = await tx('journal_entries').where({ idempotency_key: entry.key }).first('id');
    return existing.id;
  }
  const entryId = inserted[0].id as number;
  await tx('journal_lines').insert(
    lines.map((l) => ({ entry_id: entryId, account_code: l.account, debit: l.debit ?? 0, credit: l.credit ?? 0 })),
  );
  return entryId;
}

/** What the entry with this key debits in total (0 when it was never posted). */
export async function entryDebits(tx: Db | Tx, key: string): Promise<number> {
  const entry = await tx('journal_entries as e')
    .join('journal_lines as l', 'l.entry_id', 'e.id')
    .where('e.idempotency_key', key)
    .sum({ s: 'l.debit' })
    .first();
  return Number(entry?.s ?? 0);
}

/** Debits and credits of every account, in code order; with `asOf`, only what was posted before that moment. */
export function accountTotals(db: Db | Tx, asOf?: string) {
  return db('accounts as a')
    .leftJoin(
      db('journal_lines as l')
        .join('journal_entries as e', 'e.id', 'l.entry_id')
        .modify((q) => asOf && q.where('e.posted_at', '<', asOf))
        .select('l.account_code', 'l.debit', 'l.credit')
        .as('l'),
      'l.account_code',
      'a.code',
    )
    .groupBy('a.code', 'a.name', 'a.type')
    .orderBy('a.code')
    .select(
      'a.code',
      'a.name',
      'a.type',
      db.raw('COALESCE(SUM(l.debit),0)::bigint AS debit'),
      db.raw('COALESCE(SUM(l.credit),0)::bigint AS credit'),
    );
}

export interface JournalFilter {
  account?: string;
  source?: string;
  sourceId?: string;
  from?: string;
  to?: string;
}

/** Journal entries matching the filter (an account filter keeps the entries that touch it); the caller orders and pages. */
export function journalEntriesMatching(db: Db, f: JournalFilter) {
  return db('journal_entries as e')
    .modify((q) => {
      if (f.source) q.where('e.source_type', f.source);
      if (f.sourceId) q.where('e.source_id', f.sourceId);
      if (f.from) q.where('e.posted_at', '>=', f.from);
      if (f.to) q.where('e.posted_at', '<', f.to);
      if (f.account)
        q.whereExists(
          db('journal_lines as x').whereRaw('x.entry_id = e.id').where('x.account_code', f.account).select(db.raw('1')),
        );
    })
    .select('e.id', 'e.posted_at', 'e.description', 'e.source_type', 'e.source_id', 'e.currency');
}

/** The lines of these entries with their account names, in entry order. */
export async function linesOfEntries(db: Db, entryIds: (string | number)[]) {
  return db('journal_lines as l')
    .join('accounts as a', 'a.code', 'l.account_code')
    .whereIn('l.entry_id', entryIds)
    .orderBy('l.id')
    .select('l.entry_id', 'l.account_code', 'a.name as account_name', 'l.debit', 'l.credit');
}

/** One row per journal line of the matching entries, oldest first: what an accountant imports. */
export function journalLinesMatching(db: Db, f: JournalFilter) {
  return journalEntriesMatching(db, f)
    .join('journal_lines as l', 'l.entry_id', 'e.id')
    .join('accounts as a', 'a.code', 'l.account_code')
    .clearSelect()
    .select(
      'e.id as entry_id',
      'e.posted_at',
      'e.description',
      'e.source_type',
      'e.source_id',
      'l.account_code',
      'a.name as account_name',
      'l.debit',
      'l.credit',
      'e.currency',
    )
    .orderBy([{ column: 'e.posted_at' }, { column: 'e.id' }, { column: 'l.id' }]);
}

// ---------------------------------------------------------------------------
// Customer invoices.

export async function invoiceOfShipment(tx: Db | Tx, shipmentId: string) {
  return tx('invoices').where({ shipment_id: shipmentId }).first();
}

/** True when the order already has an invoice. */
export async function orderHasInvoice(tx: Db | Tx, orderId: string): Promise<boolean> {
  return !!(await tx('invoices').where({ order_id: orderId }).first('id'));
}

/** Quantity and tax already invoiced per order line of the order. */
export async function invoicedSoFar(
  tx: Db | Tx,
  orderId: string,
): Promise<{ order_line_id: number; qty: number; tax: number }[]> {
  return tx('invoice_lines as il')
    .join('invoices as i', 'i.id', 'il.invoice_id')
    .where('i.order_id', orderId)
    .whereNotNull('il.order_line_id')
    .groupBy('il.order_line_id')
    .select('il.order_line_id', tx.raw('SUM(il.quantity)::int AS qty'), tx.raw('SUM(il.tax)::bigint AS tax'));
}

/** The next invoice number (INV-000123). */
export async function nextInvoiceNumber(tx: Tx): Promise<string> {
  const seq = await tx.raw(`SELECT nextval('invoice_number_seq') AS n`);
  return `INV-${String(seq.rows[0].n).padStart(6, '0')}`;
}

export interface NewInvoice {
  id: string;
  number: string;
  orderId: string;
  shipmentId: string;
  currency: string;
  subtotal: number;
  shipping: number;
  tax: number;
  total: number;
}

export interface NewInvoiceLine {
  order_line_id: number | null; // null: the shipping charge
  description: string;
  quantity: number;
  unit_price: number;
  net: number;
  tax: number;
}

/** Writes the invoice and its lines. */
export async function recordInvoice(tx: Tx, i: NewInvoice, lines: NewInvoiceLine[]): Promise<void> {
  await tx('invoices').insert({
    id: i.id,
    number: i.number,
    order_id: i.orderId,
    shipment_id: i.shipmentId,
    currency: i.currency,
    subtotal: i.subtotal,
    shipping: i.shipping,
    tax: i.tax,
    total: i.total,
  });
  await tx('invoice_lines').insert(lines.map((l) => ({ ...l, invoice_id: i.id })));
}

export async function invoiceById(db: Db | Tx, invoiceId: string) {
  return db('invoices').where({ id: invoiceId }).first();
}

export async function markInvoicePaid(tx: Tx, invoiceId: string): Promise<void> {
  await tx('invoices').where({ id: invoiceId }).update({ status: 'paid' });
}

/** The first invoice that billed a line the return takes back. */
export async function invoiceOfReturn(tx: Db | Tx, returnId: string) {
  return tx('invoices as i')
    .join('invoice_lines as il', 'il.invoice_id', 'i.id')
    .join('return_lines as rl', 'rl.order_line_id', 'il.order_line_id')
    .where('rl.return_id', returnId)
    .orderBy('i.issued_at')
    .first('i.id');
}

/** The id of the shipment's invoice, if it was invoiced. */
export async function invoiceIdOfShipment(tx: Db | Tx, shipmentId: string): Promise<{ id: string } | undefined> {
  return tx('invoices').where({ shipment_id: shipmentId }).first('id');
}

/** The total of the shipment's invoice, if it was invoiced. */
export async function invoiceTotalOfShipment(db: Db | Tx, shipmentId: string): Promise<{ total: number } | undefined> {
  return db('invoices').where({ shipment_id: shipmentId }).first('total');
}
