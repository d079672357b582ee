/** Health, readiness, metrics, the OpenAPI document and the human-readable reference at /docs. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiDocument } from '../openapi';
import { z } from 'zod';
import { getAbsoluteFSPath } from 'swagger-ui-dist';
import type { ApiDeps } from '../deps';
import { channelSyncLag, channelSyncPending, registry, work } from '../metrics';
import { workGauges } from '../../db/reports';
import { allChannels, syncStatus } from '../../db/channels';
import type { Routes } from '../route';
import { workersPolling } from '../process';
import { Health, Readiness } from '../schemas';

const DOCS_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>ERP process platform API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head><body><div id="ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui' });</script></body></html>`;
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css',
  'swagger-ui-bundle.js': 'application/javascript',
};

export function systemRoutes(routes: Routes, { db, temporal, config }: ApiDeps): void {
  routes.add({
    method: 'get',
    path: '/healthz',
    tag: 'System',
    summary: 'The process is up',
    roles: 'public',
    response: { status: 200, schema: Health, description: 'ok' },
    handler: async () => ({ body: { status: 'ok' } }),
  });

  routes.add({
    method: 'get',
    path: '/readyz',
    tag: 'System',
    summary: 'Postgres and Temporal are reachable; whether any worker polls the task queue',
    roles: 'public',
    response: {
      status: 200,
      schema: Readiness,
      description:
        'ready (the API can take requests; `checks.workers` says whether processes move); 503 names what is not',
    },
    handler: async () => {
      const within = <T>(p: Promise<T>) =>
        Promise.race([p, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('timeout')), 3000))]);
      const [pg, tmp, polling] = await Promise.allSettled([
        within(db.raw('SELECT 1')),
        within(temporal.workflowService.getSystemInfo({})),
        within(workersPolling(temporal, config.TEMPORAL_NAMESPACE, config.TEMPORAL_TASK_QUEUE)),
      ]);
      const workers = polling.status === 'fulfilled' ? polling.value : 0;
      const checks = {
        postgres: pg.status === 'fulfilled' ? 'ok' : 'unreachable',
        temporal: tmp.status === 'fulfilled' ? 'ok' : 'unreachable',
        // Orders are taken without a worker (they wait in Temporal), so this informs rather than fails readiness.
        workers:
          workers > 0
            ? `ok: ${workers} polling ${config.TEMPORAL_TASK_QUEUE}`
            : `none polling ${config.TEMPORAL_TASK_QUEUE}: processes wait until a worker starts (npm run start:worker)`,
      };
      const ready = checks.postgres === 'ok' && checks.temporal === 'ok';
      return {
        status: ready ? 200 : 503,
        body: ready
          ? { status: 'ready', checks }
          : { error: { code: 'dependency_unavailable', message: 'Not ready', details: [checks] } },
      };
    },
  });

  routes.add({
    method: 'get',
    path: '/metrics',
    tag: 'System',
    summary: 'Prometheus metrics',
    roles: 'public',
    raw: true,
    response: { status: 200, description: 'Prometheus text format' },
    handler: async (ctx) => {
      await Promise.all([measureChannels(), measureWork()]);
      ctx.type = registry.contentType;
      ctx.body = await registry.metrics();
      return { body: undefined };
    },
  });

  /** Cases, approvals, the notification outbox and the webhook deliveries, read at scrape time; a type or kind with nothing waiting reads 0. */
  async function measureWork() {
    const { cases, approvals, outbox, webhooks } = await workGauges(db);
    for (const g of Object.values(work)) g.reset();
    for (const c of cases) {
      work.casesOpen.set({ type: c.type }, c.open);
      work.casesBreached.set({ type: c.type }, c.breached);
    }
    for (const a of approvals) {
      work.approvalsPending.set({ kind: a.kind }, a.pending);
      work.approvalOldest.set({ kind: a.kind }, Math.round(a.oldest_seconds));
    }
    work.outboxPending.set(outbox.pending);
    work.outboxOldest.set(Math.round(outbox.oldest_seconds));
    work.webhooksWaiting.set({ status: 'pending' }, webhooks.pending);
    work.webhooksWaiting.set({ status: 'dead' }, webhooks.dead);
    work.webhookOldest.set(Math.round(webhooks.oldest_seconds));
  }

  /** Each connected channel's sync lag and backlog, read at scrape time. */
  async function measureChannels() {
    for (const c of (await allChannels(db)).filter((x) => x.connection)) {
      const { lagSeconds, pending } = await syncStatus(db, c.id);
      channelSyncLag.set({ channel: c.code }, lagSeconds);
      channelSyncPending.set({ channel: c.code }, pending);
    }
  }

  let document: unknown;
  routes.add({
    method: 'get',
    path: '/openapi.json',
    tag: 'System',
    summary: 'This API as OpenAPI 3',
    roles: 'public',
    response: { status: 200, description: 'OpenAPI document' },
    handler: async () => {
      document ??= openApiDocument(routes.registry);
      return { body: document };
    },
  });

  routes.add({
    method: 'get',
    path: '/docs',
    tag: 'System',
    summary: 'Human-readable API reference',
    roles: 'public',
    raw: true,
    response: { status: 200, description: 'HTML' },
    handler: async (ctx) => {
      ctx.type = 'text/html';
      ctx.body = DOCS_PAGE;
      return { body: undefined };
    },
  });

  const assetCache = new Map<string, Buffer>();
  routes.add({
    method: 'get',
    path: '/docs/assets/:file',
    tag: 'System',
    summary: 'Assets of the /docs page',
    roles: 'public',
    raw: true,
    params: z.object({ file: z.enum(Object.keys(ASSETS) as [string, ...string[]]) }),
    response: { status: 200, description: 'asset' },
    handler: async (ctx, { params }) => {
      if (!assetCache.has(params.file))
        assetCache.set(params.file, readFileSync(join(getAbsoluteFSPath(), params.file)));
      ctx.type = ASSETS[params.file];
      ctx.set('cache-control', 'public, max-age=86400');
      ctx.body = assetCache.get(params.file);
      return { body: undefined };
    },
  });
}
