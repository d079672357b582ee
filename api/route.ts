/**
 * The one way to declare an endpoint: path, roles, zod schemas and handler in
 * one place. The same declaration validates requests, enforces roles, writes
 * the audit row, replays Idempotency-Key repeats and feeds /openapi.json.
 */
import { createHash } from 'node:crypto';
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
  idempotent?: boolean; // honours the Idempotency-Key header
  handler: (
    ctx: Context,
    input: { body: z.infer<B>; params: z.infer<P>; query: z.infer<Q>; principal: Principal; requestKey?: string },
  ) => Promise<Result>;
  raw?: boolean; // the handler writes ctx.body itself (documents, metrics)
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
      description: 'API key with roles',
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

  private document(spec: RouteSpec<z.ZodType, z.ZodType, z.ZodType>): void {
    const asObject = (s?: z.ZodType) => (s instanceof z.ZodObject ? s : undefined);
    this.registry.registerPath({
      method: spec.method,
      path: spec.path.replace(/:(\w+)/g, '{$1}'),
      tags: [spec.tag],
      summary: spec.summary,
      description:
        spec.roles === 'public'
          ? 'No API key.'
          : spec.roles === 'any'
            ? 'Any role.'
            : `Roles: ${spec.roles.join(', ')} (or admin).`,
      security: spec.roles === 'public' ? [] : [{ apiKey: [] }],
      request: {
        params: asObject(spec.params),
        query: asObject(spec.query),
        body: spec.body ? { content: { 'application/json': { schema: spec.body } } } : undefined,
      },
      responses: {
        [spec.response.status]: {
          description: spec.response.description,
          ...(spec.response.schema ? { content: { 'application/json': { schema: spec.response.schema } } } : {}),
        },
        400: {
          description: 'Malformed JSON or schema violation',
          content: { 'application/json': { schema: ErrorBody } },
        },
        401: { description: 'Missing or unknown API key', content: { 'application/json': { schema: ErrorBody } } },
        403: { description: 'The key lacks the role', content: { 'application/json': { schema: ErrorBody } } },
      },
    });
  }
}

export function parse<S extends z.ZodType>(schema: S | undefined, value: unknown, where: string): z.infer<S> {
  if (!schema) return undefined as z.infer<S>;
  const r = schema.safeParse(value);
  if (!r.success) throw fromZod(r.error, where);
  return r.data;
}
