/** Purchasing: supplier master data, replenishment runs and purchase orders (procure-to-pay). */
import { randomUUID } from 'node:crypto';
import { inTransaction, Tx, type Db } from '../../db';
import { productBySku, productKindsBySku } from '../../db/catalog';
import { warehouseByCode, warehousesByCodes } from '../../db/inventory';
import {
  activeSupplierByCode,
  allSupplierPrices,
  allSuppliers,
  createPurchaseOrder,
  orderedSkus,
  purchaseOrdersMatching,
  purchaseOrderRef,
  purchaseOrderView,
  supplierPrice,
  suppliersByCodes,
  upsertReorderRules,
  upsertSupplierPrices,
  upsertSuppliers,
} from '../../db/purchasing';
import { purchasePolicy } from '../../lib/config';
import type { procureToPay } from '../../workflows/procure-to-pay';
import {
  purchaseBillUpdate,
  purchaseDecisionUpdate,
  purchaseProcessQuery,
  purchaseReceiptUpdate,
} from '../../contracts/purchase-messages';
import type { replenishmentPlanning } from '../../workflows/replenishment-planning';
import type { ApiDeps } from '../deps';
import { notFound, refuseBadCursor, unprocessable } from '../errors';
import { pageOf } from '../../db/paging';
import { queryProcess, recordedProcess, startOnce, updateIdOf, updateProcess } from '../process';
import type { Routes } from '../route';
import {
  isUuid,
  NewPurchaseOrder,
  PurchaseDecisionBody,
  PurchaseOrderCreated,
  PurchaseOrderDecision,
  PurchaseOrderList,
  PurchaseOrderParams,
  PurchaseOrdersQuery,
  PurchaseOrderView,
  PurchaseReceipt,
  PurchaseReceiptBody,
  ReplenishmentRun,
  ReplenishmentRunBody,
  SupplierList,
  UpsertReorderRules,
  UpsertResult,
  UpsertSupplierPrices,
  UpsertSuppliers,
  VendorBillBody,
  VendorBillResult,
} from '../schemas';

type Problem = { index: number; message: string };
const PO_READERS = ['procurement', 'approver', 'finance', 'warehouse', 'ops'] as const;

