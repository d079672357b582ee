/** API keys, warehouses and products (with kits). */
import { z } from 'zod';
import { inTransaction } from '../../db';
import {
  kitComponentSkus,
  productIdsBySku,
  productKindsBySku,
  productRow,
  productsAfter,
  replaceKitComponents,
  upsertProduct,
} from '../../db/catalog';
import { auditMatching, listApiKeys, revokeApiKey } from '../../db/access';
import { warehousesAndLocations } from '../../db/inventory';
import { setCost } from '../../db/valuation';
import { createApiKey, Role } from '../auth';
import type { RouteDeps } from '../deps';
import { notFound, refuseBadCursor, unprocessable } from '../errors';
import type { Routes } from '../route';
import {
  ApiKeyList,
  AuditList,
  AuditQuery,
  CreateKey,
  KeyCreated,
  KeyRevoked,
  ListQuery,
  Product,
  ProductList,
  Sku,
  UpsertProducts,
  UpsertResult,
  WarehouseList,
} from '../schemas';
import { pageOf } from '../../db/paging';

type ProductIn = z.infer<typeof UpsertProducts>['products'][number];

type AuditRow = {
  id: string;
  at: Date;
  api_key_name: string | null;
  roles: string[] | null;
  action: string;
  method: string;
  path: string;
  target: string | null;
  status: number;
  request_id: string;
  workflow_id: string | null;
};

