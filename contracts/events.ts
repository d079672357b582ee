/**
 * The business events we tell subscribers about (outbound webhooks). Each is recorded by a Postgres trigger in
 * the same transaction as the change it announces (migration 035_webhooks), so no change is announced that did
 * not commit and none that committed is missed; a channel's stock levels are recorded by its sync in the
 * transaction that moves its cursor past them. The ground floor: imports nothing of ours.
 */
import { defineSignal } from '@temporalio/workflow';
export const EVENT_TYPES = [
  'order.created',
  'order.on_hold',
  'order.reserved',
  'order.backordered',
  'order.fulfilling',
  'order.shipped',
  'order.delivered', // one per shipment delivered
  'order.completed',
  'order.cancelled',
  'return.created',
  'return.authorised',
  'return.partially_received',
  'return.received',
  'return.inspected',
  'return.awaiting_decision',
  'return.refunding',
  'return.refunded',
  'return.rejected',
  'return.replacement_ordered',
  'return.replaced',
  'return.expired',
  'return.closed',
  'refund.created',
  'refund.succeeded',
  'refund.failed',
  'purchase_order.created',
  'purchase_order.awaiting_approval',
  'purchase_order.approved',
  'purchase_order.rejected',
  'purchase_order.sent',
  'purchase_order.partially_received',
  'purchase_order.received',
  'purchase_order.closed',
  'purchase_order.cancelled',
  'channel.stock_changed', // a level a connected channel's sync told the channel (subject: channel and SKU)
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** What a subscription may name: an event type, every event of a subject (`order.*`), or everything (`*`). */
export const EVENT_FILTERS: readonly string[] = [
  '*',
  ...new Set(EVENT_TYPES.map((t) => `${t.split('.')[0]}.*`)),
  ...EVENT_TYPES,
];

/** The body of every delivery, per the Standard Webhooks spec: the type, when it happened, and its data. */
export interface EventBody {
  type: EventType;
  timestamp: string;
  data: Record<string, unknown>;
}

/** How the dispatcher retries and where it may send (from the configuration of the API that started it). */
export interface DispatchPolicy {
  retrySeconds: number[]; // waits between attempts; the last repeats
  giveUpAfterSeconds: number; // a delivery failing this long is dead
  timeoutSeconds: number; // one attempt's limit
  allowedNetworks: string[]; // private networks an operator allowed (CIDRs)
}

/** A subscription was made or dead deliveries sent again: a dispatcher about to end for lack of work goes on. */
export const dispatchWakeSignal = defineSignal('webhookDispatchWake');

export interface WebhookDispatchInput {
  policy: DispatchPolicy;
  tickMs?: number; // the longest wait between rounds (default 1 s): events recorded meanwhile go out then
  batch?: number;
}
