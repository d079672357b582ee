/**
 * Console sign-in: an API key is exchanged once for a session cookie (httpOnly, SameSite=Strict, Secure over
 * https) and a CSRF token every write must carry; signing out ends the session here. The session acts with its
 * key's roles, so the API refuses a session exactly what it refuses the key.
 */
import { z } from 'zod';
import { createSession, endSession } from '../../db/access';
import { principalOfKey, SESSION_COOKIE, type Principal } from '../auth';
import type { RouteDeps } from '../deps';
import { conflict } from '../errors';
import type { Routes } from '../route';
import { SessionEnded } from '../schemas';

const SignIn = z.object({ apiKey: z.string().min(1).max(200) }).openapi('SignIn');
const Session = z
  .object({
    name: z.string(),
    roles: z.array(z.string()),
    expiresAt: z.string(),
    csrfToken: z.string().openapi({ description: 'send it as X-CSRF-Token on every write made with the session' }),
    via: z.enum(['session', 'key']),
  })
  .openapi('Session');

export function sessionRoutes(routes: Routes, { db, config, lookups }: RouteDeps): void {
  routes.add({
    method: 'post',
    path: '/v1/sessions',
    errors: [401],
    tag: 'Sessions',
    summary: 'Sign in to the console with an API key: sets the session cookie, answers the CSRF token',
    roles: 'public',
    action: 'session.create',
    body: SignIn,
    response: { status: 201, schema: Session, description: 'Signed in; the cookie is set' },
    handler: async (ctx, { body }) => {
      const key = await principalOfKey(lookups, body.apiKey);
      const s = await createSession(db, key.keyId, config.SESSION_TTL_HOURS);
      ctx.cookies.set(SESSION_COOKIE, s.token, {
        httpOnly: true,
        sameSite: 'strict',
        secure: ctx.secure,
        expires: s.expiresAt,
        path: '/',
        overwrite: true,
      });
      ctx.state.principal = key; // the audit's who
      return {
        body: {
          name: key.name,
          roles: key.roles,
          expiresAt: s.expiresAt.toISOString(),
          csrfToken: s.csrfToken,
          via: 'session',
        },
        audit: { target: s.id },
      };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/sessions/current',
    tag: 'Sessions',
    summary: 'Who is signed in, with which roles, until when (and the CSRF token of the session)',
    roles: 'any',
    response: { status: 200, schema: Session, description: 'The caller' },
    handler: async (ctx) => {
      const p = ctx.state.principal as Principal;
      return {
        body: {
          name: p.name,
          roles: p.roles,
          expiresAt: p.session?.expiresAt.toISOString() ?? '',
          csrfToken: p.session?.csrfToken ?? '',
          via: p.session ? 'session' : 'key',
        },
      };
    },
  });

  routes.add({
    method: 'delete',
    path: '/v1/sessions/current',
    errors: [409],
    tag: 'Sessions',
    summary: 'Sign out: the session ends here, and its cookie is cleared',
    roles: 'any',
    action: 'session.end',
    response: {
      status: 200,
      schema: SessionEnded,
      description: 'Ended; 409 when the caller used an API key, not a session',
    },
    handler: async (ctx) => {
      const p = ctx.state.principal as Principal;
      if (!p.session) throw conflict('This call came with an API key, not a session: there is nothing to sign out of');
      const ended = await endSession(db, p.session.id);
      ctx.cookies.set(SESSION_COOKIE, '', {
        httpOnly: true,
        sameSite: 'strict',
        secure: ctx.secure,
        maxAge: 0,
        path: '/',
      });
      return { body: { ended }, audit: { target: p.session.id } };
    },
  });
}
