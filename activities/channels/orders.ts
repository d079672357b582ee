/**
 * Marketplace orders in, status out, for one channel: the orders a webhook named and (when a poll is due) every
 * order in the marketplace's feed since the last read are imported, each starting order-to-cash once, keyed by
 * the marketplace's order id; a buyer's cancel cancels here if nothing has shipped, and is a case if something
 * has; what the marketplace must hear of ours (a parcel's tracking, a cancel) is delivered from the outbox.
 * Everything here may run again (a retry, a duplicate webhook, the poll after the webhook): it changes nothing twice.
 */
import { Context } from '@temporalio/activity';
import { WorkflowUpdateFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import { cancelUpdate } from '../../contracts/order-messages';
import type { OrderTimings } from '../../contracts/order-types';
import { inTransaction, type Db } from '../../db';
import { recordOrdersPolled, syncState, type ChannelRules, type ChannelConnection } from '../../db/channels';
import { raiseException } from '../../db/exceptions';
import {
  CANCELLED_ON_MARKETPLACE,
  pendingMarketplaceUpdates,
  recordMarketplaceAnswer,
  type MarketplaceUpdate,
} from '../../db/marketplace';
import { anyLineShipped, findOrderByExternalRef, OrderConflict, OrderRejected, recordOrder } from '../../db/sales';
import { startOrderToCash } from '../../lib/start-process';
import { unsafeFields } from '../../lib/text';
import { marketplace, MarketplaceRefused, type MarketplaceOrder } from './marketplace';

const FEED_PAGE = 100;
const FEED_PAGES_PER_ROUND = 20; // the rest of a long backlog is read in the next round
const UPDATES_PER_ROUND = 200;

export interface OrderExchange {
  orderIds: string[]; // named by webhooks since the last round
  timings: OrderTimings; // what an imported order's process is started with
  baseCurrency: string;
  pollEveryMs: number; // how often the order feed is read (the safety net for webhooks that never came), unless the connection says
}

export interface ExchangeResult {
  imported: number; // orders seen (new or already here)
  cancelled: number; // buyer cancels applied here
  cases: number; // cases opened (cancel after shipment, an order we cannot take)
  told: number; // updates the marketplace took
}

/** Enough of any marketplace order to know which it is and what became of it. */
const Head = z.object({
  orderId: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/),
  status: z.enum(['placed', 'shipped', 'cancelled']),
});

/** A marketplace's order as we accept it: anything else is a case for ops, never a failed process. */
const Incoming = z.object({
  orderId: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/),
  status: z.enum(['placed', 'shipped', 'cancelled']),
  cancelledBy: z.enum(['buyer', 'seller']).optional(),
  buyer: z.object({ email: z.string().email().max(254), name: z.string().min(1).max(200) }),
  shipTo: z.object({
    name: z.string().min(1).max(200),
    line1: z.string().min(1).max(200),
    city: z.string().min(1).max(100),
    postalCode: z.string().min(1).max(20),
    country: z.string().regex(/^[A-Z]{2}$/),
    region: z.string().max(50).optional(),
  }),
  lines: z
    .array(
      z.object({
        sku: z.string().min(1).max(64),
        quantity: z.number().int().min(1).max(10_000),
        unitPrice: z.number().int().min(0).max(100_000_000),
      }),
    )
    .min(1)
    .max(200),
  shippingPrice: z.number().int().min(0).max(100_000_000),
  currency: z.string().regex(/^[A-Z]{3}$/),
});

