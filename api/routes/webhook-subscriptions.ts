/**
 * Outbound webhooks for integrators: subscribe a URL to business events, see what was delivered and what
 * waits, end a subscription, send dead deliveries again. The events themselves are recorded by Postgres
 * triggers and delivered by the webhook dispatcher process (workflows/webhook-dispatch.ts).
 */
import { inTransaction } from '../../db';
import { pageOf } from '../../db/paging';
import {
  activeSubscriptions,
  createSubscription,
  deleteSubscription,
  deliveriesOf,
  redeliver,
  subscriptionById,
  waitingAndDead,
  type DeliveryRow,
  type SubscriptionRow,
} from '../../db/webhooks';
import { startWebhookDispatch } from '../../lib/start-process';
import { allowedNetworks, checkTarget, TargetRefused } from '../../lib/webhook-targets';
import type { RouteDeps } from '../deps';
import { notFound, refuseBadCursor, unprocessable } from '../errors';
import type { Routes } from '../route';
import {
  CreatedWebhookSubscription,
  DeliveryListQuery,
  NewWebhookSubscription,
  Redelivery,
  RedeliveryResult,
  WebhookDeliveryList,
  WebhookSubscription,
  WebhookSubscriptionList,
  WebhookSubscriptionParams,
} from '../schemas';

export function webhookSubscriptionRoutes(routes: Routes, { db, temporal, config }: RouteDeps): void {
  const allowed = allowedNetworks(config.WEBHOOK_ALLOWED_NETWORKS);
  const startDispatcher = () => startWebhookDispatch(temporal, config);

  const counts = async (ids: string[]) => {
    const rows = await waitingAndDead(db, ids);
    return (id: string, status: string) => rows.find((r) => r.subscription_id === id && r.status === status)?.n ?? 0;
  };
  const view = (s: SubscriptionRow, count: (id: string, status: string) => number) => ({
    subscriptionId: s.id,
    url: s.url,
    eventTypes: s.event_types,
    description: s.description ?? undefined,
    createdBy: s.created_by ?? undefined,
    createdAt: s.created_at,
    pending: count(s.id, 'pending'),
    dead: count(s.id, 'dead'),
  });
  const found = async (id: string) => {
    const s = await subscriptionById(db, id);
    if (!s) throw notFound(`Webhook subscription ${id}`);
    return s;
  };

  routes.add({
    method: 'post',
    path: '/v1/webhook-subscriptions',
    errors: [422],
    tag: 'Webhooks',
    summary: 'Subscribe a URL to business events; the answer holds its signing secret, shown this once',
    roles: ['admin'],
    action: 'webhook_subscription.create',
    body: NewWebhookSubscription,
    idempotent: true,
    response: { status: 201, schema: CreatedWebhookSubscription, description: 'Subscribed; events from now on' },
    handler: async (_ctx, { body, principal, requestKey }) => {
      try {
        await checkTarget(body.url, allowed);
      } catch (err) {
        if (!(err instanceof TargetRefused)) throw err;
        throw unprocessable(`The URL ${err.message}`, [{ path: 'url', message: err.message }]);
      }
      const s = await createSubscription(db, {
        url: body.url,
        eventTypes: [...new Set(body.eventTypes)],
        description: body.description,
        createdBy: principal.name,
        requestKey,
      });
      await startDispatcher();
      return { status: 201, body: { ...view(s, () => 0), secret: s.secret }, audit: { target: s.id } };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/webhook-subscriptions',
    tag: 'Webhooks',
    summary: 'Every live subscription with what waits for it and what is dead (never the secret)',
    roles: ['admin'],
    response: { status: 200, schema: WebhookSubscriptionList, description: 'Oldest first' },
    handler: async () => {
      const subs = await activeSubscriptions(db);
      const count = await counts(subs.map((s) => s.id));
      return { body: { subscriptions: subs.map((s) => view(s, count)) } };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/webhook-subscriptions/:id',
    tag: 'Webhooks',
    summary: 'One subscription',
    roles: ['admin'],
    params: WebhookSubscriptionParams,
    response: { status: 200, schema: WebhookSubscription, description: 'The subscription' },
    handler: async (_ctx, { params }) => {
      const s = await found(params.id);
      return { body: view(s, await counts([s.id])) };
    },
  });

  routes.add({
    method: 'delete',
    path: '/v1/webhook-subscriptions/:id',
    tag: 'Webhooks',
    summary: 'End a subscription: nothing more is sent to it, and what it had not taken yet is cancelled',
    roles: ['admin'],
    action: 'webhook_subscription.delete',
    params: WebhookSubscriptionParams,
    response: { status: 200, schema: WebhookSubscription, description: 'Ended; the view as it was' },
    handler: async (_ctx, { params }) => {
      const s = await found(params.id);
      const before = view(s, await counts([s.id]));
      if (!(await inTransaction(db, (tx) => deleteSubscription(tx, params.id))))
        throw notFound(`Webhook subscription ${params.id}`);
      return { body: before, audit: { target: s.id } };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/webhook-subscriptions/:id/deliveries',
    errors: [400],
    tag: 'Webhooks',
    summary: "A subscription's deliveries, newest first: attempts, the receiver's last answer, what is dead",
    roles: ['admin'],
    params: WebhookSubscriptionParams,
    query: DeliveryListQuery,
    response: { status: 200, schema: WebhookDeliveryList, description: 'A page of deliveries' },
    handler: async (_ctx, { params, query }) => {
      await found(params.id);
      const page = await pageOf<DeliveryRow>(deliveriesOf(db, params.id, query.status), {
        atColumn: 'd.created_at',
        idColumn: 'd.id',
        cursor: query.cursor,
        limit: query.limit,
        at: (d) => d.created_at,
      }).catch(refuseBadCursor);
      return {
        body: {
          deliveries: page.items.map((d) => ({
            deliveryId: String(d.id),
            eventId: d.event_id,
            type: d.type,
            subject: `${d.subject_type}:${d.subject_id}`,
            status: d.status,
            attempts: d.attempts,
            nextAttemptAt: d.status === 'pending' ? d.next_attempt_at : undefined,
            lastStatusCode: d.last_status_code ?? undefined,
            lastError: d.last_error ?? undefined,
            deliveredAt: d.delivered_at ?? undefined,
            createdAt: d.created_at,
          })),
          next: page.next,
        },
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/webhook-subscriptions/:id/redeliver',
    tag: 'Webhooks',
    summary: 'Send dead deliveries again from the first attempt (all of them, or those named)',
    roles: ['admin', 'ops'],
    action: 'webhook_subscription.redeliver',
    params: WebhookSubscriptionParams,
    body: Redelivery,
    idempotent: true,
    response: { status: 200, schema: RedeliveryResult, description: 'How many went back to pending' },
    handler: async (_ctx, { params, body }) => {
      await found(params.id);
      const n = await inTransaction(db, (tx) => redeliver(tx, params.id, body.deliveryIds));
      if (n > 0) await startDispatcher();
      return { body: { redelivered: n }, audit: { target: params.id } };
    },
  });
}
