/**
 * API keys. A key is shown once at creation; only its SHA-256 hash is stored.
 * Lookup is by hash (an index hit, or the process's cache of active keys, which
 * every write to api_keys empties: api/lookups.ts), and the found hash is
 * compared in constant time. Revocation takes effect on the next request.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Role } from '../contracts/roles';
import type { Db } from '../db';
import { activeSessionByHash, hashKey } from '../db/access';
import { HttpError } from './errors';
import type { Lookups } from './lookups';

export type { Role };

export interface Principal {
  keyId: string;
  name: string;
  roles: Role[];
  session?: { id: string; csrfToken: string; expiresAt: Date }; // signed in to the console, not a bearer key
}

/** The console's session cookie: httpOnly, SameSite=Strict, Secure when served over https. */
export const SESSION_COOKIE = 'erp_session';
const SAFE_METHODS = ['GET', 'HEAD', 'OPTIONS'];

export { bootstrapAdminKey, createApiKey, hashKey, newKey } from '../db/access';

export function authenticate(db: Db, lookups: Lookups) {
  return async (ctx: Context, next: Next) => {
    const header = ctx.get('authorization');
    const cookie = ctx.cookies.get(SESSION_COOKIE);
    if (!header && cookie) ctx.state.principal = await sessionPrincipal(db, ctx, cookie);
    else ctx.state.principal = await keyPrincipal(lookups, header);
    await next();
  };
}

async function keyPrincipal(lookups: Lookups, header: string): Promise<Principal> {
  const match = /^Bearer\s+(\S{1,200})$/i.exec(header);
  if (!match) throw new HttpError(401, 'unauthorized', 'Send an API key as "Authorization: Bearer <key>", or sign in');
  return principalOfKey(lookups, match[1]);
}

/** The active key's principal (its hash looked up, compared in constant time), or a 401. Sign-in uses it too. */
export async function principalOfKey(lookups: Pick<Lookups, 'keyByHash'>, key: string): Promise<Principal> {
  const hash = hashKey(key);
  const row = await lookups.keyByHash(hash);
  if (!row || !timingSafeEqual(Buffer.from(row.key_hash, 'hex'), Buffer.from(hash, 'hex'))) {
    throw new HttpError(401, 'unauthorized', 'Unknown or revoked API key');
  }
  return { keyId: row.id, name: row.name, roles: row.roles };
}

/** A console session; every write it makes must carry its CSRF token (a cookie alone is not consent). */
async function sessionPrincipal(db: Db, ctx: Context, token: string): Promise<Principal> {
  const row = token.length <= 100 ? await activeSessionByHash(db, hashKey(token)) : undefined;
  if (!row) throw new HttpError(401, 'unauthorized', 'The session has ended or expired: sign in again');
  if (!SAFE_METHODS.includes(ctx.method)) {
    const given = Buffer.from(ctx.get('x-csrf-token'));
    const expected = Buffer.from(row.csrf_token);
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw new HttpError(
        403,
        'forbidden',
        'Missing or wrong X-CSRF-Token header for this session; reload the console',
      );
  }
  return {
    keyId: row.key_id,
    name: row.name,
    roles: row.roles,
    session: { id: row.id, csrfToken: row.csrf_token, expiresAt: row.expires_at },
  };
}

export function requireRole(principal: Principal, allowed: readonly Role[]): void {
  if (principal.roles.includes('admin')) return;
  if (!allowed.some((r) => principal.roles.includes(r))) {
    throw new HttpError(
      403,
      'forbidden',
      `This API key lacks the role for this call; it needs one of: ${allowed.join(', ')}`,
    );
  }
}
