/**
 * Landed costs for purchase orders: a freight, duty or insurance bill booked onto goods already received, in one
 * transaction (no process waits for it: the bill often arrives after the purchase order closed).
 */
import { inTransaction } from '../../db';
import { bookLandedCost, landedCostByBill, landedCostsOf, receivedByProduct } from '../../db/landed-costs';
import { lockPurchaseOrder } from '../../db/purchasing';
import { purchaseOrderOrThrow } from './purchasing';
import type { RouteDeps } from '../deps';
import { conflict, unprocessable } from '../errors';
import type { Routes } from '../route';
import { LandedCost, LandedCostBody, LandedCostList, PurchaseOrderParams } from '../schemas';

type Booked = Awaited<ReturnType<typeof landedCostsOf>>[number];

const view = (c: Booked) => ({
  landedCostId: c.id,
  poId: c.po_id,
  kind: c.kind,
  method: c.method,
  amount: Number(c.amount),
  currency: c.currency,
  billRef: c.bill_ref,
  billedBy: c.billed_by,
  recordedAt: c.created_at,
  allocations: c.allocations.map((a) => ({
    sku: a.sku,
    receivedUnits: a.received_units,
    onHandUnits: a.on_hand_units,
    amount: Number(a.amount),
    toInventory: Number(a.to_inventory),
    toCostOfGoodsSold: Number(a.to_cost_of_goods_sold),
    rounding: Number(a.rounding),
    costBefore: Number(a.cost_before),
    costAfter: Number(a.cost_after),
  })),
});

export function landedCostRoutes(routes: Routes, { db, config }: RouteDeps): void {
  const findOrder = (poId: string) => purchaseOrderOrThrow(db, poId);

  routes.add({
    method: 'post',
    path: '/v1/purchase-orders/:poId/landed-costs',
    errors: [409, 422],
    tag: 'Purchasing',
    summary:
      'Book freight, duty or insurance onto the goods received: units on hand cost more, units sold add to cost of goods sold',
    roles: ['finance', 'procurement'],
    action: 'purchase_order.landed_cost',
    params: PurchaseOrderParams,
    body: LandedCostBody,
    idempotent: true,
    response: {
      status: 201,
      schema: LandedCost,
      description: 'Booked, with its allocation per SKU and the new average costs',
    },
    also: [{ status: 200, description: 'This bill was booked before with the same amount: the booking as it was' }],
    handler: async (_ctx, { params, body, principal }) => {
      const po = await findOrder(params.poId);
      if (body.currency !== config.BASE_CURRENCY)
        throw unprocessable(`The books are kept in ${config.BASE_CURRENCY}; convert the bill before booking it`, [
          { path: 'currency', message: `not ${config.BASE_CURRENCY}` },
        ]);
      const { id, created } = await inTransaction(db, async (tx) => {
        await lockPurchaseOrder(tx, po.id); // one booking at a time per order: a bill is booked once
        const before = await landedCostByBill(tx, po.id, body.kind, body.billRef);
        if (before) {
          if (Number(before.amount) !== body.amount || before.method !== body.method)
            throw conflict(
              `${body.kind} bill ${body.billRef} is already booked on ${po.number} for ${before.amount} by ${before.method}; a correction is a new bill (or a credit) with its own reference`,
              [{ path: 'billRef', message: 'already booked with other figures' }],
            );
          return { id: before.id as string, created: false };
        }
        const received = await receivedByProduct(tx, po.id);
        if (!received.length)
          throw conflict(`Nothing of ${po.number} has been received yet: landed costs are booked onto received goods`);
        const weightless = received.filter((r) => !r.weight_grams);
        if (body.method === 'weight' && weightless.length)
          throw unprocessable(
            `${weightless.length} product(s) have no weight; set weightGrams on them (POST /v1/products) or allocate by value or quantity`,
            weightless.map((r) => ({ path: 'method', message: `${r.sku} has no weight` })),
          );
        if (body.method === 'value' && received.every((r) => Number(r.value) === 0))
          throw unprocessable(
            'Everything received was free, so there is no value to spread by; use quantity or weight',
            [{ path: 'method', message: 'no value to spread by' }],
          );
        const newId = await bookLandedCost(tx, { ...body, poId: po.id, recordedBy: principal.name }, received);
        return { id: newId, created: true };
      });
      const booked = (await landedCostsOf(db, po.id)).find((c) => c.id === id)!;
      return { status: created ? 201 : 200, body: view(booked), audit: { target: id } };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/purchase-orders/:poId/landed-costs',
    tag: 'Purchasing',
    summary: 'The landed costs booked on a purchase order, each with its allocation',
    roles: ['finance', 'procurement'],
    params: PurchaseOrderParams,
    response: { status: 200, schema: LandedCostList, description: 'Oldest first' },
    handler: async (_ctx, { params }) => {
      const po = await findOrder(params.poId);
      return { body: { landedCosts: (await landedCostsOf(db, po.id)).map(view) } };
    },
  });
}
