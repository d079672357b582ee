/**
 * Protected payloads: every workflow input, result, signal, update, query answer, activity argument and memo
 * is encrypted (AES-256-GCM) before it leaves our processes, so payment tokens, addresses and e-mails are not
 * in clear in Temporal's histories or in its database. The key id travels in each payload's metadata, so keys
 * rotate without downtime: PAYLOAD_KEYS lists `id:base64key` pairs, the first encrypts, any listed one
 * decrypts (add the new key first everywhere, then move it to the front, keep the old one while histories
 * encrypted with it are still read). A payload that is not encrypted (recorded before this existed) passes
 * through, so old histories still replay. Failure messages and stack traces are encoded as payloads too
 * (lib/failure-converter.ts), so they are encrypted with the rest. Search attributes cannot be encrypted: they
 * hold no personal data.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { Config } from './config';

const ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
// The key id is bound into the ciphertext (GCM additional data), so a payload cannot be passed off as written
// with another key. Payloads sealed before the binding existed carry no marker and open without it.
const BOUND = 'encryption-bound';
const utf8 = (s: string) => new TextEncoder().encode(s);

export class EncryptionCodec implements PayloadCodec {
  private readonly keys: Map<string, Buffer>;
  private readonly current: string;

  constructor(keys: { id: string; key: Buffer }[]) {
    if (!keys.length) throw new Error('EncryptionCodec needs at least one key');
    this.keys = new Map(keys.map((k) => [k.id, k.key]));
    this.current = keys[0].id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.keys.get(this.current)!;
    return payloads.map((p) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(utf8(this.current));
      const plain = temporal.api.common.v1.Payload.encode(p).finish();
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { encoding: utf8(ENCODING), [KEY_ID]: utf8(this.current), [BOUND]: utf8('key-id') },
        data: sealed,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (new TextDecoder().decode(p.metadata?.encoding) !== ENCODING) return p; // written before encryption
      const id = new TextDecoder().decode(p.metadata?.[KEY_ID]);
      const key = this.keys.get(id);
      if (!key)
        throw new Error(
          `A payload is encrypted with key "${id}", which PAYLOAD_KEYS does not list: add it back (keys stay while histories written with them are read)`,
        );
      const data = Buffer.from(p.data ?? new Uint8Array());
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
      if (p.metadata?.[BOUND]) decipher.setAAD(utf8(id));
      decipher.setAuthTag(data.subarray(data.length - 16));
      const plain = Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]);
      return temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}

/** Failures' messages and stack traces as payloads (lib/failure-converter.ts), so the codec covers them too. */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

/** The data converter every client and worker of an installation uses (no keys: payloads in clear). */
export function dataConverter(c: Pick<Config, 'PAYLOAD_KEYS'>): DataConverter {
  return {
    failureConverterPath: FAILURE_CONVERTER_PATH,
    ...(c.PAYLOAD_KEYS ? { payloadCodecs: [new EncryptionCodec(c.PAYLOAD_KEYS)] } : {}),
  };
}

/** A new key line for PAYLOAD_KEYS (`npm start` makes one for a fresh installation). */
export function newPayloadKey(id: string): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}
