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
    async deliverWebhooks(input: { batch: number; policy: DispatchPolicy }): Promise<DispatchRound> {
      const p = input.policy;
      const allowed = allowedNetworks(p.allowedNetworks);
      // The lease outlives one attempt by a margin, so no other dispatcher takes a delivery still in flight.
      const due = await claimDueDeliveries(db, input.batch, p.timeoutSeconds * 3 + 5);
      let delivered = 0;
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < due.length; i = next++) {
          const d = due[i];
          const answer = await post(d, { timeoutSeconds: p.timeoutSeconds, allowed });
          if (await record(d, answer, p)) delivered++;
          Context.current().heartbeat(d.id);
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL, due.length) }, worker));
      await closeCasesOfRecovered(due);
      const left = await webhookWorkLeft(db);
      return { claimed: due.length, delivered, failed: due.length - delivered, ...left };
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
