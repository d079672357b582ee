/**
 * A request's fingerprint: SHA-256 of its canonical JSON (object keys sorted, arrays in order), so
 * that a repeat with the same key can be told apart from a different request reusing it, however
 * the client ordered its fields. Computed on the validated request (after zod trimmed and
 * defaulted it), so whitespace a schema trims does not make two requests differ.
 */
import { createHash, createHmac } from 'node:crypto';

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function fingerprint(value: unknown): string {
  return createHash('sha256').update(canonical(value)).digest('hex');
}

/** A signed message's signature: HMAC-SHA256 of the raw body with the shared secret, as `sha256=<hex>`. */
export function signature(secret: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}
