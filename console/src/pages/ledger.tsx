/**
 * The books for finance: the trial balance (now or as of a date) and the journal, filtered by account, source
 * and period, a page at a time; both downloadable as CSV for the accountant's own tools.
 */
import { useState } from 'preact/hooks';
import { api, problem } from '../api';
import { fieldsOf } from '../field';
import { money, when } from '../format';
import { Pager, useListUrl } from '../pager';
import { usePolled } from '../poll';

/** A date input's day as the start of that day in UTC (the books' periods are UTC days). */
const dayStart = (d: string | undefined) => (d ? `${d}T00:00:00Z` : undefined);

export function Ledger() {
  const { filter, go } = useListUrl('ledger', ['account', 'source', 'from', 'to', 'asOf']);
  const [form, setForm] = useState({
    account: filter.account ?? '',
    source: filter.source ?? '',
    from: filter.from ?? '',
    to: filter.to ?? '',
    asOf: filter.asOf ?? '',
  });
  const journalQuery = {
    account: filter.account,
    source: filter.source,
    from: dayStart(filter.from),
    to: dayStart(filter.to),
  };
  const balance = usePolled(async () => {
    const { data, error } = await api.GET('/v1/ledger/trial-balance', {
      params: { query: { asOf: dayStart(filter.asOf) } },
    });
    if (!data) throw new Error(problem(error));
    return data;
  }, [filter.asOf]);
  const journal = usePolled(async () => {
    const { data, error } = await api.GET('/v1/ledger/journal', {
      params: { query: { ...journalQuery, cursor: filter.cursor, limit: 50 } },
    });
    if (!data) throw new Error(problem(error));
    return data;
  }, [JSON.stringify(filter)]);
  const csv = (path: string, q: Record<string, string | undefined>) =>
    `${path}?${new URLSearchParams({ ...Object.fromEntries(Object.entries(q).filter(([, v]) => v) as [string, string][]), format: 'csv' })}`;
  const field = fieldsOf(form, setForm, 'l');
  const b = balance.data;
  return (
    <main>
      <h1>Ledger</h1>
      <form class="filters" onSubmit={(e) => (e.preventDefault(), go(form))}>
        {field('account', 'Account (e.g. 1300)')}
        {field('source', 'Source (e.g. shipment)')}
        {field('from', 'Posted from', { type: 'date' })}
        {field('to', 'Posted before', { type: 'date' })}
        {field('asOf', 'Trial balance as of', { type: 'date' })}
        <button type="submit">Show</button>
      </form>
      {[balance.error, journal.error].filter(Boolean).map((e) => (
        <p key={e} role="alert" class="error">
          {e}
        </p>
      ))}
      <h2>Trial balance {filter.asOf ? `as of ${filter.asOf}` : 'now'}</h2>
      <p>
        <a href={csv('/v1/ledger/trial-balance', { asOf: dayStart(filter.asOf) })} download>
          Download the trial balance as CSV
        </a>
      </p>
      {b && (
        <table>
          <thead>
            <tr>
              <th scope="col">Account</th>
              <th scope="col">Name</th>
              <th scope="col">Debit</th>
              <th scope="col">Credit</th>
              <th scope="col">Balance</th>
            </tr>
          </thead>
          <tbody>
            {b.accounts.map((a) => (
              <tr key={a.code}>
                <td>
                  <a href={`/console/ledger?account=${a.code}`}>{a.code}</a>
                </td>
                <td>{a.name}</td>
                <td>{money(a.debit, b.currency)}</td>
                <td>{money(a.credit, b.currency)}</td>
                <td>{money(a.balance, b.currency)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row" colSpan={2}>
                Totals {b.totalDebit === b.totalCredit ? '(balanced)' : '(NOT balanced)'}
              </th>
              <td>{money(b.totalDebit, b.currency)}</td>
              <td>{money(b.totalCredit, b.currency)}</td>
              <td />
            </tr>
          </tfoot>
        </table>
      )}
      <h2>Journal, newest first</h2>
      <p>
        <a href={csv('/v1/ledger/journal', journalQuery)} download>
          Download these journal lines as CSV
        </a>
      </p>
      {journal.data?.entries.length === 0 && <p>No entries match.</p>}
      <table>
        <thead>
          <tr>
            <th scope="col">Posted</th>
            <th scope="col">Entry</th>
            <th scope="col">Account</th>
            <th scope="col">Debit</th>
            <th scope="col">Credit</th>
          </tr>
        </thead>
        <tbody>
          {journal.data?.entries.flatMap((e) =>
            e.lines.map((l, i) => (
              <tr key={`${e.entryId}-${i}`}>
                <td>{i === 0 ? when(e.postedAt) : ''}</td>
                <td>{i === 0 ? `${e.description} (${e.source})` : ''}</td>
                <td>
                  {l.account} {l.accountName}
                </td>
                <td>{l.debit ? money(l.debit, e.currency) : ''}</td>
                <td>{l.credit ? money(l.credit, e.currency) : ''}</td>
              </tr>
            )),
          )}
        </tbody>
      </table>
      <Pager filter={filter} go={go} next={journal.data?.next} />
    </main>
  );
}
