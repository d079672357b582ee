/** The Koa application: request ids, errors, metrics, body parsing, routes and the audit trail, in that order. */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import Koa, { Context, Next } from 'koa';
import { bodyParser } from '@koa/bodyparser';
import { recordAudit } from '../db/access';
import type { Principal } from './auth';
import { consolePages } from './console';
import type { ApiDeps } from './deps';
import { errorMiddleware, HttpError } from './errors';
import { httpDuration, httpRequests } from './metrics';
import { Routes } from './route';
import { channelRoutes } from './routes/channels';
import { exceptionRoutes } from './routes/exceptions';
import { inventoryRoutes } from './routes/inventory';
import { masterDataRoutes } from './routes/master-data';
import { orderRoutes } from './routes/orders';
import { ledgerRoutes } from './routes/ledger';
import { purchasingRoutes } from './routes/purchasing';
import { returnRoutes } from './routes/returns';
import { serviceRoutes } from './routes/service';
import { sessionRoutes } from './routes/sessions';
import { systemRoutes } from './routes/system';
import { webhookRoutes } from './routes/webhooks';
import { webhookSubscriptionRoutes } from './routes/webhook-subscriptions';
import { landedCostRoutes } from './routes/landed-costs';
import { marginRoutes } from './routes/margins';
import { settlementRoutes } from './routes/settlements';
import { carrierChargeRoutes } from './routes/carrier-charges';
import { codecCors, codecRoutes } from './routes/codec';
import { Lookups } from './lookups';
import { inRequestSpan } from '../lib/tracing';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/;

async function requestId(ctx: Context, next: Next) {
  const given = ctx.get('x-request-id');
  ctx.state.requestId = REQUEST_ID.test(given) ? given : randomUUID();
  ctx.set('x-request-id', ctx.state.requestId);
  await next();
}

/** The request's trace span (lib/tracing.ts; a no-op while tracing is off), with its request id. */
function traced(ctx: Context, next: Next) {
  return inRequestSpan(
    ctx.method,
    { 'erp.request_id': ctx.state.requestId, 'url.path': ctx.path },
    () => next(),
    () => ({ route: (ctx as Context & { _matchedRoute?: string })._matchedRoute ?? 'unmatched', status: ctx.status }),
  );
}

function measure(ctx: Context, next: Next) {
  const stop = httpDuration.startTimer();
  return next().finally(() => {
    const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
    stop({ method: ctx.method, route });
    httpRequests.inc({ method: ctx.method, route, status: String(ctx.status) });
  });
}

/** One audit row for every state change that succeeded: who, what, which target, which request and process. */
function audit(deps: ApiDeps) {
  return async (ctx: Context, next: Next) => {
    await next();
    const a = ctx.state.audit as { action: string; target?: string; workflowId?: string } | undefined;
    if (!a || ctx.status >= 400) return;
    const p = ctx.state.principal as Principal | undefined;
    await recordAudit(deps.db, {
      apiKeyId: p?.keyId ?? null,
      apiKeyName: p?.name ?? `signed:${ctx.path}`,
      roles: p?.roles ?? null,
      action: a.action,
      method: ctx.method,
      path: ctx.path,
      target: a.target ?? null,
      status: ctx.status,
      requestId: ctx.state.requestId,
      workflowId: a.workflowId ?? null,
    });
  };
}

/** Every endpoint, declared once (the app serves them; the role matrix and the audit check read them). */
export function buildRoutes(given: ApiDeps): Routes {
  const deps = { ...given, lookups: given.lookups ?? new Lookups(given.db) };
  const routes = new Routes(deps.db, deps.lookups, deps.config.RATE_LIMIT_PER_MINUTE);
  systemRoutes(routes, deps);
  sessionRoutes(routes, deps);
  masterDataRoutes(routes, deps);
  channelRoutes(routes, deps);
  orderRoutes(routes, deps);
  inventoryRoutes(routes, deps);
  returnRoutes(routes, deps);
  purchasingRoutes(routes, deps);
  ledgerRoutes(routes, deps);
  exceptionRoutes(routes, deps);
  serviceRoutes(routes, deps);
  webhookRoutes(routes, deps);
  webhookSubscriptionRoutes(routes, deps);
  landedCostRoutes(routes, deps);
  marginRoutes(routes, deps);
  settlementRoutes(routes, deps);
  carrierChargeRoutes(routes, deps);
  codecRoutes(routes, deps);
  return routes;
}

export function createApp(deps: ApiDeps): Koa {
  const app = new Koa();
  app.proxy = true;
  const routes = buildRoutes(deps);
  app.use(requestId);
  app.use(traced);
  app.use(codecCors(deps.config.CODEC_CORS_ORIGINS));
  app.use(errorMiddleware);
  app.use(measure);
  app.use(consolePages());
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: deps.config.BODY_LIMIT, encoding: 'utf-8' }));
  app.use(audit(deps));
  app.use(routes.router.routes());
  app.use(
    routes.router.allowedMethods({
      throw: true,
      methodNotAllowed: () =>
        new HttpError(405, 'method_not_allowed', 'This path does not take that method; see /openapi.json'),
      notImplemented: () => new HttpError(501, 'method_not_allowed', 'This method is not implemented'),
    }),
  );
  return app;
}

/**
 * Listens with room for long query strings: an availability read names up to 1,000 SKUs (about 20 KiB of
 * URL), past Node's default 16 KiB of headers.
 */
export function listen(app: Koa, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer({ maxHeaderSize: 64 * 1024 }, app.callback());
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
