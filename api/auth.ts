/**
 * API keys. A key is shown once at creation; only its SHA-256 hash is stored.
 * Lookup is by hash (an index hit), and the found hash is compared in constant
 * time. Revocation takes effect on the next request: nothing is cached.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Role } from '../contracts/roles';
import type { Db } from '../db';
import { activeKeyByHash, hashKey } from '../db/access';
import { HttpError } from './errors';

export type { Role };

export interface Principal {
  keyId: string;
  name: string;
  roles: Role[];
}

export { bootstrapAdminKey, createApiKey, hashKey, newKey } from '../db/access';

export function authenticate(db: Db) {
  return async (ctx: Context, next: Next) => {
    const header = ctx.get('authorization');
    const match = /^Bearer\s+(\S{1,200})$/i.exec(header);
    if (!match) throw new HttpError(401, 'unauthorized', 'Send an API key as "Authorization: Bearer <key>"');
    const hash = hashKey(match[1]);
    const row = await activeKeyByHash(db, hash);
    if (!row || !timingSafeEqual(Buffer.from(row.key_hash, 'hex'), Buffer.from(hash, 'hex'))) {
      throw new HttpError(401, 'unauthorized', 'Unknown or revoked API key');
    }
    ctx.state.principal = { keyId: row.id, name: row.name, roles: row.roles } satisfies Principal;
    await next();
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
