/**
 * Provider callbacks. Each is HMAC-SHA256 signed over the raw body
 * (`x-signature: sha256=<hex>`), carries its own send time (refused outside the
 * replay window), and is applied once: the inbox remembers every event id.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import type { z } from 'zod';
import { reviewUpdate } from '../../contracts/order-messages';
import { recordWebhookEvent } from '../../db/payments';
import { findOrderRef } from '../../db/sales';
import { shipmentByTracking } from '../../db/shipping';
import type { ApiDeps } from '../deps';
import { HttpError } from '../errors';
import { parse, Routes } from '../route';
import { CarrierWebhook, PaymentWebhook } from '../schemas';
import { reportShipmentEvent } from './orders';

export function sign(secret: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

function verified<S extends z.ZodType>(ctx: Context, secret: string, toleranceSeconds: number, schema: S): z.infer<S> {
  const raw = (ctx.request as { rawBody?: string }).rawBody ?? '';
  const given = Buffer.from(ctx.get('x-signature'));
  const expected = Buffer.from(sign(secret, raw));
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
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

  routes.add({
    method: 'post',
    path: '/v1/webhooks/carriers',
    tag: 'Webhooks',
    summary: 'Carrier tracking events (signed)',
    roles: 'public',
    action: 'webhook.carrier',
    response: { status: 200, description: 'Applied, or recognised as a repeat' },
    handler: async (ctx) => {
      const e = verified(ctx, config.WEBHOOK_SECRET, config.WEBHOOK_TOLERANCE_SECONDS, CarrierWebhook);
      const shipment = e.shipmentId ? { id: e.shipmentId } : await shipmentByTracking(db, e.trackingNumber!); // the schema requires one of the two
      if (!shipment) throw new HttpError(404, 'not_found', 'No shipment with that id or tracking number');
      if (!(await recordWebhookEvent(db, 'carrier', e.eventId, e)))
        return { body: { eventId: e.eventId, duplicate: true } };
      const r = await reportShipmentEvent(
        deps,
        { shipmentId: shipment.id, type: e.type, carrier: e.carrier, trackingNumber: e.trackingNumber, note: e.note },
        'webhook',
      ).catch((err) =>
        err instanceof HttpError && err.status === 409
          ? { shipmentId: shipment.id, accepted: false, workflowId: undefined }
          : Promise.reject(err),
      );
      return {
        body: { eventId: e.eventId, duplicate: false, applied: r.accepted },
        audit: { target: shipment.id, workflowId: r.workflowId },
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/webhooks/payments',
    tag: 'Webhooks',
    summary: 'Payment provider events (signed): fraud review outcomes',
    roles: 'public',
    action: 'webhook.payment',
    response: { status: 200, description: 'Applied, or recognised as a repeat' },
    handler: async (ctx) => {
      const e = verified(ctx, config.WEBHOOK_SECRET, config.WEBHOOK_TOLERANCE_SECONDS, PaymentWebhook);
      const order = await findOrderRef(db, e.orderId);
      if (!order) throw new HttpError(404, 'not_found', `Order ${e.orderId} not found`);
      if (!(await recordWebhookEvent(db, 'payment', e.eventId, e)))
        return { body: { eventId: e.eventId, duplicate: true } };
      const decision = e.type === 'review.approved' ? 'release' : 'cancel';
      const applied = await temporal.workflow
        .getHandle(order.workflow_id)
        .executeUpdate(reviewUpdate, { args: [{ decision, note: `provider event ${e.eventId}` }] })
        .then(
          () => true,
          () => false,
        );
      return {
        body: { eventId: e.eventId, duplicate: false, applied },
        audit: { target: order.id, workflowId: order.workflow_id },
      };
    },
  });
}
