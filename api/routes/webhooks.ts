/**
 * Provider callbacks. Each is HMAC-SHA256 signed over the raw body
 * (`x-signature: sha256=<hex>`), carries its own send time (refused outside the
 * replay window), and is applied once: the inbox remembers every event id.
 */
import { timingSafeEqual } from 'node:crypto';
import { signature } from '../../lib/fingerprint';
import type { Context } from 'koa';
import { z } from 'zod';
import { marketplaceOrderSignal } from '../../contracts/channels';
import { channelByCode } from '../../db/channels';
import { channelSecrets, settlementRecheck, webhookSecrets } from '../../lib/config';
import type { channelSync } from '../../workflows/channel-sync';
import { channelSyncStart } from './channels';
import { reviewUpdate } from '../../contracts/order-messages';
import { disputeClosedSignal } from '../../contracts/settlement-types';
import { disputeWorkflowId, settlementWorkflowId } from '../../contracts/workflow-ids';
import { captureByRef, disputeByProviderId } from '../../db/settlements';
import { startOnce } from '../../lib/start-process';
import type { paymentDispute } from '../../workflows/payment-dispute';
import type { settlement } from '../../workflows/settlement';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { forgetWebhookEvent, recordWebhookEvent } from '../../db/payments';
import { findOrderRef } from '../../db/sales';
import { shipmentByTracking } from '../../db/shipping';
import type { ApiDeps } from '../deps';
import { HttpError } from '../errors';
import { parse, Routes } from '../route';
import {
  CarrierWebhook,
  ChannelCode,
  MarketplaceWebhook,
  PaymentWebhook,
  WebhookAccepted,
  WebhookReceipt,
} from '../schemas';
import { reportShipmentEvent } from './orders';

type PaymentEvent = z.infer<typeof PaymentWebhook>;

