/** Channels as managed data, and what each may promise: availability by SKU and its change feed. */
import { z } from 'zod';
import { inTransaction } from '../../db';
import {
  allChannels,
  availabilityOf,
  changesSince,
  syncStatus,
  upsertChannels,
  type ChannelRules,
} from '../../db/channels';
import { warehousesAndLocations } from '../../db/inventory';
import { untoldUpdates } from '../../db/marketplace';
import type { RouteDeps } from '../deps';
import { notFound, unprocessable } from '../errors';
import type { Routes } from '../route';
import {
  Availability,
  AvailabilityChanges,
  AvailabilityChangesQuery,
  AvailabilityQuery,
  Channel,
  ChannelCode,
  ChannelList,
  Hold,
  PlaceHold,
  Uuid,
  UpsertChannels,
  UpsertResult,
} from '../schemas';
import { productKindsBySku } from '../../db/catalog';
import { endHold, holdById, holdLines, placeHold } from '../../db/holds';
import { channelSyncWorkflowId, holdWorkflowId } from '../../contracts/workflow-ids';
import type { channelSync, ChannelSyncInput } from '../../workflows/channel-sync';
import { orderTimings, type Config } from '../../lib/config';
import type { checkoutHold } from '../../workflows/checkout-hold';
import { startOnce } from '../process';
import { conflict } from '../errors';

type ChannelIn = z.infer<typeof UpsertChannels>['channels'][number];

/** How a channel's sync process starts (on connecting it, or woken by a marketplace's webhook). */
export function channelSyncStart(config: Config, c: { code: string }) {
  const input: ChannelSyncInput = {
    channel: c.code,
    alertAfterSeconds: config.CHANNEL_SYNC_ALERT_SECONDS,
    // Every channel's sync carries them: the round itself asks whether the channel is a marketplace.
    orders: {
      timings: orderTimings(config),
      baseCurrency: config.BASE_CURRENCY,
      pollEveryMs: config.MARKETPLACE_POLL_SECONDS * 1000,
    },
  };
  return {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowId: channelSyncWorkflowId(c.code),
    args: [input] as [ChannelSyncInput],
  };
}

