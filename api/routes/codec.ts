/**
 * The payload codec endpoint, so engineers can read encrypted payloads (lib/payload-codec.ts) in the Temporal
 * UI or CLI: `temporal workflow show -w <id> --codec-endpoint http://<api>/v1/codec --codec-auth "Bearer <ops
 * key>"`, or the UI's codec endpoint setting with its access token passed. Temporal's codec server protocol:
 * POST {payloads: [{metadata, data}]} (base64) to /decode or /encode. Ops and admin keys only: what it
 * decodes is personal data.
 */
import type { Payload } from '@temporalio/common';
import type { Context, Next } from 'koa';
import type { RouteDeps } from '../deps';
import { badRequest, unprocessable } from '../errors';
import type { Routes } from '../route';
import { CodecBody } from '../schemas';
import { EncryptionCodec } from '../../lib/payload-codec';

type Wire = { metadata?: Record<string, string>; data?: string };

const fromWire = (p: Wire): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toWire = (p: Payload): Wire => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

/** The browser's preflight and CORS headers for the Temporal UI's origins (CODEC_CORS_ORIGINS). */
export function codecCors(origins: readonly string[]) {
  return async (ctx: Context, next: Next) => {
    if (!ctx.path.startsWith('/v1/codec/')) return next();
    const origin = ctx.get('origin');
    if (origin && origins.includes(origin)) {
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Vary', 'Origin');
      ctx.set('Access-Control-Allow-Headers', 'authorization, content-type, x-namespace');
      ctx.set('Access-Control-Allow-Methods', 'POST, OPTIONS');
      ctx.set('Access-Control-Max-Age', '600');
    }
    if (ctx.method === 'OPTIONS') return void (ctx.status = 204);
    return next();
  };
}

export function codecRoutes(routes: Routes, { config }: RouteDeps): void {
  const codec = config.PAYLOAD_KEYS ? new EncryptionCodec(config.PAYLOAD_KEYS) : undefined;
  for (const way of ['decode', 'encode'] as const) {
    routes.add({
      method: 'post',
      path: `/v1/codec/${way}`,
      errors: [422],
      tag: 'System',
      summary:
        way === 'decode'
          ? 'Decrypt Temporal payloads for the Temporal UI or CLI (codec server protocol)'
          : 'Encrypt payloads the Temporal UI or CLI sends (codec server protocol)',
      roles: ['ops'],
      operationId: `${way}Payloads`,
      body: CodecBody,
      response: { status: 200, schema: CodecBody, description: `The payloads, ${way}d` },
      handler: async (_ctx, { body }) => {
        if (!codec) throw unprocessable('Payload encryption is off here (PAYLOAD_KEYS is not set): nothing to decode');
        try {
          const out = await codec[way](body.payloads.map(fromWire));
          return { body: { payloads: out.map(toWire) } };
        } catch (err) {
          throw badRequest(`A payload could not be ${way}d: ${(err as Error).message}`, [
            { path: 'payloads', message: (err as Error).message },
          ]);
        }
      },
    });
  }
}
