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
import { authenticate, Principal, requireRole, Role } from './auth';
import { fromZod, HttpError, tooManyRequests } from './errors';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

extendZodWithOpenApi(z);

export const ErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.array(z.unknown()) }),
}).openapi('Error');

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
  handler: (ctx: Context, input: { body: z.infer<B>; params: z.infer<P>; query: z.infer<Q>; principal: Principal; requestKey?: string }) => Promise<Result>;
  raw?: boolean; // the handler writes ctx.body itself (documents, metrics)
}

export class Routes {
  readonly router = new Router();
  readonly registry = new OpenAPIRegistry();

  /** Every endpoint and who may call it: the role matrix (api/role-matrix.md) is generated from this. */
  readonly table: { method: string; path: string; roles: readonly Role[] | 'any' | 'public'; action?: string; hasBody: boolean; hasParams: boolean }[] = [];
  private limiter: RateLimiterMemory;

  constructor(private db: Db, rateLimitPerMinute = 6000) {
    this.limiter = new RateLimiterMemory({ points: rateLimitPerMinute, duration: 60 });
    this.registry.register('Error', ErrorBody);
    this.registry.registerComponent('securitySchemes', 'apiKey', { type: 'http', scheme: 'bearer', description: 'API key with roles' });
  }

  add<B extends z.ZodType = z.ZodUndefined, P extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined>(spec: RouteSpec<B, P, Q>): void {
    this.document(spec);
    this.table.push({ method: spec.method.toUpperCase(), path: spec.path, roles: spec.roles, action: spec.action, hasBody: spec.body !== undefined, hasParams: spec.params !== undefined });
    const checkKey = authenticate(this.db);
    this.router[spec.method](spec.path, async (ctx) => {
      if (spec.roles !== 'public') await checkKey(ctx, async () => undefined);
      const principal = ctx.state.principal as Principal;
      if (principal) await this.throttle(principal.keyId);
      if (spec.roles !== 'any' && spec.roles !== 'public') requireRole(principal, spec.roles);
      const input = {
        body: parse(spec.body, ctx.request.body, 'request body'),
        params: parse(spec.params, ctx.params, 'path'),
        query: parse(spec.query, ctx.query, 'query string'),
        principal,
        requestKey: spec.idempotent ? this.requestKey(ctx, spec.path, principal) : undefined,
      };
      const replay = spec.idempotent ? await this.replay(ctx, spec.path, principal) : undefined;
      if (replay) return;
      const result = await spec.handler(ctx, input);
      if (spec.raw) return;
      ctx.status = result.status ?? spec.response.status;
      ctx.body = result.body;
      if (spec.action) {
        ctx.state.audit = { action: spec.action, target: result.audit?.target, workflowId: result.audit?.workflowId };
        if (spec.idempotent) await this.remember(ctx, spec.path, principal, result);
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

  /**
   * The Idempotency-Key scoped to the caller and route. Handlers that create a record store it on the
   * record, so a retry finds it even when the answer was never stored (the process died in between).
   */
  private requestKey(ctx: Context, route: string, principal: Principal | undefined): string | undefined {
    const key = this.idempotencyKey(ctx);
    return key && principal ? createHash('sha256').update(`${principal.keyId}\n${route}\n${key}`).digest('hex') : undefined;
  }

  private idempotencyKey(ctx: Context): string | undefined {
    const key = ctx.get('idempotency-key');
    if (!key) return undefined;
    if (key.length > 200) throw new HttpError(400, 'validation_failed', 'Idempotency-Key must be at most 200 characters');
    return key;
  }

  private async replay(ctx: Context, route: string, principal: Principal): Promise<boolean> {
    const key = this.idempotencyKey(ctx);
    if (!key) return false;
    const seen = await this.db('idempotency_keys').where({ api_key_id: principal.keyId, route, key }).first();
    if (!seen) return false;
    ctx.status = 200; // a repeat returns the first result instead of creating a twin
    ctx.body = seen.body;
    return true;
  }

  private async remember(ctx: Context, route: string, principal: Principal, result: Result): Promise<void> {
    const key = this.idempotencyKey(ctx);
    if (!key) return;
    await this.db('idempotency_keys').insert({ api_key_id: principal.keyId, route, key, status: ctx.status, body: JSON.stringify(result.body ?? null) }).onConflict(['api_key_id', 'route', 'key']).ignore();
  }

  private document(spec: RouteSpec<z.ZodType, z.ZodType, z.ZodType>): void {
    const asObject = (s?: z.ZodType) => (s instanceof z.ZodObject ? s : undefined);
    this.registry.registerPath({
      method: spec.method,
      path: spec.path.replace(/:(\w+)/g, '{$1}'),
      tags: [spec.tag],
      summary: spec.summary,
      description: spec.roles === 'public' ? 'No API key.' : spec.roles === 'any' ? 'Any role.' : `Roles: ${spec.roles.join(', ')} (or admin).`,
      security: spec.roles === 'public' ? [] : [{ apiKey: [] }],
      request: {
        params: asObject(spec.params),
        query: asObject(spec.query),
        body: spec.body ? { content: { 'application/json': { schema: spec.body } } } : undefined,
      },
      responses: {
        [spec.response.status]: { description: spec.response.description, ...(spec.response.schema ? { content: { 'application/json': { schema: spec.response.schema } } } : {}) },
        400: { description: 'Malformed JSON or schema violation', content: { 'application/json': { schema: ErrorBody } } },
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