export function masterDataRoutes(routes: Routes, { db, config, lookups }: RouteDeps): void {
  routes.add({
    method: 'post',
    path: '/v1/api-keys',
    tag: 'Keys',
    summary: 'Create an API key (shown once)',
    roles: ['admin'],
    action: 'api_key.create',
    body: CreateKey,
    idempotent: true,
    response: { status: 201, schema: KeyCreated, description: 'The key; store it now, it is never shown again' },
    handler: async (_ctx, { body }) => {
      const { id, key } = await createApiKey(db, body.name, body.roles as Role[]);
      return { body: { id, key, name: body.name, roles: body.roles }, audit: { target: id } };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/api-keys',
    tag: 'Keys',
    summary: 'Every API key, newest first (name, first characters, roles, revoked or not; never the key)',
    roles: ['admin'],
    response: { status: 200, schema: ApiKeyList, description: 'Keys' },
    handler: async () => ({
      body: {
        keys: (await listApiKeys(db)).map((k) => ({
          id: k.id,
          name: k.name,
          prefix: k.prefix,
          roles: k.roles,
          createdAt: k.created_at,
          revokedAt: k.revoked_at,
        })),
      },
    }),
  });

  routes.add({
    method: 'get',
    path: '/v1/audit',
    tag: 'Keys',
    summary: 'The audit log: every state change, who made it, newest first, a page at a time',
    roles: ['admin'],
    query: AuditQuery,
    response: { status: 200, schema: AuditList, description: 'Audit entries' },
    handler: async (_ctx, { query }) => {
      const page = await pageOf<AuditRow>(auditMatching(db, query), {
        atColumn: 'at',
        idColumn: 'id',
        cursor: query.cursor,
        limit: query.limit,
        at: (a) => a.at,
      }).catch(refuseBadCursor);
      return {
        body: {
          entries: page.items.map((a) => ({
            id: String(a.id),
            at: a.at,
            keyName: a.api_key_name ?? '',
            roles: a.roles,
            action: a.action,
            method: a.method,
            path: a.path,
            target: a.target,
            status: a.status,
            requestId: a.request_id,
            workflowId: a.workflow_id,
          })),
          next: page.next,
        },
      };
    },
  });

  routes.add({
    method: 'delete',
    path: '/v1/api-keys/:id',
    tag: 'Keys',
    summary: 'Revoke an API key at once',
    roles: ['admin'],
    action: 'api_key.revoke',
    params: z.object({ id: z.string().uuid() }),
    response: { status: 200, schema: KeyRevoked, description: 'Revoked' },
    handler: async (_ctx, { params }) => {
      const n = await revokeApiKey(db, params.id);
      lookups.changed('api_keys'); // this process at once; the others when Postgres tells them (milliseconds)
      if (n === 0) throw notFound(`Active API key ${params.id}`);
      return { body: { id: params.id, revoked: true }, audit: { target: params.id } };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/warehouses',
    tag: 'Master data',
    summary: 'Warehouses with their locations',
    roles: 'any',
    response: { status: 200, schema: WarehouseList, description: 'Warehouses by priority' },
    handler: async () => {
      const [warehouses, locations] = await warehousesAndLocations(db);
      return {
        body: {
          warehouses: warehouses.map((w) => ({
            code: w.code,
            name: w.name,
            priority: w.priority,
            country: w.country ?? undefined,
            locations: locations
              .filter((l) => l.warehouse_id === w.id)
              .map((l) => ({ code: l.code, name: l.name, type: l.type })),
          })),
        },
      };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/products',
    tag: 'Master data',
    summary: 'Products, by SKU, in pages',
    roles: 'any',
    query: ListQuery,
    response: { status: 200, schema: ProductList, description: 'A page of products and the cursor of the next one' },
    handler: async (_ctx, { query }) => {
      const rows = await productsAfter(db, query.cursor, query.limit + 1);
      const page = rows.slice(0, query.limit);
      return {
        body: {
          products: await withComponents(page),
          nextCursor: rows.length > query.limit ? page[page.length - 1].sku : null,
        },
      };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/products/:sku',
    tag: 'Master data',
    summary: 'One product',
    roles: 'any',
    params: z.object({ sku: Sku }),
    response: { status: 200, schema: Product, description: 'The product' },
    handler: async (_ctx, { params }) => {
      const row = await productRow(db, params.sku);
      if (!row) throw notFound(`Product ${params.sku}`);
      return { body: (await withComponents([row]))[0] };
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/products',
    errors: [422],
    tag: 'Master data',
    summary: 'Create or update products in bulk, all or nothing',
    roles: ['admin', 'procurement'],
    action: 'product.upsert',
    body: UpsertProducts,
    idempotent: true,
    response: {
      status: 200,
      schema: UpsertResult,
      description: 'Every product written; on any rejected row nothing is written and each bad row is listed',
    },
    handler: async (_ctx, { body }) => {
      const problems = await checkProducts(body.products);
      if (problems.length)
        throw unprocessable(`${problems.length} product row(s) rejected; nothing was written`, problems);
      const written = await inTransaction(db, async (tx) => {
        for (const p of body.products) {
          const productId = await upsertProduct(tx, p);
          await setCost(tx, productId, p.cost, config.BASE_CURRENCY); // a new cost for stock on hand is a revaluation, booked
        }
        const ids = new Map<string, number>(
          (await productIdsBySku(tx, allSkus(body.products))).map((r) => [r.sku, r.id]),
        );
        for (const p of body.products.filter((x) => (x.kind ?? 'stocked') === 'kit')) {
          await replaceKitComponents(
            tx,
            ids.get(p.sku)!,
            p.components!.map((c) => ({ productId: ids.get(c.sku)!, quantity: c.quantity })),
          );
        }
        return body.products.length;
      });
      return { body: { written }, audit: { target: `${written} product(s)` } };
    },
  });

  const allSkus = (ps: ProductIn[]) => [
    ...new Set(ps.flatMap((p) => [p.sku, ...(p.components ?? []).map((c) => c.sku)])),
  ];

  /** Per-row problems: duplicates, kits without components, components that are unknown or kits themselves. */
  async function checkProducts(ps: ProductIn[]) {
    const existing = new Map<string, { kind: string; id: number }>(
      (await productKindsBySku(db, allSkus(ps))).map((r) => [r.sku, r]),
    );
    const batchKind = new Map(ps.map((p) => [p.sku, p.kind ?? 'stocked']));
    const problems: { index: number; sku: string; message: string }[] = [];
    const seen = new Set<string>();
    ps.forEach((p, index) => {
      const bad = (message: string) => problems.push({ index, sku: p.sku, message });
      if (seen.has(p.sku)) bad('the SKU appears twice in this request');
      seen.add(p.sku);
      const kind = p.kind ?? 'stocked';
      if (kind === 'stocked' && p.components?.length) bad('only kits have components');
      if (kind === 'kit' && !p.components?.length) bad('a kit needs at least one component');
      if (kind === 'stocked' && existing.get(p.sku)?.kind === 'kit') bad('a kit cannot become a stocked product');
      for (const c of p.components ?? []) {
        const ck = batchKind.get(c.sku) ?? existing.get(c.sku)?.kind;
        if (!ck) bad(`component ${c.sku} is not a known product`);
        else if (ck === 'kit') bad(`component ${c.sku} is a kit; kits cannot nest`);
        if (c.sku === p.sku) bad('a kit cannot contain itself');
      }
    });
    return problems;
  }

  async function withComponents(
    rows: {
      id: number;
      sku: string;
      name: string;
      unit: string;
      barcode: string | null;
      cost: number;
      price: number | null;
      kind: string;
      category: string | null;
      active: boolean;
    }[],
  ) {
    const comps = rows.length
      ? await kitComponentSkus(
          db,
          rows.map((r) => r.id),
        )
      : [];
    return rows.map((r) => ({
      sku: r.sku,
      name: r.name,
      unit: r.unit,
      barcode: r.barcode ?? undefined,
      cost: r.cost,
      price: r.price ?? undefined,
      kind: r.kind,
      category: r.category ?? undefined,
      active: r.active,
      components:
        r.kind === 'kit'
          ? comps.filter((c) => c.kit_product_id === r.id).map((c) => ({ sku: c.sku, quantity: c.quantity }))
          : undefined,
    }));
  }
}