/** Any of the secrets may have signed it (rotation); each comparison takes constant time. */
function verified<S extends z.ZodType>(
  ctx: Context,
  secrets: string[],
  toleranceSeconds: number,
  schema: S,
): z.infer<S> {
  const raw = (ctx.request as { rawBody?: string }).rawBody ?? '';
  const given = Buffer.from(ctx.get('x-signature'));
  const matches = (secret: string) => {
    const expected = Buffer.from(signature(secret, raw));
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  if (!secrets.some(matches))
    throw new HttpError(401, 'invalid_signature', 'Missing or bad x-signature (HMAC-SHA256 of the raw body)');
  const body = parse(schema, ctx.request.body, 'webhook body');
  const age = Math.abs(Date.now() - Date.parse((body as { sentAt: string }).sentAt)) / 1000;
  if (age > toleranceSeconds)
    throw new HttpError(
      401,
      'invalid_signature',
      `Webhook sentAt is ${Math.round(age)} s away from now; the replay window is ${toleranceSeconds} s`,
    );
  return body;
}

export function webhookRoutes(routes: Routes, deps: ApiDeps): void {
  const { db, temporal, config } = deps;

  /** The record a payment event is about, and its process; 404 when it is not ours. */
  async function paymentEventSubject(e: PaymentEvent): Promise<{ target: string; workflowId: string }> {
    switch (e.type) {
      case 'review.approved':
      case 'review.rejected': {
        const order = await findOrderRef(db, e.orderId);
        if (!order) throw new HttpError(404, 'not_found', `Order ${e.orderId} not found`);
        return { target: order.id, workflowId: order.workflow_id };
      }
      case 'payout.paid':
        return { target: e.payoutId, workflowId: settlementWorkflowId(e.payoutId) };
      case 'dispute.created': {
        if (!(await captureByRef(db, e.captureRef)))
          throw new HttpError(
            404,
            'not_found',
            `No capture ${e.captureRef} of ours: the dispute is not about our payment`,
          );
        return { target: e.disputeId, workflowId: disputeWorkflowId(e.disputeId) };
      }
      case 'dispute.closed': {
        if (!(await disputeByProviderId(db, e.disputeId)))
          throw new HttpError(404, 'not_found', `No dispute ${e.disputeId}: send dispute.created first`);
        return { target: e.disputeId, workflowId: disputeWorkflowId(e.disputeId) };
      }
    }
  }

  /** Hands the event to its process; false when the process refused it (decided already, or over). */
  async function applyPaymentEvent(e: PaymentEvent, about: { workflowId: string }): Promise<boolean> {
    const refused = (err: unknown) => {
      if (err instanceof WorkflowUpdateFailedError || err instanceof WorkflowNotFoundError) return false;
      if (/already completed/i.test((err as Error).message)) return false;
      throw err;
    };
    const taskQueue = config.TEMPORAL_TASK_QUEUE;
    switch (e.type) {
      case 'review.approved':
      case 'review.rejected': {
        const decision = e.type === 'review.approved' ? 'release' : 'cancel';
        return temporal.workflow
          .getHandle(about.workflowId)
          .executeUpdate(reviewUpdate, { args: [{ decision, note: `provider event ${e.eventId}` }] })
          .then(() => true, refused);
      }
      case 'payout.paid':
        await startOnce<typeof settlement>(
          temporal,
          'settlement',
          {
            taskQueue,
            workflowId: about.workflowId,
            args: [{ payoutId: e.payoutId, recheckAfter: settlementRecheck(config) }],
          },
          'if-failed',
        );
        return true;
      case 'dispute.created':
        await startOnce<typeof paymentDispute>(temporal, 'paymentDispute', {
          taskQueue,
          workflowId: about.workflowId,
          args: [{ providerDisputeId: e.disputeId }],
        });
        return true;
      case 'dispute.closed':
        return temporal.workflow
          .getHandle(about.workflowId)
          .signal(disputeClosedSignal, e.outcome)
          .then(() => true, refused);
    }
  }

  routes.add({
    method: 'post',
    path: '/v1/webhooks/carriers',
    errors: [401, 404],
    signedBody: CarrierWebhook,
    tag: 'Webhooks',
    summary: 'Carrier tracking events (signed)',
    roles: 'public',
    action: 'webhook.carrier',
    response: { status: 200, schema: WebhookReceipt, description: 'Applied, or recognised as a repeat' },
    handler: async (ctx) => {
      const e = verified(ctx, webhookSecrets(config, 'carrier'), config.WEBHOOK_TOLERANCE_SECONDS, CarrierWebhook);
      const shipment = e.shipmentId ? { id: e.shipmentId } : await shipmentByTracking(db, e.trackingNumber!); // the schema requires one of the two
      if (!shipment) throw new HttpError(404, 'not_found', 'No shipment with that id or tracking number');
      if (!(await recordWebhookEvent(db, 'carrier', e.eventId, e)))
        return { body: { eventId: e.eventId, duplicate: true } };
      const r = await reportShipmentEvent(
        deps,
        { shipmentId: shipment.id, type: e.type, carrier: e.carrier, trackingNumber: e.trackingNumber, note: e.note },
        'webhook',
      ).catch(async (err) => {
        if (err instanceof HttpError && err.status === 409)
          return { shipmentId: shipment.id, accepted: false, workflowId: undefined };
        await forgetWebhookEvent(db, 'carrier', e.eventId); // not applied: the carrier's retry must not be a "duplicate"
        throw err;
      });
      return {
        body: { eventId: e.eventId, duplicate: false, applied: r.accepted },
        audit: { target: shipment.id, workflowId: r.workflowId },
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/webhooks/marketplace/:channel',
    errors: [401],
    signedBody: MarketplaceWebhook,
    tag: 'Webhooks',
    summary:
      "A marketplace's order events (signed with the channel's secret): an order placed or cancelled by its buyer",
    roles: 'public',
    action: 'webhook.marketplace',
    params: z.object({ channel: ChannelCode }),
    response: {
      status: 202,
      schema: WebhookAccepted,
      description:
        "Taken: the channel's sync process imports the order (once, keyed by the marketplace's order id) or applies the buyer's cancel; a repeat is harmless",
    },
    handler: async (ctx, { params }) => {
      const channel = await channelByCode(db, params.channel);
      if (!channel?.connection || channel.kind !== 'marketplace')
        throw new HttpError(404, 'not_found', `No connected marketplace channel ${params.channel}`);
      const ref = channel.connection.credentialsRef;
      const secrets = channelSecrets(ref);
      if (!secrets)
        throw new HttpError(
          503,
          'dependency_unavailable',
          `This server was not given the secret ${ref} of channel ${channel.code}: set the environment variable ${ref} (16+ characters, shared with the marketplace) and restart the API`,
        );
      const e = verified(ctx, secrets, config.WEBHOOK_TOLERANCE_SECONDS, MarketplaceWebhook);
      const start = channelSyncStart(config, channel);
      await temporal.workflow.signalWithStart<typeof channelSync, [{ orderId: string }]>('channelSync', {
        ...start,
        signal: marketplaceOrderSignal,
        signalArgs: [{ orderId: e.orderId }],
      });
      return {
        status: 202,
        body: { eventId: e.eventId, accepted: true },
        audit: { target: `${channel.code}:${e.orderId}`, workflowId: start.workflowId },
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/webhooks/payments',
    errors: [401, 404],
    signedBody: PaymentWebhook,
    tag: 'Webhooks',
    summary: 'Payment provider events (signed): fraud review outcomes, payouts, chargebacks',
    roles: 'public',
    action: 'webhook.payment',
    response: { status: 200, schema: WebhookReceipt, description: 'Applied, or recognised as a repeat' },
    handler: async (ctx) => {
      const e = verified(ctx, webhookSecrets(config, 'payment'), config.WEBHOOK_TOLERANCE_SECONDS, PaymentWebhook);
      // Found before remembered: an event about something we do not have is refused (404), and the provider's
      // retry is then not taken for a duplicate.
      const about = await paymentEventSubject(e);
      if (!(await recordWebhookEvent(db, 'payment', e.eventId, e)))
        return { body: { eventId: e.eventId, duplicate: true } };
      // Refused by the process (decided already, or over): applied false. Temporal away: forgotten, and a 5xx
      // so the provider sends it again rather than losing the event.
      const applied = await applyPaymentEvent(e, about).catch(async (err: unknown) => {
        await forgetWebhookEvent(db, 'payment', e.eventId);
        throw err;
      });
      return {
        body: { eventId: e.eventId, duplicate: false, applied },
        audit: { target: about.target, workflowId: about.workflowId },
      };
    },
  });
}
