/**
 * The one HTTP error helper. Every failure leaves the API as
 * `{"error": {"code", "message", "details"}}` with the contract's status;
 * anything unexpected is logged with the request id and answered without a trace.
 */
import type { Context, Next } from 'koa';
import { z } from 'zod';
import { logger } from '../lib/logger';

export type ErrorCode =
  | 'malformed_json'
  | 'validation_failed'
  | 'payload_too_large'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'unprocessable'
  | 'dependency_unavailable'
  | 'internal_error'
  | 'invalid_signature'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'method_not_allowed';

export class HttpError extends Error {
  constructor(
    public status: number,
    public code: ErrorCode,
    message: string,
    public details: unknown[] = [],
    public headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details: unknown[] = []) =>
  new HttpError(400, 'validation_failed', message, details);
export const notFound = (what: string) => new HttpError(404, 'not_found', `${what} not found`);

/** A list's `cursor` that is not one this API gave: a 400 naming it (db/paging.ts throws BadCursor). */
export function refuseBadCursor(err: unknown): never {
  if (err instanceof Error && err.name === 'BadCursor')
    throw badRequest('The cursor is not one this API gave; start again without it', [
      { path: 'cursor', message: err.message },
    ]);
  throw err;
}
export const conflict = (message: string, details: unknown[] = []) => new HttpError(409, 'conflict', message, details);
export const unprocessable = (message: string, details: unknown[] = []) =>
  new HttpError(422, 'unprocessable', message, details);
export const tooManyRequests = (retryAfterSeconds: number) =>
  new HttpError(429, 'rate_limited', `Too many requests for this API key; retry after ${retryAfterSeconds} s`, [], {
    'Retry-After': String(retryAfterSeconds),
  });
export const unavailable = (what: string) =>
  new HttpError(503, 'dependency_unavailable', `${what} is unavailable; retry shortly`);

export function fromZod(err: z.ZodError, where: string): HttpError {
  return badRequest(
    `The ${where} is invalid`,
    err.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
  );
}

/** Errors from Postgres or Temporal that mean "a dependency is down", not "your request is wrong". */
function isDependencyDown(err: unknown): string | undefined {
  const e = err as { code?: string | number; name?: string; message?: string };
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P03', '08006', '08001'].includes(String(e.code)))
    return 'The database';
  if (e.name === 'KnexTimeoutError') return 'The database';
  if (e.code === 14 || e.code === 4 || e.name === 'ServiceError' || e.name === 'TransportError')
    return 'The process engine (Temporal)';
  return undefined;
}

export async function errorMiddleware(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
    if (ctx.status === 404 && ctx.body === undefined) throw notFound(`${ctx.method} ${ctx.path}`);
  } catch (err) {
    const e = toHttpError(err);
    if (e.status >= 500)
      logger.error(
        { err: (err as Error).message, stack: (err as Error).stack, requestId: ctx.state.requestId },
        'request failed',
      );
    ctx.status = e.status;
    ctx.set(e.headers);
    ctx.body = { error: { code: e.code, message: e.message, details: e.details } };
  }
}

export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof z.ZodError) return fromZod(err, 'request');
  const e = err as { status?: number; type?: string; message?: string };
  // Body parser errors carry an HTTP status of their own.
  if (e.status === 413 || e.type === 'entity.too.large')
    return new HttpError(413, 'payload_too_large', 'The request body is larger than the limit');
  if (e.status === 415) return new HttpError(415, 'unsupported_media_type', 'Send the body as application/json');
  if (e.status === 400) return new HttpError(400, 'malformed_json', 'The request body is not valid JSON');
  const down = isDependencyDown(err);
  if (down) return unavailable(down);
  return new HttpError(
    500,
    'internal_error',
    'Something went wrong on our side; the request id identifies it in our logs',
  );
}
