/**
 * Telling a channel what it may sell. One push reads the changes after the channel's cursor, coalesces them
 * per SKU (only the newest number of each goes out), and sends them in batches within the channel's rate
 * limit, each level with its sequence number so the channel keeps the newest. The cursor moves on only once
 * the channel acknowledged everything before it; a retry after a lost answer sends the same levels again,
 * which the channel ignores as not newer. A marketplace's orders come in and their status goes out in the
 * same round (./orders.ts).
 */
import { Context } from '@temporalio/activity';
import {
  changesSince,
  channelByCode,
  recordSync,
  syncBacklog,
  syncState,
  type ChannelConnection,
  type ChannelRules,
} from '../../db/channels';
import { inTransaction } from '../../db';
import { closeOpenCase, openCasesOf, raiseException } from '../../db/exceptions';
import type { ActivityDeps } from '../deps';
import { recordBusinessEvents } from '../../db/webhooks';
import { marketplace } from './marketplace';
import { orderExchange, type ExchangeResult, type OrderExchange } from './orders';

const PAGE = 5000; // changes read per push
const BATCH = 100; // levels per call to the channel

export interface SyncResult {
  connected: boolean; // false: the channel has no connection (any more); its sync ends
  pushed: number;
  calls: number;
  pending: number; // SKUs still to tell after this push
  orders?: ExchangeResult; // a marketplace's orders in and status out (marketplaces only)
}

export interface SyncInput {
  channel: string;
  alertAfterSeconds?: number;
  orders?: OrderExchange; // marketplaces: what to import, and what the imported orders start with
}

export function channelActivities({ db }: ActivityDeps) {
  const exchangeOrders = orderExchange(db);
  return {
    /** One round of a channel's sync: its levels pushed, then (a marketplace) its orders in and their status out. */
    async syncChannel(input: SyncInput): Promise<SyncResult> {
      const channel = await channelByCode(db, input.channel);
      if (!channel?.connection) {
        await caughtUp(input.channel, 'the channel was disconnected');
        return { connected: false, pushed: 0, calls: 0, pending: 0 };
      }
      const connected = { ...channel, connection: channel.connection };
      const pushed = await pushLevels(connected, input.alertAfterSeconds ?? 300);
      if (channel.kind !== 'marketplace' || !input.orders) return pushed;
      return { ...pushed, orders: await exchangeOrders(connected, input.orders) };
    },
  };

  async function pushLevels(channel: ChannelRules & { connection: ChannelConnection }, alertAfterSeconds: number) {
    const { cursor } = await syncState(db, channel.id);
    const { changes, next } = await changesSince(db, channel, cursor, PAGE);
    const items = changes.map((c) => ({ sku: c.sku, quantity: c.available, seq: c.seq }));
    let calls = 0;
    try {
      for (let i = 0; i < items.length; i += BATCH) {
        calls += await marketplace.pushListings(channel.connection, items.slice(i, i + BATCH));
        Context.current().heartbeat(i);
      }
    } catch (err) {
      await recordSync(db, channel.id, { calls, error: (err as Error).message });
      await alertIfBehind(channel.code, channel.id, cursor, alertAfterSeconds, (err as Error).message);
      throw err; // retried with backoff: an outage only delays the channel
    }
    // The levels the channel now shows are news for subscribers too, told once: with the cursor that passes them.
    await inTransaction(db, async (tx) => {
      await recordBusinessEvents(
        tx,
        'channel.stock_changed',
        'channel',
        items.map((i) => ({
          subjectId: `${channel.code}:${i.sku}`,
          data: { channel: channel.code, sku: i.sku, available: i.quantity, seq: i.seq },
        })),
      );
      await recordSync(tx, channel.id, { cursor: next, items: items.length, calls, error: null });
    });
    const { pending } = await syncBacklog(db, channel.id, next);
    if (pending === 0) await caughtUp(channel.code, 'the channel caught up');
    return { connected: true, pushed: items.length, calls, pending };
  }

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