export function orderExchange(db: Db) {
  return async function exchangeOrders(channel: ChannelRules & { connection: ChannelConnection }, x: OrderExchange) {
    const r: ExchangeResult = { imported: 0, cancelled: 0, cases: 0, told: 0 };
    for (const id of new Set(x.orderIds)) {
      const mo = await marketplace.order(channel.connection, id);
      if (mo) await take(channel, mo, x, r);
      Context.current().heartbeat(id);
    }
    const { ordersPolledAt } = await syncState(db, channel.id);
    const every = (channel.connection.pollSeconds ?? x.pollEveryMs / 1000) * 1000;
    if (!ordersPolledAt || Date.now() - ordersPolledAt.getTime() >= every) await readFeed(channel, x, r);
    await tellMarketplace(channel, r);
    return r;
  };

  async function readFeed(
    channel: ChannelRules & { connection: ChannelConnection },
    x: OrderExchange,
    r: ExchangeResult,
  ) {
    let cursor = (await syncState(db, channel.id)).ordersCursor;
    for (let page = 0; page < FEED_PAGES_PER_ROUND; page++) {
      const { orders, next } = await marketplace.ordersAfter(channel.connection, cursor, FEED_PAGE);
      for (const mo of orders) {
        await take(channel, mo, x, r);
        Context.current().heartbeat(mo.seq);
      }
      cursor = next;
      // Only after every order before it was taken; a backlog longer than a round is read on in the next one.
      const drained = orders.length < FEED_PAGE;
      await recordOrdersPolled(db, channel.id, cursor, drained);
      if (drained) break;
    }
  }

  /**
   * One marketplace order, in whatever state it is now. Cancelled (by the buyer, or by the seller on the
   * marketplace's own site): cancelled here too. Placed: imported once; an order first seen already shipped
   * was fulfilled elsewhere (an account's history) and is not imported again.
   */
  async function take(channel: ChannelRules, raw: unknown, x: OrderExchange, r: ExchangeResult) {
    const head = Head.safeParse(raw);
    if (!head.success) return rejected(channel, '?', `the marketplace sent an order without a usable id or status`, r);
    const here = await findOrderByExternalRef(db, channel.id, head.data.orderId);
    if (head.data.status === 'cancelled') {
      if (here) await cancelledThere(channel, head.data.orderId, here, r);
      return; // never imported: an order cancelled before we heard of it needs nothing from us
    }
    if (!here && head.data.status !== 'placed') return;
    const [unsafe] = unsafeFields(raw);
    if (unsafe) return rejected(channel, head.data.orderId, `${unsafe.path} ${unsafe.message}`, r);
    const parsed = Incoming.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return rejected(
        channel,
        head.data.orderId,
        `the marketplace sent an order we cannot read: ${issue.path.join('.')} ${issue.message}`,
        r,
      );
    }
    await importOrder(channel, parsed.data as MarketplaceOrder, here, x, r);
  }

  async function importOrder(
    channel: ChannelRules,
    mo: MarketplaceOrder,
    here: { id: string; workflow_id: string; customer_id: number } | undefined,
    x: OrderExchange,
    r: ExchangeResult,
  ) {
    try {
      // Already here: only its process is made sure of (the buyer may have edited the order there since).
      const recorded = here
        ? { orderId: here.id, workflowId: here.workflow_id, customerId: here.customer_id }
        : await recordOrder(
            db,
            {
              channel: channel.code,
              externalRef: mo.orderId,
              currency: mo.currency,
              customer: { email: mo.buyer.email, name: mo.buyer.name },
              shippingAddress: mo.shipTo,
              lines: mo.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPrice: l.unitPrice })),
              shippingPrice: mo.shippingPrice,
              payment: { method: 'marketplace', token: `marketplace:${channel.code}:${mo.orderId}` }, // collected by the marketplace
              backorderPolicy: 'ship_available',
            },
            x.baseCurrency,
          );
      await startOrderToCash(Context.current().client, Context.current().info.taskQueue, recorded.workflowId, {
        orderId: recorded.orderId,
        channel: channel.code,
        externalRef: mo.orderId,
        customerEmail: mo.buyer.email.toLowerCase(),
        customerId: String(recorded.customerId),
        backorderPolicy: 'ship_available',
        payment: { method: 'marketplace', token: `marketplace:${channel.code}:${mo.orderId}` },
        timings: x.timings,
      });
      r.imported++;
    } catch (err) {
      if (err instanceof OrderRejected || err instanceof OrderConflict)
        return rejected(channel, mo.orderId, err.message, r);
      throw err;
    }
  }

  /** Cancelled there: cancelled here too while nothing has left, a case for ops once something has. */
  async function cancelledThere(
    channel: ChannelRules,
    externalRef: string,
    here: { id: string; workflow_id: string; status: string },
    r: ExchangeResult,
  ) {
    if (here.status === 'cancelled') return;
    if (await anyLineShipped(db, here.id)) return cancelAfterShipment(channel, externalRef, here.id, r);
    const refused = await Context.current()
      .client.workflow.getHandle(here.workflow_id)
      .executeUpdate(cancelUpdate, {
        args: [{ reason: CANCELLED_ON_MARKETPLACE }],
        updateId: `marketplace-cancel:${externalRef}`,
      })
      .then(
        () => null,
        (err) =>
          err instanceof WorkflowUpdateFailedError || err instanceof WorkflowNotFoundError
            ? ((err.cause as Error | undefined)?.message ?? err.message)
            : Promise.reject(err),
      );
    if (!refused) return void r.cancelled++;
    if (await anyLineShipped(db, here.id)) return cancelAfterShipment(channel, externalRef, here.id, r);
    // Refused for another reason (the order finished): the process's timeline says why.
  }

  async function cancelAfterShipment(channel: ChannelRules, externalRef: string, orderId: string, r: ExchangeResult) {
    await inTransaction(db, (tx) =>
      raiseException(tx, {
        key: `marketplace_cancel_after_shipment:${channel.code}:${externalRef}`,
        type: 'marketplace_cancel_after_shipment',
        subjectType: 'order',
        subjectId: orderId,
        summary: `The buyer cancelled ${channel.code} order ${externalRef} after a parcel had shipped`,
        details: { channel: channel.code, marketplaceOrderId: externalRef },
      }),
    );
    r.cases++;
  }

  async function rejected(channel: ChannelRules, externalRef: string, why: string, r: ExchangeResult) {
    await inTransaction(db, (tx) =>
      raiseException(tx, {
        key: `marketplace_order_rejected:${channel.code}:${externalRef}`,
        type: 'marketplace_order_rejected',
        severity: 'high',
        subjectType: 'channel',
        subjectId: channel.code,
        summary: `${channel.code} order ${externalRef} was not taken: ${why}`,
        details: { channel: channel.code, marketplaceOrderId: externalRef, reason: why },
      }),
    );
    r.cases++;
  }

  /** Delivers the outbox: tracking of each parcel shipped, each cancel. A refusal is recorded, never retried. */
  async function tellMarketplace(channel: ChannelRules & { connection: ChannelConnection }, r: ExchangeResult) {
    for (const u of await pendingMarketplaceUpdates(db, channel.id, UPDATES_PER_ROUND)) {
      Context.current().heartbeat(u.id);
      try {
        const there = await deliver(channel.connection, u);
        await recordMarketplaceAnswer(db, u.id, { outcome: 'told' });
        r.told++;
        if (u.kind === 'shipped' && there.status === 'cancelled' && there.cancelledBy === 'buyer')
          await cancelAfterShipment(channel, u.externalRef, u.orderId, r); // the buyer's cancel crossed our parcel
      } catch (err) {
        if (!(err instanceof MarketplaceRefused)) {
          await recordMarketplaceAnswer(db, u.id, { error: (err as Error).message });
          throw err; // retried with backoff, from this update on
        }
        await recordMarketplaceAnswer(db, u.id, { outcome: `refused: ${err.message}` });
      }
    }
  }
}

async function deliver(c: ChannelConnection, u: MarketplaceUpdate): Promise<MarketplaceOrder> {
  if (u.kind === 'shipped')
    return marketplace.confirmShipment(c, u.externalRef, {
      ref: u.payload.ref,
      carrier: u.payload.carrier,
      trackingNumber: u.payload.trackingNumber,
    });
  const there = await marketplace.order(c, u.externalRef);
  if (there?.status === 'cancelled') return there; // cancelled there first: nothing to tell (not a seller cancel)
  return marketplace.cancel(c, u.externalRef, u.payload.reason ?? 'cancelled by the seller');
}
