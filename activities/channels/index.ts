/**
 * Telling a channel what it may sell. One push reads the changes after the channel's cursor, coalesces them
 * per SKU (only the newest number of each goes out), and sends them in batches within the channel's rate
 * limit, each level with its sequence number so the channel keeps the newest. The cursor moves on only once
 * the channel acknowledged everything before it; a retry after a lost answer sends the same levels again,
 * which the channel ignores as not newer.
 */
import { Context } from '@temporalio/activity';
import {
  changesSince,
  channelByCode,
  recordSync,
  syncBacklog,
  syncState,
  type ChannelConnection,
} from '../../db/channels';
import { inTransaction } from '../../db';
import { closeOpenCase, openCasesOf, raiseException } from '../../db/exceptions';
import type { ActivityDeps } from '../deps';

const PAGE = 5000; // changes read per push
const BATCH = 100; // levels per call to the channel

export interface PushResult {
  connected: boolean; // false: the channel has no connection (any more); its sync ends
  pushed: number;
  calls: number;
  pending: number; // SKUs still to tell after this push
}

export function channelActivities({ db }: ActivityDeps) {
  return {
    async pushAvailability(input: { channel: string; alertAfterSeconds?: number }): Promise<PushResult> {
      const channel = await channelByCode(db, input.channel);
      if (!channel?.connection) {
        await caughtUp(input.channel, 'the channel was disconnected');
        return { connected: false, pushed: 0, calls: 0, pending: 0 };
      }
      const { cursor } = await syncState(db, channel.id);
      const { changes, next } = await changesSince(db, channel, cursor, PAGE);
      const items = changes.map((c) => ({ sku: c.sku, quantity: c.available, seq: c.seq }));
      let calls = 0;
      try {
        for (let i = 0; i < items.length; i += BATCH) {
          calls += await send(channel.connection, items.slice(i, i + BATCH));
          Context.current().heartbeat(i);
        }
      } catch (err) {
        await recordSync(db, channel.id, { calls, error: (err as Error).message });
        await alertIfBehind(channel.code, channel.id, cursor, input.alertAfterSeconds ?? 300, (err as Error).message);
        throw err; // retried with backoff: an outage only delays the channel
      }
      await recordSync(db, channel.id, { cursor: next, items: items.length, calls, error: null });
      const { pending } = await syncBacklog(db, channel.id, next);
      if (pending === 0) await caughtUp(channel.code, 'the channel caught up');
      return { connected: true, pushed: items.length, calls, pending };
    },
  };

  /** Past the threshold, the channel being behind is a case (one per cursor it is stuck at). */
  async function alertIfBehind(code: string, channelId: number, cursor: number, after: number, error: string) {
    const { lagSeconds, pending } = await syncBacklog(db, channelId, cursor);
    if (lagSeconds < after) return;
    await inTransaction(db, (tx) =>
      raiseException(tx, {
        key: `channel_sync_failed:${code}:${cursor}`,
        type: 'channel_sync_failed',
        severity: 'high',
        subjectType: 'channel',
        subjectId: code,
        summary: `Channel ${code} is ${lagSeconds} s behind with ${pending} SKU(s) untold: ${error}`,
      }),
    );
  }

  /** The channel is up to date (or gone): its sync cases close themselves. */
  async function caughtUp(code: string, reason: string) {
    for (const c of await openCasesOf(db, 'channel_sync_failed', code)) await closeOpenCase(db, c.id, reason);
  }
}

/**
 * One batch to the channel, paced to its rate; a 429 waits as long as the channel says and tries again.
 * Answers the calls made.
 */
async function send(c: ChannelConnection, items: { sku: string; quantity: number; seq: number }[]): Promise<number> {
  for (let calls = 1; ; calls++) {
    const res = await fetch(`${c.endpoint.replace(/\/$/, '')}/listings`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items }),
      signal: AbortSignal.timeout(10_000),
    });
    await res.text();
    await pause(1000 / c.ratePerSecond);
    if (res.ok) return calls;
    if (res.status !== 429 || calls >= 20)
      throw new Error(`the channel answered ${res.status} to a push of ${items.length} level(s)`);
    await pause(Number(res.headers.get('retry-after') ?? 1) * 1000);
    Context.current().heartbeat();
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
