/**
 * The one way to declare an endpoint: path, roles, zod schemas and handler in
 * one place. The same declaration validates requests, enforces roles, writes
 * the audit row, replays Idempotency-Key repeats and feeds /openapi.json.
 */
import { createHash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import Router from '@koa/router';
import type {} from '@koa/bodyparser'; // adds request.body and request.rawBody to Koa's types
import type { Context } from 'koa';
import { z } from 'zod';
import { extendZodWithOpenApi, OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Db } from '../db';
import {
  claimIdempotencyKey,
  idempotencyKeyState,
  releaseIdempotencyKey,
  storeIdempotentResult,
  takeOverIdempotencyKey,
  type IdempotencyScope,
} from '../db/access';
import { authenticate, Principal, requireRole, Role } from './auth';
import { fingerprint } from '../lib/fingerprint';
import { badRequest, conflict, fromZod, HttpError, tooManyRequests } from './errors';
import { refuseUnsafeText } from './text';
import type { Lookups } from './lookups';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

extendZodWithOpenApi(z);

/** How long a request holding an Idempotency-Key is taken to be still running; past it, a repeat takes the key over. */
const LEASE_SECONDS = 10;

export const ErrorBody = z
  .object({
    error: z.object({ code: z.string(), message: z.string(), details: z.array(z.unknown()) }),
  })
  .openapi('Error');

export interface Result<T = unknown> {
  status?: number;
  body: T;
  audit?: { target?: string; workflowId?: string };
}

export interface RouteSpec<B extends z.ZodType, P extends z.ZodType, Q extends z.ZodType> {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string; // Koa style: /v1/orders/:orderId
  tag: string;
  summary: string;
  roles: readonly Role[] | 'any' | 'public'; // public: no API key (health, signed webhooks)
  action?: string; // audit action name; state-changing routes must have one
  body?: B;
  params?: P;
  query?: Q;
  response: { status: number; schema?: z.ZodType; description: string };
  /** Other successful answers (an Idempotency-Key repeat's 200 is added by itself). */
  also?: readonly { status: number; description: string }[];
  /** Error statuses beyond those the declaration implies (see `errorStatuses`): what the handler refuses with. */
  errors?: readonly ErrorStatus[];
  /** A signed body: documented as the request body, parsed by the handler once the signature over it holds. */
  signedBody?: z.ZodType;
  operationId?: string; // default: from the audit action, or the method and path (`operationIdOf`)
  idempotent?: boolean; // honours the Idempotency-Key header
  handler: (
    ctx: Context,
    input: { body: z.infer<B>; params: z.infer<P>; query: z.infer<Q>; principal: Principal; requestKey?: string },
  ) => Promise<Result>;
  raw?: boolean; // the handler writes ctx.body itself (documents, metrics)
}

/**
 * The test suite's contract self-check (off in production): with TEST_STATUS_LOG set, every success answer is
 * checked, as it goes over the wire (JSON), against the response schema its route documents; a mismatch is
 * logged beside the statuses and fails the run's teardown (tests/helpers/statuses.ts).
 */
const CONTRACT_LOG = process.env.TEST_STATUS_LOG;
function checkAnswer(
  spec: { method: string; path: string; response: RouteSpec<never, never, never>['response'] },
  status: number,
  body: unknown,
): void {
  if (!spec.response.schema || status !== spec.response.status) return;
  const r = spec.response.schema.safeParse(JSON.parse(JSON.stringify(body ?? null)));
  if (r.success) return;
  const problems = r.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
  appendFileSync(
    CONTRACT_LOG!,
    `${JSON.stringify({ method: spec.method, route: spec.path, status, mismatch: problems })}\n`,
  );
}

export class Routes {
  readonly router = new Router();
  readonly registry = new OpenAPIRegistry();

  /** Every endpoint and who may call it: the role matrix (api/role-matrix.md) is generated from this. */
  readonly table: {
    method: string;
    path: string;
    roles: readonly Role[] | 'any' | 'public';
    action?: string;
    hasBody: boolean;
    hasParams: boolean;
  }[] = [];
  private limiter: RateLimiterMemory;

  constructor(
    private db: Db,
    private lookups: Lookups,
    rateLimitPerMinute = 6000,
  ) {
    this.limiter = new RateLimiterMemory({ points: rateLimitPerMinute, duration: 60 });
    this.registry.register('Error', ErrorBody);
    this.registry.registerComponent('securitySchemes', 'apiKey', {
      type: 'http',
      scheme: 'bearer',
      description: 'An API key (`Authorization: Bearer erp_…`); its roles decide what it may call',
    });
    this.registry.registerComponent('securitySchemes', 'session', {
      type: 'apiKey',
      in: 'cookie',
      name: 'erp_session',
      description:
        'A console session from POST /v1/sessions (httpOnly cookie); every write also needs its X-CSRF-Token header',
    });
  }

  add<B extends z.ZodType = z.ZodUndefined, P extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined>(
    spec: RouteSpec<B, P, Q>,
  ): void {
    this.document(spec);
    this.table.push({
      method: spec.method.toUpperCase(),
      path: spec.path,
      roles: spec.roles,
      action: spec.action,
      hasBody: spec.body !== undefined,
      hasParams: spec.params !== undefined,
    });
    const checkKey = authenticate(this.db, this.lookups);
    this.router[spec.method](spec.path, async (ctx) => {
      if (spec.roles !== 'public') await checkKey(ctx, async () => undefined);
      const principal = ctx.state.principal as Principal;
      if (principal) await this.throttle(principal.keyId);
      if (spec.roles !== 'any' && spec.roles !== 'public') requireRole(principal, spec.roles);
      refuseUnsafeText({ body: ctx.request.body, query: ctx.query, path: ctx.params });
      const key = spec.idempotent && principal ? this.idempotencyKey(ctx) : undefined;
      const input = {
        body: parse(spec.body, ctx.request.body, 'request body'),
        params: parse(spec.params, ctx.params, 'path'),
        query: parse(spec.query, ctx.query, 'query string'),
        principal,
        // Handlers that create a record store this on it, so a retry finds the record even when the answer was never stored.
        requestKey: key
          ? createHash('sha256').update(`${principal.keyId}\n${spec.path}\n${key}`).digest('hex')
          : undefined,
      };
      // The Idempotency-Key's row in the key store, scoped to the caller and route.
      const stored: IdempotencyScope | undefined = key
        ? { api_key_id: principal.keyId, route: spec.path, key }
        : undefined;
      const requestHash = stored ? fingerprint({ body: input.body, params: input.params }) : '';
      if (stored && (await this.claim(ctx, stored, requestHash))) return;
      const result = await spec.handler(ctx, input).catch(async (err: unknown) => {
        // A refusal (4xx) wrote nothing, so it does not bind the key: the caller may fix the request and resend it.
        if (stored && err instanceof HttpError && err.status < 500)
          await releaseIdempotencyKey(this.db, stored, requestHash);
        throw err;
      });
      if (spec.raw) return;
      ctx.status = result.status ?? spec.response.status;
      ctx.body = result.body;
      if (CONTRACT_LOG) checkAnswer(spec, ctx.status, result.body);
      if (spec.action) {
        ctx.state.audit = { action: spec.action, target: result.audit?.target, workflowId: result.audit?.workflowId };
        // The first result, for repeats of the same request.
        if (stored) await storeIdempotentResult(this.db, stored, ctx.status, result.body);
      }
    });
  }

  /** Each key has its own budget per minute; past it, 429 with Retry-After. */
  private async throttle(keyId: string): Promise<void> {
    try {
      await this.limiter.consume(keyId);
    } catch (rejected) {
      if (rejected instanceof Error) throw rejected;
      throw tooManyRequests(Math.max(1, Math.ceil((rejected as RateLimiterRes).msBeforeNext / 1000)));
    }
  }

  private idempotencyKey(ctx: Context): string | undefined {
    const key = ctx.get('idempotency-key');
    if (!key) return undefined;
    if (!/^[\x21-\x7e]{1,200}$/.test(key))
      throw badRequest(
        'The Idempotency-Key header must be 1-200 visible ASCII characters (letters, digits, punctuation; a UUID is ideal)',
        [{ path: 'idempotency-key', message: 'not 1-200 visible ASCII characters' }],
      );
    return key;
  }

  /**
   * Binds the Idempotency-Key to this request's fingerprint before the handler runs, so every record the
   * key creates is bound to one request. A finished repeat of the same request answers its first result;
   * the same key with a different request is refused with nothing written; an unfinished one (a concurrent
   * copy, or an attempt that died) runs the handler again, which finds its record by the request key.
   */
  private async claim(ctx: Context, stored: IdempotencyScope, requestHash: string): Promise<boolean> {
    if (await claimIdempotencyKey(this.db, stored, requestHash)) return false;
    // A copy of a request still being handled waits for its answer, so it can neither twin what the first creates nor
    // fail a client that retried too early; a first attempt that died (no answer within the lease) is taken over.
    for (
      const until = Date.now() + 2 * LEASE_SECONDS * 1000;
      Date.now() < until;
      await new Promise((r) => setTimeout(r, 100))
    ) {
      const seen = await idempotencyKeyState(this.db, stored, LEASE_SECONDS);
      if (!seen) return this.claim(ctx, stored, requestHash); // released by a refusal meanwhile
      if (seen.request_hash && seen.request_hash !== requestHash) {
        throw conflict(
          `Idempotency-Key "${stored.key}" was already used for a different request to ${ctx.method} ${stored.route}; nothing was done. Send a new key for a new request, or repeat the first request exactly.`,
          [{ path: 'idempotency-key', message: 'already used with a different request' }],
        );
      }
      if (seen.status !== null) {
        ctx.status = 200; // a repeat returns the first result instead of creating a twin
        ctx.body = seen.body;
        return true;
      }
      if (seen.in_flight) continue;
      const takenOver = await takeOverIdempotencyKey(this.db, stored, requestHash, LEASE_SECONDS);
      if (takenOver > 0) return false; // it finds what the dead attempt created by the request key
    }
    ctx.set('Retry-After', '1');
    throw conflict(
      `A request with Idempotency-Key "${stored.key}" is still being handled; repeat it in a moment to receive its result.`,
      [{ path: 'idempotency-key', message: 'request in progress' }],
    );
  }

  private readonly operationIds = new Set<string>();

  private document(spec: RouteSpec<z.ZodType, z.ZodType, z.ZodType>): void {
    const asObject = (s?: z.ZodType) => (s instanceof z.ZodObject ? s : undefined);
    const operationId = spec.operationId ?? operationIdOf(spec);
    if (this.operationIds.has(operationId)) throw new Error(`Two routes with operationId ${operationId}`);
    this.operationIds.add(operationId);
    const headers = z.object({
      ...(spec.idempotent ? { 'Idempotency-Key': IdempotencyKeyHeader } : {}),
      ...(spec.signedBody ? { 'x-signature': SignatureHeader } : {}),
    });
    this.registry.registerPath({
      method: spec.method,
      path: spec.path.replace(/:(\w+)/g, '{$1}'),
      operationId,
      tags: [spec.tag],
      summary: spec.summary,
      description:
        spec.roles === 'public'
          ? 'No API key.'
          : spec.roles === 'any'
            ? 'Any role.'
            : `Roles: ${spec.roles.join(', ')} (or admin).`,
      security: spec.roles === 'public' ? [] : [{ apiKey: [] }, { session: [] }],
      request: {
        params: asObject(spec.params),
        query: asObject(spec.query),
        headers: Object.keys(headers.shape).length ? headers : undefined,
        body:
          (spec.body ?? spec.signedBody)
            ? { content: { 'application/json': { schema: (spec.body ?? spec.signedBody)! } }, required: true }
            : undefined,
      },
      responses: {
        [spec.response.status]: {
          description: spec.response.description,
          ...(spec.response.schema ? { content: { 'application/json': { schema: spec.response.schema } } } : {}),
        },
        ...(spec.idempotent && spec.response.status !== 200
          ? { 200: { description: 'A repeat with the same Idempotency-Key: the first result, nothing done again' } }
          : {}),
        ...Object.fromEntries((spec.also ?? []).map((a) => [a.status, { description: a.description }])),
        ...Object.fromEntries(
          errorStatuses(spec).map((status) => [
            status,
            { description: ERROR_MEANING[status], content: { 'application/json': { schema: ErrorBody } } },
          ]),
        ),
      },
    });
  }
}

const SignatureHeader = z.string().openapi({
  description:
    "`sha256=` and the hex HMAC-SHA256 of the raw request body with the shared webhook secret; the body's " +
    '`sentAt` must be within the replay window (WEBHOOK_TOLERANCE_SECONDS), and each `eventId` is applied once.',
  example: 'sha256=5d41402abc4b2a76b9719d911017c592ae8f3e9c3f1f6b5f0a0c1d2e3f4a5b6c',
});

const IdempotencyKeyHeader = z
  .string()
  .openapi({
    description:
      'Makes a retry safe: 1-200 visible ASCII characters, a UUID is ideal. A repeat of the same request answers ' +
      'its first result; the same key with a different request is a 409 with nothing done.',
    example: '2f9c6c1e-8a53-4c1e-9d0a-5b1f3f7a9e11',
  })
  .optional();

export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 503;

const ERROR_MEANING: Record<ErrorStatus, string> = {
  400: 'Malformed JSON, a schema violation, or text a database cannot hold; details name each field',
  401: 'Missing, unknown or revoked API key (or an ended session); a webhook with a bad signature',
  403: 'The key lacks the role, or a console write without its X-CSRF-Token',
  404: 'What the path names does not exist',
  405: 'The path does not take that method',
  409: 'Conflicts with the current state (details say which), or an Idempotency-Key reused for another request',
  413: 'The request body is larger than the limit',
  415: 'The body is not application/json',
  422: 'Well-formed but refused by a business rule; details list each problem',
  429: 'Too many requests for this key; retry after the Retry-After header',
  503: 'The database or the process engine is unavailable; retry shortly',
};

/**
 * Every error status a route can answer, from what it declares: input can be malformed (400), a key can be
 * missing (401) or over budget (429), a role or a session's CSRF token can be wrong (403), a path can name
 * nothing (404), a body can be too big or not JSON (413, 415), a repeated Idempotency-Key can conflict (409),
 * a dependency can be down (503); plus what the handler itself refuses with (`errors`).
 */
export function errorStatuses(
  spec: Pick<
    RouteSpec<z.ZodType, z.ZodType, z.ZodType>,
    'roles' | 'method' | 'body' | 'params' | 'query' | 'idempotent' | 'errors' | 'raw'
  >,
): ErrorStatus[] {
  const s = new Set<ErrorStatus>([400, 503, ...(spec.errors ?? [])]);
  if (spec.roles !== 'public') [401, 429].forEach((x) => s.add(x as ErrorStatus));
  if (spec.roles !== 'public' && (spec.roles !== 'any' || spec.method !== 'get')) s.add(403);
  if (spec.params) s.add(404);
  if (spec.body || spec.method !== 'get') [413, 415].forEach((x) => s.add(x as ErrorStatus));
  if (spec.idempotent) s.add(409);
  return [...s].sort((a, b) => a - b);
}

/**
 * A stable name per operation for generated clients: the audit action read as a verb phrase
 * (`order.cancel` -> `cancelOrder`), else the method and the path (`GET /v1/orders/:orderId` -> `getOrdersByOrderId`).
 */
export function operationIdOf(
  spec: Pick<RouteSpec<z.ZodType, z.ZodType, z.ZodType>, 'action' | 'method' | 'path'>,
): string {
  const pascal = (w: string) => w.replace(/(^|[-_.\s])(\w)/g, (_m, _s, c: string) => c.toUpperCase());
  if (spec.action) {
    const [noun, verb] = spec.action.split('.');
    return `${verb.replace(/_(\w)/g, (_m, c: string) => c.toUpperCase())}${pascal(noun)}`;
  }
  const parts = spec.path
    .split('/')
    .filter((p) => p && p !== 'v1')
    .map((p) => (p.startsWith(':') ? `By${pascal(p.slice(1))}` : pascal(p.replace(/\.json$/, ''))));
  return `${spec.method}${parts.join('')}`;
}

export function parse<S extends z.ZodType>(schema: S | undefined, value: unknown, where: string): z.infer<S> {
  if (!schema) return undefined as z.infer<S>;
  const r = schema.safeParse(value);
  if (!r.success) throw fromZod(r.error, where);
  return r.data;
}
