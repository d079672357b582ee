/** Posting journal entries. The database rejects an unbalanced entry at commit; this keeps callers honest earlier. */
import type { Tx } from './index';

export type AccountCode = '1000' | '1100' | '1200' | '1300' | '2000' | '2050' | '2100' | '3000' | '4000' | '4100' | '5000' | '5100' | '5200';

/** The chart of accounts by name (the rows are seeded by the accounting migrations): postings say what they book. */
export const ACCOUNT = {
  bank: '1000', paymentClearing: '1100', receivables: '1200', inventory: '1300',
  payables: '2000', goodsReceivedNotInvoiced: '2050', taxPayable: '2100', openingEquity: '3000',
  revenue: '4000', shippingIncome: '4100', costOfGoodsSold: '5000', inventoryLoss: '5100', purchasePriceVariance: '5200',
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
  if (debit !== credit) throw new Error(`Journal entry ${entry.key} does not balance: debit ${debit}, credit ${credit}`);
  const inserted = await tx('journal_entries')
    .insert({ idempotency_key: entry.key, description: entry.description, source_type: entry.sourceType, source_id: entry.sourceId, currency: entry.currency })
    .onConflict('idempotency_key')
    .ignore()
    .returning('id');
  if (inserted.length === 0) {
    const existing = await tx('journal_entries').where({ idempotency_key: entry.key }).first('id');
    return existing.id;
  }
  const entryId = inserted[0].id as number;
  await tx('journal_lines').insert(lines.map((l) => ({ entry_id: entryId, account_code: l.account, debit: l.debit ?? 0, credit: l.credit ?? 0 })));
  return entryId;
}
