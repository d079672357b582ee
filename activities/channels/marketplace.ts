/**
 * The seller's side of a marketplace's API, as our sandbox marketplace speaks it (scripts/sandbox-marketplace.ts):
 * listings pushed with their sequence numbers, the order feed read, parcels confirmed, orders cancelled.
 * Every call is paced to the channel's rate; a 429 waits as long as the marketplace says and tries again.
 */
import { Context } from '@temporalio/activity';
import type { ChannelConnection } from '../../db/channels';
import type { Payout } from '../../contracts/settlement-types';

export interface MarketplaceOrder {
  orderId: string;
  status: 'placed' | 'shipped' | 'cancelled';
  cancelledBy?: 'buyer' | 'seller';
  buyer: { email: string; name: string };
  shipTo: { name: string; line1: string; city: string; postalCode: string; country: string; region?: string };
  lines: { sku: string; quantity: number; unitPrice: number }[];
  shippingPrice: number;
  currency: string;
  seq: number;
}

/** The marketplace said no (a 4xx other than 429): a business answer, not an outage to retry. */
export class MarketplaceRefused extends Error {}

const THROTTLED_TRIES = 20;

/** One call, paced to the channel's rate; answers the parsed body and how many calls it took. */
async function call<T>(
  c: ChannelConnection,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ body: T; calls: number }> {
  for (let calls = 1; ; calls++) {
    const res = await fetch(`${c.endpoint.replace(/\/$/, '')}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    await pause(1000 / c.ratePerSecond);
    if (res.ok) return { body: json(text) as T, calls };
    // A 4xx is the marketplace's answer about this one thing (retrying says the same): 429 and 5xx are waited out.
    if (res.status >= 400 && res.status < 500 && res.status !== 429)
      throw new MarketplaceRefused(`${(json(text) as { error?: string }).error ?? `answered ${res.status}`}`);
    if (res.status !== 429 || calls >= THROTTLED_TRIES)
      throw new Error(`the marketplace answered ${res.status} to ${method} ${path}`);
    await pause(Number(res.headers.get('retry-after') ?? 1) * 1000);
    Context.current().heartbeat();
  }
}

export const marketplace = {
  /** One batch of levels; answers the calls made. */
  async pushListings(c: ChannelConnection, items: { sku: string; quantity: number; seq: number }[]): Promise<number> {
    return (await call(c, 'PUT', '/listings', { items })).calls;
  },
  async order(c: ChannelConnection, orderId: string): Promise<MarketplaceOrder | null> {
    return call<MarketplaceOrder>(c, 'GET', `/orders/${encodeURIComponent(orderId)}`).then(
      (r) => r.body,
      (err) => (err instanceof MarketplaceRefused ? null : Promise.reject(err)),
    );
  },
  async ordersAfter(c: ChannelConnection, after: number, limit: number) {
    return (await call<{ orders: MarketplaceOrder[]; next: number }>(c, 'GET', `/orders?after=${after}&limit=${limit}`))
      .body;
  },
  async confirmShipment(
    c: ChannelConnection,
    orderId: string,
    s: { ref?: string; carrier?: string; trackingNumber?: string },
  ) {
    return (await call<MarketplaceOrder>(c, 'POST', `/orders/${encodeURIComponent(orderId)}/shipments`, s)).body;
  },
  /** The statements (payouts) the marketplace has made to the seller, oldest first. */
  async statements(c: ChannelConnection): Promise<string[]> {
    return (await call<{ statements: string[] }>(c, 'GET', '/statements')).body.statements;
  },
  async statement(c: ChannelConnection, id: string): Promise<Payout | null> {
    return call<Payout>(c, 'GET', `/statements/${encodeURIComponent(id)}`).then(
      (r) => r.body,
      (err) => (err instanceof MarketplaceRefused ? null : Promise.reject(err)),
    );
  },
  async cancel(c: ChannelConnection, orderId: string, reason: string) {
    return (await call<MarketplaceOrder>(c, 'POST', `/orders/${encodeURIComponent(orderId)}/cancel`, { reason })).body;
  },
};

/** A body as JSON, or {} when it is none (an empty or non-JSON answer is not a failure of the call). */
function json(text: string): unknown {
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return {};
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
