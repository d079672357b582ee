/** Inventory positions and cycle counts; the trial balance. */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { inTransaction } from '../../db';
import { applyMove, ordersWaitingFor, releaseShortfall, stockPosition, virtualLocation } from '../../db/inventory';
import { raiseException } from '../../db/outbox';
import { postEntry } from '../../db/ledger';
import type { ApiDeps } from '../deps';
import { notFound, unprocessable } from '../errors';
import { nudgeBackorders, replan } from '../process';
import type { Routes } from '../route';
import { Adjustment, Sku } from '../schemas';

export function inventoryRoutes(routes: Routes, { db, temporal, config }: ApiDeps): void {
  routes.add({
    method: 'get', path: '/v1/inventory/:sku', tag: 'Inventory', summary: 'Stock of one SKU per warehouse', roles: 'any', params: z.object({ sku: Sku }),
    response: { status: 200, description: 'On hand, reserved, available and incoming per warehouse and in total' },
    handler: async (_ctx, { params }) => {
      const product = await db('products').where({ sku: params.sku }).first('id', 'kind');
      if (!product) throw notFound(`Product ${params.sku}`);
      return { body: { sku: params.sku, ...(await stockPosition(db, product.id, product.kind)) } };
    },
  });

  routes.add({
    method: 'post', path: '/v1/inventory/adjustments', tag: 'Inventory', summary: 'Record a cycle count, always; the difference is booked as a gain or loss, and orders it no longer covers re-plan',
    roles: ['warehouse', 'ops'], action: 'inventory.adjust', body: Adjustment, idempotent: true,
    response: { status: 201, description: 'The adjustment' },
    handler: async (_ctx, { body }) => {
      const result = await inTransaction(db, async (tx) => {
        const product = await tx('products').where({ sku: body.sku }).forShare().first('id', 'kind', 'cost'); // valued at the average, which a receipt may not change meanwhile
        if (!product) throw unprocessable(`Unknown SKU ${body.sku}`, [{ path: 'sku', message: 'unknown SKU' }]);
        if (product.kind === 'kit') throw unprocessable(`${body.sku} is a kit; count its components instead`, [{ path: 'sku', message: 'kits hold no stock of their own' }]);
        const location = await tx('locations as l').join('warehouses as w', 'w.id', 'l.warehouse_id').where({ 'w.code': body.warehouse, 'l.type': 'stock' }).first('l.id');
        if (!location) throw unprocessable(`Unknown warehouse ${body.warehouse}`, [{ path: 'warehouse', message: 'unknown warehouse code' }]);
        await tx.raw('INSERT INTO quants (location_id, product_id) VALUES (?, ?) ON CONFLICT DO NOTHING', [location.id, product.id]);
        const quant = await tx('quants').where({ location_id: location.id, product_id: product.id }).forUpdate().first();
        const difference = body.countedQuantity - quant.on_hand;
        const adjustmentId = randomUUID();
        // The shelf is the truth: promises it no longer covers are released before the stock leaves the books.
        const hurt = await releaseShortfall(tx, location.id, product.id, body.countedQuantity);
        const caseId = hurt.length ? await raiseException(tx, {
          key: `stock_shortfall:${adjustmentId}`, type: 'stock_shortfall', severity: 'high', queue: 'inventory', subjectType: 'sku', subjectId: body.sku,
          summary: `Count of ${body.sku} at ${body.warehouse} found ${body.countedQuantity} while ${quant.reserved} were promised: ${hurt.length} order(s) re-plan`,
          details: { adjustmentId, warehouse: body.warehouse, counted: body.countedQuantity, reserved: quant.reserved, orders: hurt.map((h) => ({ orderId: h.orderId, externalRef: h.externalRef, units: h.units })) },
        }) : undefined;
        if (difference !== 0) {
          const loss = await virtualLocation(tx, 'inventory_loss');
          const qty = Math.abs(difference);
          await applyMove(tx, {
            productId: product.id, fromLocationId: difference > 0 ? loss : location.id, toLocationId: difference > 0 ? location.id : loss,
            quantity: qty, unitCost: product.cost, sourceType: 'adjustment', sourceId: adjustmentId, key: `adjustment:${adjustmentId}`,
          });
          const value = qty * product.cost;
          await postEntry(tx, {
            key: `adjustment:${adjustmentId}`, description: `Cycle count ${body.warehouse} ${body.sku}: ${body.reason}`, sourceType: 'adjustment', sourceId: adjustmentId,
            currency: config.BASE_CURRENCY,
            lines: difference > 0 ? [{ account: '1300', debit: value }, { account: '5100', credit: value }] : [{ account: '5100', debit: value }, { account: '1300', credit: value }],
          });
        }
        const waiting = difference > 0 ? await ordersWaitingFor(tx, product.id) : [];
        return { adjustmentId, warehouse: body.warehouse, sku: body.sku, previousQuantity: quant.on_hand, countedQuantity: body.countedQuantity, difference, waiting, hurt, caseId };
      });
      await nudgeBackorders(temporal, result.waiting);
      await replan(temporal, result.hurt.map((h) => h.workflowId));
      const { waiting, hurt, caseId, ...body2 } = result;
      return {
        body: { ...body2, ordersNotified: waiting.length, ordersReplanned: hurt.map((h) => ({ orderId: h.orderId, externalRef: h.externalRef, units: h.units })), ...(caseId ? { shortfallCaseId: caseId } : {}) },
        audit: { target: `${body.warehouse}/${body.sku}` },
      };
    },
  });

  routes.add({
    method: 'get', path: '/v1/ledger/trial-balance', tag: 'Finance', summary: 'Trial balance of every account', roles: ['finance'],
    response: { status: 200, description: 'Accounts with debits, credits and balance; the totals are equal' },
    handler: async () => {
      const rows = await db('accounts as a').leftJoin('journal_lines as l', 'l.account_code', 'a.code').groupBy('a.code', 'a.name', 'a.type').orderBy('a.code')
        .select('a.code', 'a.name', 'a.type', db.raw('COALESCE(SUM(l.debit),0)::bigint AS debit'), db.raw('COALESCE(SUM(l.credit),0)::bigint AS credit'));
      const accounts = rows.map((r) => ({ code: r.code, name: r.name, type: r.type, debit: r.debit, credit: r.credit, balance: r.debit - r.credit }));
      return { body: { currency: config.BASE_CURRENCY, accounts, totalDebit: accounts.reduce((s, a) => s + a.debit, 0), totalCredit: accounts.reduce((s, a) => s + a.credit, 0) } };
    },
  });
}
