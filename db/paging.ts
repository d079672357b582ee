/**
 * Cursor paging for every list: newest first by a timestamp with the id as tie-breaker, so the order is stable
 * and a page never repeats or skips a row written meanwhile. The cursor is opaque to clients (base64url of
 * the last row's time and id); a cursor that is not one of ours is a plain refusal, not a 500.
 */
import type { Knex } from 'knex';

export interface Page<T> {
  items: T[];
  next: string | null; // pass as `cursor` for the next page; null on the last one
}

export class BadCursor extends Error {
  override name = 'BadCursor';
}

export function decodeCursor(cursor: string | undefined): { at: string; id: string } | undefined {
  if (!cursor) return undefined;
  const m = /^([^|]{1,40})\|([A-Za-z0-9-]{1,64})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m || Number.isNaN(Date.parse(m[1]))) throw new BadCursor('not a cursor this API gave');
  return { at: m[1], id: m[2] };
}

const encodeCursor = (at: Date, id: string) => Buffer.from(`${at.toISOString()}|${id}`).toString('base64url');

/** Adds the keyset condition and order to `q` (rows newer first), reads one more than `limit` to know if there is a next page. */
export async function pageOf<R extends { id: string | number }>(
  q: Knex.QueryBuilder,
  o: { atColumn: string; idColumn: string; cursor?: string; limit: number; at: (row: R) => Date },
): Promise<Page<R>> {
  const after = decodeCursor(o.cursor);
  if (after) q.whereRaw(`(${o.atColumn}, ${o.idColumn}) < (?::timestamptz, ?)`, [after.at, after.id]);
  const rows = (await q
    .orderBy([
      { column: o.atColumn, order: 'desc' },
      { column: o.idColumn, order: 'desc' },
    ])
    .limit(o.limit + 1)) as R[];
  const items = rows.slice(0, o.limit);
  const last = items[items.length - 1];
  return { items, next: rows.length > o.limit && last ? encodeCursor(o.at(last), String(last.id)) : null };
}
