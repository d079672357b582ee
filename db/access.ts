/** API keys: only their SHA-256 hash is stored, with the roles they carry. */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Role } from '../contracts/roles';
import type { Db } from './index';

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

export function newKey(): string {
  return `erp_${randomBytes(24).toString('base64url')}`;
}

export async function createApiKey(db: Db, name: string, roles: Role[], key = newKey()): Promise<{ id: string; key: string }> {
  const id = randomUUID();
  await db('api_keys').insert({ id, name, prefix: key.slice(0, 8), key_hash: hashKey(key), roles });
  return { id, key };
}

/** Accepts ERP_ADMIN_API_KEY as an admin key, stored hashed like any other. */
export async function bootstrapAdminKey(db: Db, key: string | undefined): Promise<void> {
  if (!key) return;
  await db('api_keys')
    .insert({ id: randomUUID(), name: 'bootstrap admin (ERP_ADMIN_API_KEY)', prefix: key.slice(0, 8), key_hash: hashKey(key), roles: ['admin'] })
    .onConflict('key_hash')
    .ignore();
}
