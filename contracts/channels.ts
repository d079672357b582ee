import { defineSignal } from '@temporalio/workflow';

/** The kinds of sales channel: each sells one stock, with its own promise (db/channels.ts). */
export const CHANNEL_KINDS = ['webshop', 'marketplace', 'pos'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/** Tells a channel's sync process that something moved: it pushes now rather than at its next tick. */
export const availabilityMovedSignal = defineSignal('availabilityMoved');

/** A marketplace's webhook named one of its orders (placed or cancelled): the channel's sync takes it now. */
export const marketplaceOrderSignal = defineSignal<[{ orderId: string }]>('marketplaceOrder');
