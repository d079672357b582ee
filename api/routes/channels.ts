/** Channels as managed data, and what each may promise: availability by SKU and its change feed. */
import { z } from 'zod';
import { inTransaction } from '../../db';
import {
  allChannels,
  availabilityChangesAfter,
  availabilityOf,
  channelByCode,
  forChannel,
  settledChanges,
  skusOf,
  upsertChannels,
  type ChannelRules,
} from '../../db/channels';
import { warehousesAndLocations } from '../../db/inventory';
import type { ApiDeps } from '../deps';
import { notFound, unprocessable } from '../errors';
import type { Routes } from '../route';
import { AvailabilityChangesQuery, AvailabilityQuery, ChannelCode, UpsertChannels } from '../schemas';

type ChannelIn = z.infer<typeof UpsertChannels>['channels'][number];

export function channelRoutes(routes: Routes, { db }: ApiDeps): void {
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
    };
  };
  const warehouseCodes = async () => (await warehousesAndLocations(db))[0] as { id: number; code: string }[];
  const channelOrThrow = async (code: string) => {
    const c = await channelByCode(db, code);
    if (!c) throw notFound(`Channel ${code}`);
    return c;
  };

  routes.add({
    method: 'post',
    path: '/v1/channels',
    tag: 'Channels',
    summary: 'Create or update channels in bulk, all or nothing',
    roles: ['admin', 'ops'],
    action: 'channel.upsert',
    body: UpsertChannels,
    idempotent: true,
    response: { status: 200, description: 'Every channel written; on any rejected row nothing is written' },
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
      return { body: { written: body.channels.length }, audit: { target: body.channels.map((c) => c.code).join(',') } };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/channels',
    tag: 'Channels',
    summary: 'Every channel with its warehouses, buffer and cap',
    roles: 'any',
    response: { status: 200, description: 'Channels by code' },
    handler: async () => ({ body: { channels: await Promise.all((await allChannels(db)).map(view)) } }),
  });

  routes.add({
    method: 'get',
    path: '/v1/channels/:code',
    tag: 'Channels',
    summary: 'One channel',
    roles: 'any',
    params: z.object({ code: ChannelCode }),
    response: { status: 200, description: 'The channel' },
    handler: async (_ctx, { params }) => ({ body: await view(await channelOrThrow(params.code)) }),
  });

  routes.add({
    method: 'get',
    path: '/v1/availability',
    tag: 'Channels',
    summary: 'What a channel may promise of each SKU now (after its buffer and cap), and what is incoming by day',
    roles: 'any',
    query: AvailabilityQuery,
    response: { status: 200, description: 'One item per SKU asked, in the order asked' },
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
    tag: 'Channels',
    summary: 'The SKUs whose availability in a channel may have moved since a cursor, with their number now',
    roles: 'any',
    query: AvailabilityChangesQuery,
    response: { status: 200, description: 'Changes oldest first, one per SKU, and the cursor to ask from next' },
    handler: async (_ctx, { query }) => {
      const channel = await channelOrThrow(query.channel);
      const settled = settledChanges(
        await availabilityChangesAfter(db, query.after, query.limit),
        query.after,
        Date.now(),
      );
      const next = settled.length ? settled[settled.length - 1].seq : query.after;
      const latest = new Map<number, number>(); // product → its newest seq in this page
      for (const r of settled.filter(forChannel(channel.id))) latest.set(r.product_id, r.seq);
      const skus = await skusOf(db, [...latest.keys()]);
      const levels = new Map((await availabilityOf(db, channel, [...skus.values()])).map((a) => [a.sku, a.available]));
      const changes = [...latest]
        .map(([productId, seq]) => ({
          sku: skus.get(productId)!,
          available: levels.get(skus.get(productId)!) ?? 0,
          seq,
        }))
        .sort((a, b) => a.seq - b.seq);
      return { body: { channel: channel.code, changes, next } };
    },
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
