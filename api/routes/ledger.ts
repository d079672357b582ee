/** The books, read-only: the journal (entries with their lines) and the trial balance, as JSON or streamed CSV. */
import { accountTotals, journalEntriesMatching, journalLinesMatching, linesOfEntries } from '../../db/ledger';
import { pageOf } from '../../db/paging';
import { major, sendCsv, wantsCsv } from '../csv';
import type { ApiDeps } from '../deps';
import { refuseBadCursor } from '../errors';
import type { Routes } from '../route';
import { JournalList, JournalQuery, TrialBalance, TrialBalanceQuery } from '../schemas';

const JOURNAL_CSV = [
  { key: 'entry_id', header: 'entry_id' },
  { key: 'posted_at', header: 'posted_at' },
  { key: 'description', header: 'description' },
  { key: 'source_type', header: 'source' },
  { key: 'source_id', header: 'source_id' },
  { key: 'account_code', header: 'account' },
  { key: 'account_name', header: 'account_name' },
  { key: 'debit', header: 'debit' },
  { key: 'credit', header: 'credit' },
  { key: 'currency', header: 'currency' },
];

const TRIAL_BALANCE_CSV = [
  { key: 'code', header: 'account' },
  { key: 'name', header: 'account_name' },
  { key: 'type', header: 'type' },
  { key: 'debit', header: 'debit' },
  { key: 'credit', header: 'credit' },
  { key: 'balance', header: 'balance' },
];

interface EntryRow {
  id: number;
  posted_at: Date;
  description: string;
  source_type: string;
  source_id: string;
  currency: string;
}
interface AccountRow {
  code: string;
  name: string;
  type: string;
  debit: number;
  credit: number;
}

export function ledgerRoutes(routes: Routes, { db, config }: ApiDeps): void {
  routes.add({
    method: 'get',
    path: '/v1/ledger/journal',
    tag: 'Finance',
    summary: 'Journal entries with their lines, newest first a page at a time, or every line as CSV (oldest first)',
    roles: ['finance'],
    query: JournalQuery,
    response: { status: 200, schema: JournalList, description: 'A page of entries (or text/csv of every line)' },
    raw: true,
    handler: async (ctx, { query }) => {
      if (wantsCsv(ctx, query.format)) {
        sendCsv(ctx, 'journal.csv', journalLinesMatching(db, query), JOURNAL_CSV, (l: AccountRow & EntryRow) => ({
          ...l,
          debit: major(l.debit),
          credit: major(l.credit),
        }));
        return { body: undefined };
      }
      const page = await pageOf<EntryRow>(journalEntriesMatching(db, query), {
        atColumn: 'e.posted_at',
        idColumn: 'e.id',
        cursor: query.cursor,
        limit: query.limit,
        at: (e) => e.posted_at,
      }).catch(refuseBadCursor);
      const lines = await linesOfEntries(
        db,
        page.items.map((e) => e.id),
      );
      ctx.body = {
        entries: page.items.map((e) => ({
          entryId: String(e.id),
          postedAt: e.posted_at,
          description: e.description,
          source: e.source_type,
          sourceId: e.source_id,
          currency: e.currency,
          lines: lines
            .filter((l) => l.entry_id === e.id)
            .map((l) => ({ account: l.account_code, accountName: l.account_name, debit: l.debit, credit: l.credit })),
        })),
        next: page.next,
      };
      return { body: ctx.body };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/ledger/trial-balance',
    tag: 'Finance',
    summary: 'Trial balance of every account (now, or as of a moment), as JSON or CSV',
    roles: ['finance'],
    query: TrialBalanceQuery,
    response: {
      status: 200,
      schema: TrialBalance,
      description: 'Accounts with debits, credits and balance; the totals are equal',
    },
    raw: true,
    handler: async (ctx, { query }) => {
      const asOf = query.asOf ?? new Date().toISOString();
      if (wantsCsv(ctx, query.format)) {
        sendCsv(
          ctx,
          `trial-balance-${asOf.slice(0, 10)}.csv`,
          accountTotals(db, asOf),
          TRIAL_BALANCE_CSV,
          (a: AccountRow) => ({
            ...a,
            debit: major(a.debit),
            credit: major(a.credit),
            balance: major(a.debit - a.credit),
          }),
        );
        return { body: undefined };
      }
      const accounts = (await accountTotals(db, asOf)).map((r: AccountRow) => ({
        code: r.code,
        name: r.name,
        type: r.type,
        debit: r.debit,
        credit: r.credit,
        balance: r.debit - r.credit,
      }));
      ctx.body = {
        currency: config.BASE_CURRENCY,
        asOf,
        accounts,
        totalDebit: accounts.reduce((s, a) => s + a.debit, 0),
        totalCredit: accounts.reduce((s, a) => s + a.credit, 0),
      };
      return { body: ctx.body };
    },
  });
}
