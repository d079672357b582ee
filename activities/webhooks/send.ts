/**
 * One webhook attempt: the event's body signed per the Standard Webhooks spec (webhook-id, webhook-timestamp,
 * webhook-signature: `v1,` + HMAC-SHA256 over `id.timestamp.body` with the subscription's whsec_ secret),
 * posted with a time limit to an address checked at the moment of connecting (lib/webhook-targets.ts).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type BlockList } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { DueDelivery } from '../../db/webhooks';
import { checkAddress, guardedLookup } from '../../lib/webhook-targets';
import type { EventBody } from '../../contracts/events';

export interface Answer {
  ok: boolean;
  statusCode: number | null;
  error: string;
}

/** The body and headers of one attempt (the timestamp is the attempt's, as the spec has it). */
export function signedDelivery(d: DueDelivery, now = new Date()) {
  const body = JSON.stringify({
    type: d.type,
    timestamp: new Date(d.event_created_at).toISOString(),
    data: d.data,
  } as EventBody);
  const signature = new Webhook(d.secret).sign(d.event_id, now, body);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'webhook-id': d.event_id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signature,
      'user-agent': 'erp-platform-webhooks/1',
    },
  };
}

export async function post(d: DueDelivery, o: { timeoutSeconds: number; allowed: BlockList }): Promise<Answer> {
  const { body, headers } = signedDelivery(d);
  const url = new URL(d.url);
  try {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) checkAddress(host, o.allowed); // an address literal is dialled without a lookup
  } catch (err) {
    return { ok: false, statusCode: null, error: `refused: ${(err as Error).message}` };
  }
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<Answer>((resolve) => {
    const done = (a: Answer) => {
      clearTimeout(limit);
      resolve(a); // the first answer counts; later ones (an error after the end) are ignored by the promise
    };
    const req = request(url, { method: 'POST', headers, lookup: guardedLookup(o.allowed) }, (res) => {
      res.resume(); // the receiver's body is not ours to read
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        const ok = code >= 200 && code < 300;
        done({ ok, statusCode: code, error: ok ? '' : `answered ${code}` });
      });
      res.on('error', (err) => done({ ok: false, statusCode: res.statusCode ?? null, error: err.message }));
      res.on('close', () => {
        if (!res.complete)
          done({
            ok: false,
            statusCode: res.statusCode ?? null,
            error: `the answer was cut off within ${o.timeoutSeconds} s`,
          });
      });
    });
    // A hard limit on the whole exchange: a receiver trickling bytes cannot hold an attempt open.
    const limit = setTimeout(
      () => req.destroy(new Error(`no answer within ${o.timeoutSeconds} s`)),
      o.timeoutSeconds * 1000,
    );
    req.on('error', (err) => done({ ok: false, statusCode: null, error: err.message }));
    req.end(body);
  });
}
