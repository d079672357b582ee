/**
 * CSV exports, streamed: rows go from a Postgres cursor (pg-query-stream, through knex) to csv-stringify to
 * the response, so a year of orders never sits in memory. Asked for with `?format=csv` or `Accept: text/csv`.
 */
import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import type { Knex } from 'knex';
import type { Context } from 'koa';

/** Money in a CSV is in major units (12.34), as a spreadsheet reads it; the API's JSON keeps minor units. */
export const major = (minor: number) => minor / 100;

export const wantsCsv = (ctx: Context, format?: string) =>
  format === 'csv' || (format === undefined && ctx.accepts('json', 'text/csv') === 'text/csv');

/** Streams `query`'s rows as CSV with these columns (header first); `row` maps a database row to them. */
export function sendCsv<R>(
  ctx: Context,
  filename: string,
  query: Knex.QueryBuilder,
  columns: { key: string; header: string }[],
  row: (r: R) => Record<string, unknown>,
): void {
  ctx.type = 'text/csv; charset=utf-8';
  ctx.set('Content-Disposition', `attachment; filename="${filename}"`);
  const out = new PassThrough();
  ctx.body = out;
  const shape = new Transform({
    objectMode: true,
    transform: (r: R, _enc, done) => done(null, row(r)),
  });
  const csv = stringify({ header: true, columns, cast: { date: (d) => d.toISOString() } });
  // A failure mid-stream cannot become an error response any more (the status went out): the stream is cut.
  void pipeline(query.stream(), shape, csv, out).catch(() => out.destroy());
}