export function channelRoutes(routes: Routes, { db, temporal, config, lookups }: RouteDeps): void {
  const view = async (c: ChannelRules) => {
    const codes = new Map((await warehouseCodes()).map((w) => [w.id, w.code]));
    return {
      code: c.code,
      name: c.name,
      kind: c.kind,
      warehouses: c.warehouseIds ? c.warehouseIds.map((id) => codes.get(id)) : 'all',
      bufferUnits: c.bufferUnits,
      bufferPct: c.bufferPct,
      cap: c.cap,
      connection: c.connection,
      sync: c.connection ? await sync(c) : undefined,
    };
  };
  /** Where the channel's sync stands: the feed position pushed, what is still to tell and how late it is. */
  const sync = async (c: ChannelRules) => {
    const s = await syncStatus(db, c.id);
    const { cursor, pending, lagSeconds, lastError, lastPushedAt, pushedItems, pushCalls } = s;
    const orders =
      c.kind === 'marketplace'
        ? { feedCursor: s.ordersCursor, polledAt: s.ordersPolledAt, untoldUpdates: await untoldUpdates(db, c.id) }
        : undefined;
    return { cursor, pending, lagSeconds, lastError, lastPushedAt, pushedItems, pushCalls, orders };
  };
  const warehouseCodes = async () => (await warehousesAndLocations(db))[0] as { id: number; code: string }[];
  const channelOrThrow = async (code: string) => {
    const c = await lookups.channel(code);
    if (!c) throw notFound(`Channel ${code}`);
    return c;
  };

  routes.add({
    method: 'post',
    path: '/v1/channels',
    errors: [422],
    tag: 'Channels',
    summary: 'Create or update channels in bulk, all or nothing',
    roles: ['admin', 'ops'],
    action: 'channel.upsert',
    body: UpsertChannels,
    idempotent: true,
    response: {
      status: 200,
      schema: UpsertResult,
      description: 'Every channel written; on any rejected row nothing is written',
    },
    handler: async (_ctx, { body }) => {
      const warehouses = new Map((await warehouseCodes()).map((w) => [w.code, w.id]));
      const problems = checkChannels(body.channels, warehouses);
      if (problems.length)
        throw unprocessable(`${problems.length} channel row(s) rejected; nothing was written`, problems);
      await inTransaction(db, (tx) =>
        upsertChannels(
          tx,
          body.channels.map((c) => ({
            ...c,
            warehouseIds: c.warehouses?.length ? c.warehouses.map((w) => warehouses.get(w)!) : null,
          })),
        ),
      );
      lookups.changed('channels'); // this process at once; the others when Postgres tells them
      // Every channel with a connection is kept told by its own sync process (started once, ends when disconnected).
      for (const c of body.channels.filter((x) => x.connection)) {
        await startOnce<typeof channelSync>(temporal, 'channelSync', channelSyncStart(config, c), true);
      }
      return { body: { written: body.channels.length }, audit: { target: body.channels.map((c) => c.code).join(',') } };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/channels',
    tag: 'Channels',
    summary: 'Every channel with its warehouses, buffer and cap',
    roles: 'any',
    response: { status: 200, schema: ChannelList, description: 'Channels by code' },
    handler: async () => ({ body: { channels: await Promise.all((await allChannels(db)).map(view)) } }),
  });

  routes.add({
    method: 'get',
    path: '/v1/channels/:code',
    tag: 'Channels',
    summary: 'One channel',
    roles: 'any',
    params: z.object({ code: ChannelCode }),
    response: { status: 200, schema: Channel, description: 'The channel' },
    handler: async (_ctx, { params }) => ({ body: await view(await channelOrThrow(params.code)) }),
  });

  routes.add({
    method: 'get',
    path: '/v1/availability',
    errors: [404, 422],
    tag: 'Channels',
    summary: 'What a channel may promise of each SKU now (after its buffer and cap), and what is incoming by day',
    roles: 'any',
    query: AvailabilityQuery,
    response: { status: 200, schema: Availability, description: 'One item per SKU asked, in the order asked' },
    handler: async (_ctx, { query }) => {
      const channel = await channelOrThrow(query.channel);
      const skus = [...new Set(Array.isArray(query.sku) ? query.sku : [query.sku])];
      const items = await availabilityOf(db, channel, skus);
      const unknown = skus.filter((s) => !items.some((i) => i.sku === s));
      if (unknown.length) {
        throw unprocessable(
          `${unknown.length} unknown SKU(s)`,
          unknown.map((sku) => ({ path: 'sku', message: `unknown SKU ${sku}` })),
        );
      }
      return { body: { channel: channel.code, items } };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/availability/changes',
    errors: [404],
    tag: 'Channels',
    summary: 'The SKUs whose availability in a channel may have moved since a cursor, with their number now',
    roles: 'any',
    query: AvailabilityChangesQuery,
    response: {
      status: 200,
      schema: AvailabilityChanges,
      description: 'Changes oldest first, one per SKU, and the cursor to ask from next',
    },
    handler: async (_ctx, { query }) => {
      const channel = await channelOrThrow(query.channel);
      const { changes, next } = await changesSince(db, channel, query.after, query.limit);
      return { body: { channel: channel.code, changes, next } };
    },
  });

  const holdView = async (holdId: string) => {
    const h = await holdById(db, holdId);
    if (!h) throw notFound(`Hold ${holdId}`);
    return {
      holdId: h.id,
      channel: h.channel,
      status: h.status,
      expiresAt: new Date(h.expires_at).toISOString(),
      orderId: h.order_id ?? undefined,
      lines: await holdLines(db, holdId),
    };
  };

  routes.add({
    method: 'post',
    path: '/v1/holds',
    errors: [409, 422],
    tag: 'Channels',
    summary: 'Hold units for a shopper at checkout, all or nothing, within what the channel may promise',
    roles: ['storefront'],
    action: 'hold.place',
    body: PlaceHold,
    idempotent: true,
    response: { status: 201, schema: Hold, description: 'Held until expiresAt; 409 with what is short, nothing held' },
    handler: async (_ctx, { body }) => {
      const channel = await lookups.channel(body.channel);
      if (!channel)
        throw unprocessable(`Unknown channel ${body.channel}`, [
          { path: 'channel', message: 'not a configured sales channel' },
        ]);
      const products = new Map(
        (
          await productKindsBySku(
            db,
            body.lines.map((l) => l.sku),
          )
        ).map((p) => [p.sku, p]),
      );
      const problems = checkHoldLines(body.lines, products);
      if (problems.length) throw unprocessable(`${problems.length} hold line(s) rejected; nothing was held`, problems);
      const expiresAt = new Date(Date.now() + body.ttlSeconds * 1000);
      const lines = body.lines.map((l) => ({ ...l, productId: products.get(l.sku)!.id }));
      // The expiry process starts inside the hold's transaction, before it commits: a hold never exists without
      // its timer (a timer whose hold never committed finds nothing to expire).
      const placed = await inTransaction(db, async (tx) => {
        const result = await placeHold(tx, channel, lines, expiresAt);
        if ('holdId' in result) {
          await startOnce<typeof checkoutHold>(temporal, 'checkoutHold', {
            taskQueue: config.TEMPORAL_TASK_QUEUE,
            workflowId: holdWorkflowId(result.holdId),
            args: [{ holdId: result.holdId, expiresAt: expiresAt.toISOString() }],
          });
        }
        return result;
      });
      if ('short' in placed) {
        throw conflict(
          `Not enough to hold in ${channel.code}; nothing was held`,
          placed.short.map((x) => ({ path: 'lines', sku: x.sku, requested: x.requested, available: x.available })),
        );
      }
      return { status: 201, body: await holdView(placed.holdId), audit: { target: placed.holdId } };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/holds/:holdId',
    tag: 'Channels',
    summary: 'One checkout hold',
    roles: ['storefront', 'ops'],
    params: z.object({ holdId: Uuid }),
    response: { status: 200, schema: Hold, description: 'The hold, its lines and status' },
    handler: async (_ctx, { params }) => ({ body: await holdView(params.holdId) }),
  });

  routes.add({
    method: 'delete',
    path: '/v1/holds/:holdId',
    errors: [409],
    tag: 'Channels',
    summary: 'Release a checkout hold at once (the shopper left)',
    roles: ['storefront'],
    action: 'hold.release',
    params: z.object({ holdId: Uuid }),
    response: { status: 200, schema: Hold, description: 'Released; 409 when the hold already ended' },
    handler: async (_ctx, { params }) => {
      const before = await holdView(params.holdId);
      const released = await inTransaction(db, (tx) => endHold(tx, params.holdId, 'released'));
      if (!released) throw conflict(`Hold ${params.holdId} is already ${(await holdView(params.holdId)).status}`);
      return { body: { ...before, status: 'released' }, audit: { target: params.holdId } };
    },
  });
}

/** Per-line problems of a hold: unknown SKUs, kits (hold their components), a SKU twice. */
function checkHoldLines(lines: { sku: string }[], products: Map<string, { kind: string }>) {
  const seen = new Set<string>();
  return lines.flatMap((l, i) => {
    const path = `lines.${i}.sku`;
    const p = products.get(l.sku);
    const twice = seen.has(l.sku);
    seen.add(l.sku);
    if (twice) return [{ path, message: `${l.sku} appears twice` }];
    if (!p) return [{ path, message: `unknown SKU ${l.sku}` }];
    if (p.kind === 'kit') return [{ path, message: `${l.sku} is a kit: hold its components` }];
    return [];
  });
}

/** Per-row problems: a code twice in the request, unknown warehouses. */
function checkChannels(channels: ChannelIn[], warehouses: Map<string, number>) {
  const problems: { index: number; code: string; message: string }[] = [];
  const seen = new Set<string>();
  channels.forEach((c, index) => {
    if (seen.has(c.code)) problems.push({ index, code: c.code, message: 'the channel appears twice in this request' });
    seen.add(c.code);
    for (const w of c.warehouses ?? []) {
      if (!warehouses.has(w)) problems.push({ index, code: c.code, message: `unknown warehouse ${w}` });
    }
  });
  return problems;
}
