/**
 * Delivering business events to webhook subscribers: one process per task queue, id `webhook-dispatch-<queue>`,
 * started when a subscription is made (and by every worker at start). Each round sends what is due; then it
 * waits until the next retry falls due or a tick passes. It ends when no subscription is left and nothing is
 * pending, and is started again by the next subscription. The retry state lives in Postgres with the
 * deliveries, so a dispatcher that dies loses nothing; the history is kept short by continuing as new.
 */
import { condition, continueAsNew, setHandler } from '@temporalio/workflow';
import { dispatchWakeSignal, type WebhookDispatchInput } from '../contracts/events';
import { activitiesOf } from './process-kit';

const act = activitiesOf<'deliverWebhooks'>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '20 seconds', // a worker killed mid-round: the round is run again elsewhere within this
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds' },
});

const ROUNDS_PER_RUN = 500;

export async function webhookDispatch(input: WebhookDispatchInput): Promise<{ stopped: 'no subscriptions' }> {
  const tick = input.tickMs ?? 1000;
  let woken = false;
  setHandler(dispatchWakeSignal, () => void (woken = true));
  for (let round = 0; round < ROUNDS_PER_RUN; round++) {
    woken = false;
    const r = await act.deliverWebhooks({ batch: input.batch ?? 100, policy: input.policy });
    // Woken meanwhile: a subscription may have been made after the round looked (it must not wait for a restart).
    if (r.subscriptions === 0 && r.pending === 0 && !woken) return { stopped: 'no subscriptions' };
    if (r.claimed === (input.batch ?? 100)) continue; // more is due now
    await condition(() => woken, Math.max(50, Math.min(tick, r.nextDueInMs ?? tick)));
  }
  return continueAsNew<typeof webhookDispatch>(input);
}