export function purchasingRoutes(routes: Routes, { db, temporal, config }: ApiDeps): void {
  /** Codes → ids for a bulk import; every unknown one is a problem of its row. */
  async function idsOf(table: 'products' | 'suppliers' | 'warehouses', column: 'sku' | 'code', values: string[]) {
    const unique = [...new Set(values)];
    const rows: Record<string, unknown>[] =
      table === 'products'
        ? await productKindsBySku(db, unique)
        : table === 'suppliers'
          ? await suppliersByCodes(db, unique)
          : await warehousesByCodes(db, unique);
    return new Map<string, { id: number; kind?: string; lead_time_days?: number }>(
      rows.map((r) => [r[column] as string, r as { id: number; kind?: string; lead_time_days?: number }]),
    );
  }
  /** Per-row problems of a bulk import: the row's own checks, and the same key twice. */
  function rowProblems<T>(rows: T[], keyOf: (row: T) => string, check: (row: T) => string[]): Problem[] {
    const seen = new Set<string>();
    return rows.flatMap((row, index) => {
      const key = keyOf(row);
      const messages = [...check(row), ...(seen.has(key) ? [`${key} appears twice in this request`] : [])];
      seen.add(key);
      return messages.map((message) => ({ index, message }));
    });
  }
  const stockedProblems = (products: Map<string, { kind?: string }>, sku: string, instead: string) =>
    !products.has(sku)
      ? [`unknown SKU ${sku}`]
      : products.get(sku)!.kind === 'kit'
        ? [`${sku} is a kit; ${instead}`]
        : [];
  /** A bulk import is one transaction: every row is written, or none. */
  async function upsertAll(
    upsert: (tx: Tx, rows: Record<string, unknown>[]) => Promise<void>,
    rows: Record<string, unknown>[],
  ) {
    await inTransaction(db, (tx) => upsert(tx, rows));
  }
  function rejectIf(problems: Problem[], what: string) {
    if (problems.length)
      throw unprocessable(`${problems.length} ${what} row(s) rejected; nothing was written`, problems);
  }

  routes.add({
    method: 'post',
    path: '/v1/suppliers',
    errors: [422],
    tag: 'Purchasing',
    summary: 'Create or update suppliers in bulk, all or nothing',
    roles: ['procurement'],
    action: 'supplier.upsert',
    body: UpsertSuppliers,
    idempotent: true,
    response: { status: 200, schema: UpsertResult, description: 'Every supplier written' },
    handler: async (_ctx, { body }) => {
      rejectIf(
        rowProblems(
          body.suppliers,
          (x) => `supplier ${x.code}`,
          (x) =>
            x.currency === config.BASE_CURRENCY
              ? []
              : [
                  `currency ${x.currency}: the books are kept in ${config.BASE_CURRENCY} and purchases are not converted`,
                ],
        ),
        'supplier',
      );
      await upsertAll(
        upsertSuppliers,
        body.suppliers.map((s) => ({
          code: s.code,
          name: s.name,
          currency: s.currency,
          email: s.email ?? null,
          lead_time_days: s.leadTimeDays ?? 7,
          payment_terms_days: s.paymentTermsDays ?? 30,
          active: s.active ?? true,
        })),
      );
      return { body: { written: body.suppliers.length }, audit: { target: `${body.suppliers.length} supplier(s)` } };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/suppliers',
    tag: 'Purchasing',
    summary: 'Suppliers with their prices',
    roles: [...PO_READERS],
    response: { status: 200, schema: SupplierList, description: 'Suppliers' },
    handler: async () => {
      const [suppliers, prices] = await Promise.all([allSuppliers(db), allSupplierPrices(db)]);
      return {
        body: {
          suppliers: suppliers.map((s) => ({
            code: s.code,
            name: s.name,
            currency: s.currency,
            email: s.email ?? undefined,
            leadTimeDays: s.lead_time_days,
            paymentTermsDays: s.payment_terms_days,
            active: s.active,
            prices: prices
              .filter((p) => p.supplier_id === s.id)
              .map((p) => ({
                sku: p.sku,
                unitPrice: p.unit_price,
                moq: p.moq,
                packSize: p.pack_size,
                leadTimeDays: p.lead_time_days,
              })),
          })),
        },
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/supplier-prices',
    errors: [422],
    tag: 'Purchasing',
    summary: 'Supplier prices per SKU (price, MOQ, pack size, lead time) in bulk, all or nothing',
    roles: ['procurement'],
    action: 'supplier_price.upsert',
    body: UpsertSupplierPrices,
    idempotent: true,
    response: { status: 200, schema: UpsertResult, description: 'Every price written' },
    handler: async (_ctx, { body }) => {
      const suppliers = await idsOf(
        'suppliers',
        'code',
        body.prices.map((p) => p.supplier),
      );
      const products = await idsOf(
        'products',
        'sku',
        body.prices.map((p) => p.sku),
      );
      rejectIf(
        rowProblems(
          body.prices,
          (p) => `${p.supplier}/${p.sku}`,
          (p) => [
            ...(suppliers.has(p.supplier) ? [] : [`unknown supplier ${p.supplier}`]),
            ...stockedProblems(products, p.sku, 'buy its components'),
          ],
        ),
        'price',
      );
      await upsertAll(
        upsertSupplierPrices,
        body.prices.map((p) => ({
          supplier_id: suppliers.get(p.supplier)!.id,
          product_id: products.get(p.sku)!.id,
          unit_price: p.unitPrice,
          moq: p.moq ?? 1,
          pack_size: p.packSize ?? 1,
          lead_time_days: p.leadTimeDays ?? suppliers.get(p.supplier)!.lead_time_days!,
        })),
      );
      return { body: { written: body.prices.length }, audit: { target: `${body.prices.length} price(s)` } };
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/reorder-rules',
    errors: [422],
    tag: 'Purchasing',
    summary: 'Reorder rules per SKU and warehouse in bulk, all or nothing',
    roles: ['procurement'],
    action: 'reorder_rule.upsert',
    body: UpsertReorderRules,
    idempotent: true,
    response: { status: 200, schema: UpsertResult, description: 'Every rule written' },
    handler: async (_ctx, { body }) => {
      const products = await idsOf(
        'products',
        'sku',
        body.rules.map((r) => r.sku),
      );
      const warehouses = await idsOf(
        'warehouses',
        'code',
        body.rules.map((r) => r.warehouse),
      );
      rejectIf(
        rowProblems(
          body.rules,
          (r) => `${r.sku}@${r.warehouse}`,
          (r) => [
            ...stockedProblems(products, r.sku, 'set rules on its components'),
            ...(warehouses.has(r.warehouse) ? [] : [`unknown warehouse ${r.warehouse}`]),
          ],
        ),
        'rule',
      );
      await upsertAll(
        upsertReorderRules,
        body.rules.map((r) => ({
          product_id: products.get(r.sku)!.id,
          warehouse_id: warehouses.get(r.warehouse)!.id,
          method: r.method,
          min_qty: r.minQty ?? null,
          max_qty: r.maxQty ?? null,
          safety_stock: r.safetyStock ?? null,
          service_level: r.serviceLevel ?? null,
          cover_days: r.coverDays ?? null,
        })),
      );
      return { body: { written: body.rules.length }, audit: { target: `${body.rules.length} rule(s)` } };
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/replenishment/runs',
    errors: [404, 422],
    tag: 'Purchasing',
    summary: 'Plan now: proposals, stockout risks and the draft purchase orders created',
    roles: ['procurement'],
    action: 'replenishment.run',
    body: ReplenishmentRunBody,
    idempotent: true,
    response: {
      status: 201,
      schema: ReplenishmentRun,
      description: 'The run; each purchase order is already in its procure-to-pay process',
    },
    handler: async () => {
      const runId = randomUUID();
      const plan = await temporal.workflow.execute<typeof replenishmentPlanning>('replenishmentPlanning', {
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        workflowId: `replenishment-${runId}`,
        args: [{ trigger: 'manual', runId, policy: purchasePolicy(config) }],
      });
      return { body: plan, audit: { target: runId, workflowId: `replenishment-${runId}` } };
    },
  });

  const findOrder = (poId: string) => purchaseOrderOrThrow(db, poId);
  /** Lines for SKUs the order does not have are bad input (422), before the process is asked. */
  async function onlyOrderedSkus(po: { id: string; number: string }, lines: { sku: string }[]) {
    const skus = await orderedSkus(db, po.id);
    const problems = lines.flatMap((l, i) =>
      skus.includes(l.sku) ? [] : [{ path: `lines.${i}.sku`, message: `${l.sku} is not on ${po.number}` }],
    );
    if (problems.length)
      throw unprocessable(`${problems.length} line(s) name SKUs that are not on ${po.number}`, problems);
  }

  routes.add({
    method: 'get',
    path: '/v1/purchase-orders',
    tag: 'Purchasing',
    summary: 'Purchase orders by status and supplier, newest first, a page at a time',
    roles: [...PO_READERS],
    query: PurchaseOrdersQuery,
    response: { status: 200, schema: PurchaseOrderList, description: 'A page of purchase orders' },
    handler: async (_ctx, { query }) => {
      type Row = {
        id: string;
        number: string;
        status: string;
        origin: string;
        total: number;
        currency: string;
        created_at: Date;
        expected_at: Date | null;
        supplier: string;
        warehouse: string;
      };
      const page = await pageOf<Row>(purchaseOrdersMatching(db, query), {
        atColumn: 'po.created_at',
        idColumn: 'po.id',
        cursor: query.cursor,
        limit: query.limit,
        at: (r) => r.created_at,
      }).catch(refuseBadCursor);
      return {
        body: {
          purchaseOrders: page.items.map((r) => ({
            poId: r.id,
            number: r.number,
            status: r.status,
            origin: r.origin,
            supplier: r.supplier,
            warehouse: r.warehouse,
            total: r.total,
            currency: r.currency,
            createdAt: r.created_at,
            expectedAt: r.expected_at ?? undefined,
          })),
          next: page.next,
        },
      };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/purchase-orders/:poId',
    tag: 'Purchasing',
    summary: 'A purchase order (by id or number) with its lines, receipts, bills, payments and live process',
    roles: [...PO_READERS],
    params: PurchaseOrderParams,
    response: { status: 200, schema: PurchaseOrderView, description: 'The purchase order' },
    handler: async (_ctx, { params }) => {
      const po = await findOrder(params.poId);
      const view = (await purchaseOrderView(db, po.id))!;
      const live = await queryProcess(temporal, po.workflow_id, purchaseProcessQuery, config);
      return {
        body: {
          ...view,
          process: live
            ? { ...live, live: true }
            : recordedProcess(view.status, [] as string[], config.LIVE_VIEW_TIMEOUT_MS),
        },
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/purchase-orders',
    errors: [422],
    tag: 'Purchasing',
    summary: 'A manual purchase order (prices default to the supplier price list)',
    roles: ['procurement'],
    action: 'purchase_order.create',
    body: NewPurchaseOrder,
    idempotent: true,
    response: { status: 201, schema: PurchaseOrderCreated, description: 'The purchase order and its process' },
    handler: async (_ctx, { body, requestKey }) => {
      const created = await inTransaction(db, async (tx) => {
        const supplier = await activeSupplierByCode(tx, body.supplier);
        if (!supplier)
          throw unprocessable(`Unknown or inactive supplier ${body.supplier}`, [
            { path: 'supplier', message: 'unknown supplier' },
          ]);
        const warehouse = await warehouseByCode(tx, body.warehouse);
        if (!warehouse)
          throw unprocessable(`Unknown warehouse ${body.warehouse}`, [
            { path: 'warehouse', message: 'unknown warehouse code' },
          ]);
        const problems: { path: string; message: string }[] = [];
        const lines: { productId: number; quantity: number; unitPrice: number }[] = [];
        for (const [i, l] of body.lines.entries()) {
          const product = await productBySku(tx, l.sku);
          const price = product ? await supplierPrice(tx, supplier.id, product.id) : undefined;
          if (!product) problems.push({ path: `lines.${i}.sku`, message: `unknown SKU ${l.sku}` });
          else if (product.kind === 'kit')
            problems.push({ path: `lines.${i}.sku`, message: `${l.sku} is a kit; buy its components` });
          else if (l.unitPrice === undefined && !price)
            problems.push({
              path: `lines.${i}.unitPrice`,
              message: `${body.supplier} has no price for ${l.sku}; give unitPrice`,
            });
          else if (lines.some((x) => x.productId === product.id))
            problems.push({ path: `lines.${i}.sku`, message: `${l.sku} appears twice; one line per SKU` });
          else
            lines.push({
              productId: product.id,
              quantity: l.quantity,
              unitPrice: l.unitPrice ?? Number(price.unit_price),
            });
        }
        if (problems.length) throw unprocessable(`${problems.length} line(s) rejected; nothing was written`, problems);
        return createPurchaseOrder(tx, {
          supplierId: supplier.id,
          warehouseId: warehouse.id,
          origin: 'manual',
          note: body.note,
          lines,
          requestKey,
        });
      });
      await startOnce<typeof procureToPay>(temporal, 'procureToPay', {
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        workflowId: created.workflowId,
        args: [{ poId: created.poId, number: created.number, policy: purchasePolicy(config) }],
      });
      return {
        body: {
          poId: created.poId,
          number: created.number,
          workflowId: created.workflowId,
          total: created.total,
          currency: created.currency,
        },
        audit: { target: created.poId, workflowId: created.workflowId },
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/purchase-orders/:poId/decision',
    errors: [409, 422],
    tag: 'Purchasing',
    summary: 'Approve or reject a purchase order waiting for approval',
    roles: ['approver'],
    action: 'purchase_order.decide',
    params: PurchaseOrderParams,
    body: PurchaseDecisionBody,
    response: { status: 200, schema: PurchaseOrderDecision, description: 'The decision reached the process' },
    handler: async (_ctx, { params, body, principal }) => {
      const po = await findOrder(params.poId);
      await updateProcess(temporal, po.workflow_id, purchaseDecisionUpdate, { ...body, decidedBy: principal.name });
      return {
        body: { poId: po.id, number: po.number, decision: body.decision },
        audit: { target: po.id, workflowId: po.workflow_id },
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/purchase-orders/:poId/receipts',
    errors: [409, 422],
    tag: 'Purchasing',
    summary: 'Goods arrived (partial receipts allowed); answers what went into stock and what is held',
    roles: ['warehouse'],
    action: 'purchase_order.receive',
    params: PurchaseOrderParams,
    body: PurchaseReceiptBody,
    idempotent: true,
    response: {
      status: 201,
      schema: PurchaseReceipt,
      description: 'The receipt: per line into stock, held in quarantine, and the unit cost',
    },
    handler: async (ctx, { params, body }) => {
      const po = await findOrder(params.poId);
      if (body.warehouse) {
        const w = await warehouseByCode(db, body.warehouse);
        if (!w || w.id !== po.warehouse_id)
          throw unprocessable(`${po.number} is delivered to another warehouse than ${body.warehouse}`, [
            { path: 'warehouse', message: 'not the warehouse of this purchase order' },
          ]);
      }
      await onlyOrderedSkus(po, body.lines);
      const receipt = await updateProcess(
        temporal,
        po.workflow_id,
        purchaseReceiptUpdate,
        body,
        updateIdOf(ctx, 'receipt'),
      );
      return {
        body: { poId: po.id, number: po.number, ...receipt },
        audit: { target: po.id, workflowId: po.workflow_id },
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/purchase-orders/:poId/bills',
    errors: [409, 422],
    tag: 'Purchasing',
    summary: 'A vendor bill (or, with creditNoteFor, a supplier credit note): three-way matched on arrival',
    roles: ['finance'],
    action: 'purchase_order.bill',
    params: PurchaseOrderParams,
    body: VendorBillBody,
    idempotent: true,
    response: {
      status: 201,
      schema: VendorBillResult,
      description: 'The bill and its match, line by line; a mismatch is an exception case',
    },
    handler: async (ctx, { params, body }) => {
      const po = await findOrder(params.poId);
      await onlyOrderedSkus(po, body.lines);
      const result = await updateProcess(temporal, po.workflow_id, purchaseBillUpdate, body, updateIdOf(ctx, 'bill'));
      return {
        body: { poId: po.id, number: po.number, ...result },
        audit: { target: result.billId, workflowId: po.workflow_id },
      };
    },
  });
}

/** A purchase order by its id or its number (PO-000001), or 404. */
export async function purchaseOrderOrThrow(db: Db, poId: string) {
  const po = await purchaseOrderRef(db, isUuid(poId) ? { id: poId } : { number: poId });
  if (!po) throw notFound(`Purchase order ${poId}`);
  return po as { id: string; number: string; workflow_id: string; warehouse_id: number };
}
