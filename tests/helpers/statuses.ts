/**
 * The OpenAPI document promises which statuses each operation can answer. Every API a test starts logs each
 * answer (operation and status) to TEST_STATUS_LOG; after a full run the teardown checks that each status any
 * test met is documented for that operation, so the document cannot fall behind the code.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import type Koa from 'koa';
import type { Context, Next } from 'koa';

/** Outermost middleware: it sees the final status, after the error middleware shaped it. */
export function logStatuses(app: Koa): void {
  const file = process.env.TEST_STATUS_LOG;
  if (!file) return;
  app.middleware.unshift(async (ctx: Context, next: Next) => {
    try {
      await next();
    } finally {
      const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute;
      if (route)
        appendFileSync(file, `${JSON.stringify({ method: ctx.method.toLowerCase(), route, status: ctx.status })}\n`);
    }
  });
}

/** Statuses met that the document does not list for their operation, as `GET /v1/x: 409`. */
export function undocumentedStatuses(
  file: string,
  doc: { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> },
): string[] {
  const missing = new Set<string>();
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const { method, route, status, mismatch } = JSON.parse(line) as {
      method: string;
      route: string;
      status: number;
      mismatch?: string[];
    };
    if (mismatch) continue; // answers unlike their schema: answersUnlikeTheirSchema
    if (method === 'head' || method === 'options') continue;
    const op = doc.paths[route.replace(/:(\w+)/g, '{$1}')]?.[method];
    if (op && !op.responses[String(status)]) missing.add(`${method.toUpperCase()} ${route}: ${status}`);
  }
  return [...missing].sort();
}

/** Success answers that did not match the response schema their route documents (api/route.ts checks them). */
export function answersUnlikeTheirSchema(file: string): string[] {
  const found = new Set<string>();
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as { method: string; route: string; mismatch?: string[] };
    if (r.mismatch) found.add(`${r.method.toUpperCase()} ${r.route}: ${r.mismatch.join(', ')}`);
  }
  return [...found].sort();
}
