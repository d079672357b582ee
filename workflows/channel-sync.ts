/**
 * Keeping one channel and us in step: one workflow per connected channel, id `channel-sync-<code>`. Each round
 * pushes what moved (coalesced per SKU, in batches within the channel's rate); for a marketplace it also takes
 * the orders its webhooks named, reads its order feed when due (the safety net for a webhook that never
 * came), and tells it what shipped or was cancelled here. Then it waits for news or the next tick, for as long
 * as the channel has a connection. An outage or throttling is retried by the round itself and only delays the
 * channel. The history is kept short by continuing as new, carrying the orders not yet taken.
 */
import { condition, continueAsNew, setHandler } from '@temporalio/workflow';
import { availabilityMovedSignal, marketplaceOrderSignal } from '../contracts/channels';
import type { OrderTimings } from '../contracts/order-types';
import { activitiesOf, ACTIVITY_PROFILES } from './process-kit';

const act = activitiesOf<'syncChannel'>(ACTIVITY_PROFILES.push);

export interface ChannelSyncInput {
  channel: string;
  tickMs?: number; // the longest wait between pushes when nothing is pending (default 1 s)
  alertAfterSeconds?: number; // this far behind, a channel_sync_failed case is opened (default 300)
  orders?: {
    // Given to every channel's sync (a channel may become a marketplace while its sync runs); used by marketplaces.
    timings: OrderTimings; // an imported order's process starts with these
    baseCurrency: string;
    pollEveryMs: number; // how often the marketplace's order feed is read, unless its connection says otherwise
  };
  orderIds?: string[]; // named by webhooks and not yet taken (carried over a continue-as-new)
}

const ROUNDS_PER_RUN = 500;
const IDS_PER_ROUND = 100;

export async function channelSync(input: ChannelSyncInput): Promise<{ stopped: 'disconnected' }> {
  let moved = false;
  const named = new Set(input.orderIds ?? []);
  setHandler(availabilityMovedSignal, () => void (moved = true));
  setHandler(marketplaceOrderSignal, ({ orderId }) => void named.add(orderId));
  for (let round = 0; round < ROUNDS_PER_RUN; round++) {
    // Taken out before the round: an id named again meanwhile is taken again next round (the marketplace's
    // newest state then), and a burst is taken a slice at a time.
    const orderIds = [...named].slice(0, IDS_PER_ROUND);
    orderIds.forEach((id) => named.delete(id));
    const r = await act.syncChannel({
      channel: input.channel,
      alertAfterSeconds: input.alertAfterSeconds ?? 300,
      ...(input.orders ? { orders: { ...input.orders, orderIds } } : {}),
    });
    if (!r.connected) return { stopped: 'disconnected' };
    // Nothing left, or nothing pushable yet (a change still settling): wait for news or the next tick.
    if (r.pending === 0 || r.pushed === 0) await condition(() => moved || named.size > 0, input.tickMs ?? 1000);
    moved = false;
  }
  return continueAsNew<typeof channelSync>({ ...input, orderIds: [...named] });
}
