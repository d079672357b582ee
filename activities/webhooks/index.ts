/**
 * Delivering business events to their subscribers. A round leases what is due (db/webhooks.ts), posts each
 * to its receiver signed per the Standard Webhooks spec, and records the answer: a 2xx is delivered, anything
 * else is tried again on the retry schedule until the retry period ends, then the delivery is dead and a
 * webhook_dead_letter case tells ops. The same event always carries the same webhook-id, so a receiver that
 * keeps the ids it has seen takes each event once, even when a dispatcher died after sending and before
 * recording it.
 */
import { Context } from '@temporalio/activity';
import { closeOpenCase, openCasesOf, raiseException } from '../../db/exceptions';
import { inTransaction } from '../../db';
import {
  claimDueDeliveries,
  deadCount,
  markDelivered,
  markFailed,
  webhookWorkLeft,
  cancelForEndedSubscriptions,
  pruneWebhookHistory,
  type DueDelivery,
} from '../../db/webhooks';
import { allowedNetworks } from '../../lib/webhook-targets';
import type { ActivityDeps } from '../deps';
import type { DispatchPolicy } from '../../contracts/events';
import { post, type Answer } from './send';

export interface DispatchRound {
  claimed: number;
  delivered: number;
  failed: number;
  subscriptions: number; // live subscriptions (none and nothing pending: the dispatcher may end)
  pending: number;
  nextDueInMs: number | null;
}

const PARALLEL = 8; // receivers called at once

export function webhookActivities({ db }: ActivityDeps) {
  /** Records one attempt's answer; past the retry period the delivery is dead and the case is opened. */
  const record = async (d: DueDelivery, a: Answer, p: DispatchPolicy): Promise<boolean> => {
    if (a.ok) {
      await markDelivered(db, d.id, a.statusCode!);
      return true;
    }
    const wait = p.retrySeconds[Math.min(d.attempts - 1, p.retrySeconds.length - 1)];
    const failingFor = (Date.now() - new Date(d.retrying_since).getTime()) / 1000;
    const dead = failingFor + wait > p.giveUpAfterSeconds;
    await inTransaction(db, async (tx) => {
      await markFailed(tx, d.id, { statusCode: a.statusCode, error: a.error, retryInSeconds: dead ? null : wait });
      if (dead) {
        await raiseException(tx, {
          key: `webhook_dead_letter:${d.subscription_id}:${new Date().toISOString().slice(0, 10)}`,
          type: 'webhook_dead_letter',
          severity: 'medium',
          queue: 'ops',
          subjectType: 'webhook_subscription',
          subjectId: d.subscription_id,
          summary: `Webhooks to ${d.url} failed for ${Math.round(failingFor / 3600)} h (last: ${a.error}); the events are kept as dead deliveries`,
          details: { subscriptionId: d.subscription_id, url: d.url, firstDeadEventId: d.event_id, lastError: a.error },
        });
      }
    });
    return false;
  };

  return {
    /** One round: lease what is due, send it (a few receivers at once), record every answer. */
    /** Scheduled: what was told more than `keepForMs` ago is deleted (dead deliveries and their events stay). */
    async pruneWebhookHistory(input: { keepForMs: number }): Promise<{ deliveries: number; events: number }> {
      return pruneWebhookHistory(db, new Date(Date.now() - input.keepForMs));
    },

    async deliverWebhooks(input: { batch: number; policy: DispatchPolicy }): Promise<DispatchRound> {
      const p = input.policy;
      const allowed = allowedNetworks(p.allowedNetworks);
      await cancelForEndedSubscriptions(db); // fanned out just as their subscription ended
      // Alive while receivers take their time (each attempt has a hard limit); a dead worker's round is retried.
      const beat = setInterval(() => Context.current().heartbeat(), 2000);
      let claimed = 0;
      let delivered = 0;
      try {
        // A few at a time, each leased for one attempt and a margin: a lease never runs out while its delivery
        // is in flight, and what a dead dispatcher held goes out again soon after.
        while (claimed < input.batch) {
          const due = await claimDueDeliveries(db, Math.min(PARALLEL, input.batch - claimed), p.timeoutSeconds * 2 + 5);
          if (!due.length) break;
          claimed += due.length;
          const answers = await Promise.all(
            due.map(async (d) => record(d, await post(d, { timeoutSeconds: p.timeoutSeconds, allowed }), p)),
          );
          delivered += answers.filter(Boolean).length;
          await closeCasesOfRecovered(due);
        }
      } finally {
        clearInterval(beat);
      }
      const left = await webhookWorkLeft(db);
      return { claimed, delivered, failed: claimed - delivered, ...left };
    },
  };

  /** A subscriber that takes its events again (after a redeliver) has no dead letters left: its case closes. */
  async function closeCasesOfRecovered(due: DueDelivery[]): Promise<void> {
    for (const id of new Set(due.map((d) => d.subscription_id))) {
      if ((await deadCount(db, id)) > 0) continue;
      for (const c of await openCasesOf(db, 'webhook_dead_letter', id)) {
        await closeOpenCase(db, c.id, 'the subscriber takes its events again and none is dead');
      }
    }
  }
}
