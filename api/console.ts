/**
 * Serves the operations console (console/, built by `npm run build:console` into console/dist) at /console:
 * its hashed assets for a year, and its page for every other path under /console (the console routes in the
 * browser, so each page is a bookmarkable URL). It talks to the public API like any client.
 */
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Context, Next } from 'koa';
import serve from 'koa-static';
import { HttpError } from './errors';

export const CONSOLE_DIST = join(__dirname, '..', 'console', 'dist');
const PREFIX = '/console';

export function consolePages(dist = CONSOLE_DIST) {
  const assets = serve(dist, { index: false, maxage: 365 * 24 * 3600 * 1000, immutable: true });
  const page = join(dist, 'index.html');
  return async (ctx: Context, next: Next) => {
    if (ctx.path !== PREFIX && !ctx.path.startsWith(`${PREFIX}/`)) return next();
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (!existsSync(page))
      throw new HttpError(503, 'dependency_unavailable', 'The console is not built here: run `npm run build:console`');
    ctx.set(
      'Content-Security-Policy',
      "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
    );
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'same-origin');
    const rest = ctx.path.slice(PREFIX.length);
    if (rest.startsWith('/assets/')) {
      const asked = ctx.path;
      ctx.path = rest;
      await assets(ctx, async () => undefined);
      ctx.path = asked;
      if (ctx.body === undefined) throw new HttpError(404, 'not_found', `No console asset ${rest}`);
      return;
    }
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = 'html';
    ctx.body = createReadStream(page);
  };
}
