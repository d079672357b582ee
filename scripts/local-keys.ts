/** Where `npm start` keeps the demo API keys it created (an ignored folder), so the demo and simulator can use them. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { config } from '../lib/config';

const dataDir = () => config().ERP_DATA_DIR;
const keysFile = () => join(dataDir(), 'demo-keys.json');

export type LocalKeys = { apiUrl: string; keys: Record<string, string> };

export function saveLocalKeys(k: LocalKeys): void {
  mkdirSync(dataDir(), { recursive: true });
  const previous = readLocalKeys();
  writeFileSync(
    keysFile(),
    JSON.stringify({ apiUrl: k.apiUrl, keys: { ...(previous?.keys ?? {}), ...k.keys } }, null, 2),
    { mode: 0o600 },
  );
}

export function readLocalKeys(): LocalKeys | undefined {
  return existsSync(keysFile()) ? (JSON.parse(readFileSync(keysFile(), 'utf8')) as LocalKeys) : undefined;
}

/** A key for `role` from ERP_API_KEY or the local file; a clear error otherwise. */
export function keyFor(role: string): { apiUrl: string; key: string } {
  const local = readLocalKeys();
  const apiUrl = process.env.ERP_API_URL ?? local?.apiUrl ?? 'http://127.0.0.1:3000';
  const key = process.env.ERP_API_KEY ?? local?.keys[role];
  if (!key)
    throw new Error(
      `No ${role} API key: start the platform with \`npm start\` (it creates demo keys) or set ERP_API_KEY and ERP_API_URL.`,
    );
  return { apiUrl, key };
}
