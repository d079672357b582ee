/** API keys: only their SHA-256 hash is stored, with the roles they carry. */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Role } from '../contracts/roles';
import type { Db } from './index';

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

export function newKey(): string {
  return `erp_${randomBytes(24).toString('base64url')}`;
}

export async function createApiKey(
  db: Db,
  name: string,
  roles: Role[],
  key = newKey(),
): Promise<{ id: string; key: string }> {
  const id = randomUUID();
  await db('api_keys').insert({ id, name, prefix: key.slice(0, 8), key_hash: hashKey(key), roles });
  return { id, key };
}

/** Accepts ERP_ADMIN_API_KEY as an admin key, stored hashed like any other. */
export async function bootstrapAdminKey(db: Db, key: string | undefined): Promise<void> {
  if (!key) return;
  await db('api_keys')
    .insert({
      id: randomUUID(),
      name: 'bootstrap admin (ERP_ADMIN_API_KEY)',
      prefix: key.slice(0, 8),
      key_hash: hashKey(key),
      roles: ['admin'],
    })
    .onConflict('key_hash')
    .ignore();
}

/** The active (not revoked) key with this hash. */
export async function activeKeyByHash(
  db: Db,
  keyHash: string,
): Promise<{ id: string; name: string; roles: Role[]; key_hash: string } | undefined> {
  return db('api_keys').where({ key_hash: keyHash }).whereNull('revoked_at').first('id', 'name', 'roles', 'key_hash');
}

/** A console session for an active key: its token (for the cookie, never stored) and CSRF token. */
export async function createSession(
  db: Db,
  apiKeyId: string,
  ttlHours: number,
): Promise<{ id: string; token: string; csrfToken: string; expiresAt: Date }> {
  const id = randomUUID();
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  const [row] = await db('sessions')
    .insert({
      id,
      token_hash: hashKey(token),
      csrf_token: csrfToken,
      api_key_id: apiKeyId,
      expires_at: db.raw(`now() + make_interval(hours => ?)`, [ttlHours]),
    })
    .returning('expires_at');
  return { id, token, csrfToken, expiresAt: row.expires_at };
}

/** The live session with this token hash (not ended, not expired, its key not revoked), with its key. */
export async function activeSessionByHash(db: Db, tokenHash: string) {
  return db('sessions as s')
    .join('api_keys as k', 'k.id', 's.api_key_id')
    .where('s.token_hash', tokenHash)
    .whereNull('s.ended_at')
    .where('s.expires_at', '>', db.fn.now())
    .whereNull('k.revoked_at')
    .first<
      | {
          id: string;
          token_hash: string;
          csrf_token: string;
          expires_at: Date;
          key_id: string;
          name: string;
          roles: Role[];
        }
      | undefined
    >('s.id', 's.token_hash', 's.csrf_token', 's.expires_at', 'k.id as key_id', 'k.name', 'k.roles');
}

/** Ends a session (sign-out); answers whether it was live. */
export async function endSession(db: Db, sessionId: string): Promise<boolean> {
  return (await db('sessions').where({ id: sessionId }).whereNull('ended_at').update({ ended_at: db.fn.now() })) > 0;
}

/** Revokes an active key at once; answers how many rows changed (0 or 1). */
export async function revokeApiKey(db: Db, keyId: string): Promise<number> {
  return db('api_keys').where({ id: keyId }).whereNull('revoked_at').update({ revoked_at: db.fn.now() });
}

// ---------------------------------------------------------------------------
// The audit trail.

export interface AuditEntry {
  apiKeyId: string | null;
  apiKeyName: string;
  roles: Role[] | null;
  action: string;
  method: string;
  path: string;
  target: string | null;
  status: number;
  requestId: string;
  workflowId: string | null;
}

export async function recordAudit(db: Db, a: AuditEntry): Promise<void> {
  await db('audit_log').insert({
    api_key_id: a.apiKeyId,
    api_key_name: a.apiKeyName,
    roles: a.roles,
    action: a.action,
    method: a.method,
    path: a.path,
    target: a.target,
    status: a.status,
    request_id: a.requestId,
    workflow_id: a.workflowId,
  });
}

// ---------------------------------------------------------------------------
// Idempotency-Key store: one row per caller, route and key.

export type IdempotencyScope = { api_key_id: string; route: string; key: string };

/** Binds the key to this request's fingerprint; true when this request is the first to hold it. */
export async function claimIdempotencyKey(db: Db, scope: IdempotencyScope, requestHash: string): Promise<boolean> {
  const mine = await db('idempotency_keys')
    .insert({ ...scope, request_hash: requestHash })
    .onConflict(['api_key_id', 'route', 'key'])
    .ignore()
    .returning('key');
  return mine.length > 0;
}

/** The key's request fingerprint and stored result, and whether its holder is still within the lease. */
export async function idempotencyKeyState(
  db: Db,
  scope: IdempotencyScope,
  leaseSeconds: number,
): Promise<{ request_hash: string | null; status: number | null; body: unknown; in_flight: boolean } | undefined> {
  return db('idempotency_keys')
    .where(scope)
    .first(
      'request_hash',
      'status',
      'body',
      db.raw(`created_at > now() - interval '${leaseSeconds} seconds' AS in_flight`),
    );
}

/** Takes over a key whose holder died (no result past the lease); answers how many rows changed (0 or 1). */
export async function takeOverIdempotencyKey(
  db: Db,
  scope: IdempotencyScope,
  requestHash: string,
  leaseSeconds: number,
): Promise<number> {
  return db('idempotency_keys')
    .where(scope)
    .whereNull('status')
    .whereRaw(`created_at <= now() - interval '${leaseSeconds} seconds'`)
    .update({ request_hash: requestHash, created_at: db.fn.now() });
}

/** Releases a key held by this request that has no result yet. */
export async function releaseIdempotencyKey(db: Db, scope: IdempotencyScope, requestHash: string): Promise<void> {
  await db('idempotency_keys')
    .where({ ...scope, request_hash: requestHash })
    .whereNull('status')
    .delete();
}

/** Stores the first result of the request holding the key, for its repeats. */
export async function storeIdempotentResult(
  db: Db,
  scope: IdempotencyScope,
  status: number,
  body: unknown,
): Promise<void> {
  await db('idempotency_keys')
    .where(scope)
    .whereNull('status')
    .update({ status, body: JSON.stringify(body ?? null) });
}

/** Every key, newest first, without its hash. */
export async function listApiKeys(db: Db) {
  return db('api_keys')
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .select('id', 'name', 'prefix', 'roles', 'created_at', 'revoked_at');
}

export interface AuditFilter {
  action?: string;
  keyName?: string;
  target?: string;
  from?: string;
  to?: string;
}

/** The audit log matching a filter (a page of it is read through db/paging.ts). */
export function auditMatching(db: Db, f: AuditFilter) {
  const q = db('audit_log').select(
    'id',
    'at',
    'api_key_name',
    'roles',
    'action',
    'method',
    'path',
    'target',
    'status',
    'request_id',
    'workflow_id',
  );
  if (f.action) q.where('action', f.action);
  if (f.keyName) q.where('api_key_name', f.keyName);
  if (f.target) q.where('target', f.target);
  if (f.from) q.where('at', '>=', f.from);
  if (f.to) q.where('at', '<', f.to);
  return q;
}
