/** Inventory positions and cycle counts; the trial balance. */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { inTransaction } from '../../db';
import { lockProductBySku, productBySku } from '../../db/catalog';
import {
  movesOfProduct,
  applyMove,
  ensureQuant,
  locationOf,
  lockQuant,
  ordersWaitingFor,
  recordStockTransfer,
  settleShortfall,
  stockLocationByCode,
  stockPosition,
  virtualLocation,
  warehouseByCode,
  type Shortfall,
} from '../../db/inventory';
import { ACCOUNT, postEntry } from '../../db/ledger';
import type { ApiDeps } from '../deps';
import { notFound, refuseBadCursor, unprocessable } from '../errors';
import { pageOf } from '../../db/paging';
import { nudgeBackorders, replan } from '../process';
import type { Routes } from '../route';
import {
  Adjustment,
  Sku,
  StockAdjustment,
  StockMoveBody,
  StockMoveList,
  StockPosition,
  StockTransfer,
} from '../schemas';

type MoveRow = {
  id: string;
  created_at: Date;
  quantity: number;
  unit_cost: number;
  state: string;
  source_type: string;
  source_id: string;
  from_code: string;
  to_code: string;
};

export function inventoryRoutes(routes: Routes, { db, temporal, config }: ApiDeps): void {
  /** After stock changed on the shelf: backorders try again, orders that lost their promise re-plan, and the answer says which. */
  async function tellOrders(waiting: string[], hurt: Shortfall[], caseId: string | undefined) {
    await nudgeBackorders(temporal, waiting);
    await replan(
      temporal,
      hurt.map((h) => h.workflowId),
    );
    return {
      ordersNotified: waiting.length,
      ordersReplanned: hurt.map((h) => ({ orderId: h.orderId, externalRef: h.externalRef, units: h.units })),
      ...(caseId ? { shortfallCaseId: caseId } : {}),
    };
  }

  routes.add({
    method: 'get',
    path: '/v1/inventory/:sku',
    tag: 'Inventory',
    summary: 'Stock of one SKU per warehouse',
    roles: 'any',
    params: z.object({ sku: Sku }),
    response: {
      status: 200,
      schema: StockPosition,
      description: 'On hand, reserved, available and incoming per warehouse and in total',
    },
    handler: async (_ctx, { params }) => {
      const product = await productBySku(db, params.sku);
      if (!product) throw notFound(`Product ${params.sku}`);
      return { body: { sku: params.sku, ...(await stockPosition(db, product.id, product.kind)) } };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/inventory/:sku/moves',
    tag: 'Inventory',
    summary: "One SKU's stock moves, newest first, a page at a time (from, to, quantity, cost, what caused it)",
    roles: 'any',
    params: z.object({ sku: Sku }),
    query: z.object({
      cursor: z.string().max(200).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
    response: { status: 200, schema: StockMoveList, description: 'A page of moves' },
    handler: async (_ctx, { params, query }) => {
      const product = await productBySku(db, params.sku);
      if (!product) throw notFound(`Product ${params.sku}`);
      const page = await pageOf<MoveRow>(movesOfProduct(db, product.id), {
        atColumn: 'm.created_at',
        idColumn: 'm.id',
        cursor: query.cursor,
        limit: query.limit,
        at: (m) => m.created_at,
      }).catch(refuseBadCursor);
      return {
        body: {
          sku: params.sku,
          moves: page.items.map((m) => ({
            at: m.created_at,
            from: m.from_code,
            to: m.to_code,
            quantity: m.quantity,
            unitCost: m.unit_cost,
            state: m.state,
            cause: { type: m.source_type, id: m.source_id },
          })),
          next: page.next,
        },
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/inventory/adjustments',
    errors: [422],
    tag: 'Inventory',
    summary:
      'Record a cycle count, always; the difference is booked as a gain or loss, and orders it no longer covers re-plan',
    roles: ['warehouse', 'ops'],
    action: 'inventory.adjust',
    body: Adjustment,
    idempotent: true,
    response: { status: 201, schema: StockAdjustment, description: 'The adjustment' },
    handler: async (_ctx, { body }) => {
      const result = await inTransaction(db, async (tx) => {
        const product = await lockProductBySku(tx, body.sku); // valued at the average, which a receipt may not change meanwhile
        if (!product) throw unprocessable(`Unknown SKU ${body.sku}`, [{ path: 'sku', message: 'unknown SKU' }]);
        if (product.kind === 'kit')
          throw unprocessable(`${body.sku} is a kit; count its components instead`, [
            { path: 'sku', message: 'kits hold no stock of their own' },
          ]);
        const location = await stockLocationByCode(tx, body.warehouse);
        if (!location)
          throw unprocessable(`Unknown warehouse ${body.warehouse}`, [
            { path: 'warehouse', message: 'unknown warehouse code' },
          ]);
        await ensureQuant(tx, location.id, product.id);
        const quant = await lockQuant(tx, location.id, product.id);
        const difference = body.countedQuantity - quant.on_hand;
        const adjustmentId = randomUUID();
        // The shelf is the truth: promises it no longer covers are released before the stock leaves the books.
        const { hurt, caseId } = await settleShortfall(
          tx,
          {
            locationId: location.id,
            productId: product.id,
            onHand: body.countedQuantity,
            sku: body.sku,
            warehouse: body.warehouse,
          },
          {
            key: adjustmentId,
            what: `Cycle count found ${body.countedQuantity} while ${quant.reserved} were promised`,
            details: { adjustmentId, counted: body.countedQuantity, reserved: quant.reserved },
          },
        );
        if (difference !== 0) {
          const loss = await virtualLocation(tx, 'inventory_loss');
          const qty = Math.abs(difference);
          await applyMove(tx, {
            productId: product.id,
            fromLocationId: difference > 0 ? loss : location.id,
            toLocationId: difference > 0 ? location.id : loss,
            quantity: qty,
            unitCost: product.cost,
            sourceType: 'adjustment',
            sourceId: adjustmentId,
            key: `adjustment:${adjustmentId}`,
          });
          const value = qty * product.cost;
          await postEntry(tx, {
            key: `adjustment:${adjustmentId}`,
            description: `Cycle count ${body.warehouse} ${body.sku}: ${body.reason}`,
            sourceType: 'adjustment',
            sourceId: adjustmentId,
            currency: config.BASE_CURRENCY,
            lines:
              difference > 0
                ? [
                    { account: ACCOUNT.inventory, debit: value },
                    { account: ACCOUNT.inventoryLoss, credit: value },
                  ]
                : [
                    { account: ACCOUNT.inventoryLoss, debit: value },
                    { account: ACCOUNT.inventory, credit: value },
                  ],
          });
        }
        const waiting = difference > 0 ? await ordersWaitingFor(tx, product.id) : [];
        return {
          adjustmentId,
          warehouse: body.warehouse,
          sku: body.sku,
          previousQuantity: quant.on_hand,
          countedQuantity: body.countedQuantity,
          difference,
          waiting,
          hurt,
          caseId,
        };
      });
      const { waiting, hurt, caseId, ...body2 } = result;
      return {
        body: { ...body2, ...(await tellOrders(waiting, hurt, caseId)) },
        audit: { target: `${body.warehouse}/${body.sku}` },
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/inventory/moves',
    errors: [422],
    tag: 'Inventory',
    summary:
      "Move units between a warehouse's locations: damaged out of sellable stock (quarantine, repair, scrap, back to the supplier), repaired or released back in",
    roles: ['warehouse', 'ops'],
    action: 'inventory.move',
    body: StockMoveBody,
    idempotent: true,
    response: {
      status: 201,
      schema: StockTransfer,
      description:
        'The move, with the orders it made re-plan and the stock_shortfall case when reserved units were touched',
    },
    handler: async (_ctx, { body, principal }) => {
      const result = await inTransaction(db, async (tx) => {
        const product = await lockProductBySku(tx, body.sku);
        if (!product) throw unprocessable(`Unknown SKU ${body.sku}`, [{ path: 'sku', message: 'unknown SKU' }]);
        if (product.kind === 'kit')
          throw unprocessable(`${body.sku} is a kit; move its components instead`, [
            { path: 'sku', message: 'kits hold no stock of their own' },
          ]);
        const warehouse = await warehouseByCode(tx, body.warehouse);
        if (!warehouse)
          throw unprocessable(`Unknown warehouse ${body.warehouse}`, [
            { path: 'warehouse', message: 'unknown warehouse code' },
          ]);
        const here = async (type: string) => (await locationOf(tx, warehouse.id, type))?.id;
        const from = await here(body.from);
        if (!from)
          throw unprocessable(`${body.warehouse} has no ${body.from} location`, [
            { path: 'from', message: 'no such location in this warehouse' },
          ]);
        const to =
          body.to === 'scrap'
            ? await virtualLocation(tx, 'scrap')
            : body.to === 'supplier'
              ? await virtualLocation(tx, 'supplier')
              : await here(body.to);
        if (!to)
          throw unprocessable(`${body.warehouse} has no ${body.to} location`, [
            { path: 'to', message: 'no such location in this warehouse' },
          ]);
        const quant = await lockQuant(tx, from, product.id, ['on_hand', 'reserved']);
        const onHand = quant?.on_hand ?? 0;
        if (body.quantity > onHand)
          throw unprocessable(
            `Only ${onHand} of ${body.sku} are in ${body.warehouse} ${body.from}; nothing was moved`,
            [{ path: 'quantity', message: `at most ${onHand}` }],
          );
        const moveId = randomUUID();
        // Sellable units leaving: the promises the rest no longer covers are released first, and re-plan.
        const { hurt, caseId } =
          body.from === 'stock'
            ? await settleShortfall(
                tx,
                {
                  locationId: from,
                  productId: product.id,
                  onHand: onHand - body.quantity,
                  sku: body.sku,
                  warehouse: body.warehouse,
                },
                { key: moveId, what: `${body.quantity} moved to ${body.to} (${body.reason})`, details: { moveId } },
              )
            : { hurt: [], caseId: undefined };
        await applyMove(tx, {
          productId: product.id,
          fromLocationId: from,
          toLocationId: to,
          quantity: body.quantity,
          unitCost: product.cost,
          sourceType: 'transfer',
          sourceId: moveId,
          key: `transfer:${moveId}`,
        });
        if (body.to === 'scrap' || body.to === 'supplier') {
          // Out of the books at average cost; units sent back to a supplier are a loss until their credit note arrives.
          const value = body.quantity * product.cost;
          await postEntry(tx, {
            key: `transfer:${moveId}`,
            description: `${body.quantity} x ${body.sku} from ${body.warehouse} ${body.from} to ${body.to}: ${body.reason}`,
            sourceType: 'transfer',
            sourceId: moveId,
            currency: config.BASE_CURRENCY,
            lines: [
              { account: ACCOUNT.inventoryLoss, debit: value },
              { account: ACCOUNT.inventory, credit: value },
            ],
          });
        }
        await recordStockTransfer(tx, {
          id: moveId,
          warehouseId: warehouse.id,
          productId: product.id,
          from: body.from,
          to: body.to,
          quantity: body.quantity,
          reason: body.reason,
          movedBy: principal.name,
        });
        const waiting = body.to === 'stock' ? await ordersWaitingFor(tx, product.id) : [];
        return { moveId, hurt, caseId, waiting };
      });
      return {
        status: 201,
        body: {
          moveId: result.moveId,
          warehouse: body.warehouse,
          sku: body.sku,
          from: body.from,
          to: body.to,
          quantity: body.quantity,
          ...(await tellOrders(result.waiting, result.hurt, result.caseId)),
        },
        audit: { target: `${body.warehouse}/${body.sku}` },
      };
    },
  });
}
