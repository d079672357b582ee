/**
 * Keeping one channel told what it may sell: one workflow per channel, id `channel-sync-<code>`. It pushes
 * what moved (coalesced per SKU, in batches within the channel's rate), then waits a moment, for as long as
 * the channel has a connection. An outage or throttling is retried by the push itself and only delays the
 * channel. The history is kept short by continuing as new.
 */
import { condition, continueAsNew, setHandler } from '@temporalio/workflow';
import { availabilityMovedSignal } from '../contracts/channels';
import { activitiesOf, ACTIVITY_PROFILES } from './process-kit';

const act = activitiesOf<'pushAvailability'>(ACTIVITY_PROFILES.push);

export interface ChannelSyncInput {
  channel: string;
  tickMs?: number; // the longest wait between pushes when nothing is pending (default 1 s)
  alertAfterSeconds?: number; // this far behind, a channel_sync_failed case is opened (default 300)
}

const ROUNDS_PER_RUN = 500;

export async function channelSync(input: ChannelSyncInput): Promise<{ stopped: 'disconnected' }> {
  let moved = false;
  setHandler(availabilityMovedSignal, () => void (moved = true));
  for (let round = 0; round < ROUNDS_PER_RUN; round++) {
    const r = await act.pushAvailability({ channel: input.channel, alertAfterSeconds: input.alertAfterSeconds ?? 300 });
    if (!r.connected) return { stopped: 'disconnected' };
    // Nothing left, or nothing pushable yet (a change still settling): wait for news or the next tick.
    if (r.pending === 0 || r.pushed === 0) await condition(() => moved, input.tickMs ?? 1000);
    moved = false;
  }
  return continueAsNew<typeof channelSync>(input);
}
