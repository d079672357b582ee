/**
 * Stock valuation: perpetual weighted average cost (AVCO).
 *
 * `products.cost` is the average unit cost of everything on hand. A purchase
 * receipt blends its purchase price in; every other movement (shipment, return,
 * scrap, count) is valued at the average at that moment. Rounding to minor
 * units leaves a residual of at most half a unit per unit on hand; it is
 * booked to inventory adjustment at the receipt, so the inventory account
 * always equals Σ on-hand × cost exactly (an invariant the checker verifies).
 *
 * A move valued at cost locks the product row FOR SHARE and a receipt locks it
 * FOR UPDATE, so a receipt re-averaging never interleaves with a shipment
 * valuing at the old average.
 */
import { randomUUID } from 'node:crypto';
import type { Tx } from './index';
import { ACCOUNT, postEntry } from './ledger';

/** The current average cost of each product, locked so a receipt cannot change it under us. */
export async function lockCosts(tx: Tx, productIds: number[]): Promise<Map<number, number>> {
  const ids = [...new Set(productIds)].sort((a, b) => a - b);
  if (ids.length === 0) return new Map();
  const rows = await tx('products').whereIn('id', ids).orderBy('id').forShare().select('id', 'cost');
  return new Map(rows.map((r: { id: number; cost: number }) => [r.id, Number(r.cost)]));
}

export async function onHandEverywhere(tx: Tx, productId: number): Promise<number> {
  const row = await tx('quants as q')
    .join('locations as l', 'l.id', 'q.location_id')
    .where({ 'q.product_id': productId, 'l.internal': true })
    .sum({ n: 'q.on_hand' })
    .first();
  return Number(row?.n ?? 0);
}

/**
 * Blends `quantity` units at `unitPrice` into the product's average, before the
 * units are moved in. Returns what to debit to inventory and the rounding
 * residual (positive: a debit to adjustment; negative: a credit).
 */
export async function averageIn(
  tx: Tx,
  productId: number,
  quantity: number,
  unitPrice: number,
): Promise<{ newCost: number; inventoryDebit: number; residual: number }> {
  const product = await tx('products').where({ id: productId }).forUpdate().first('cost');
  const onHand = await onHandEverywhere(tx, productId);
  const before = onHand * Number(product.cost);
  const after = before + quantity * unitPrice;
  const newCost = Math.round(after / (onHand + quantity));
  await tx('products').where({ id: productId }).update({ cost: newCost });
  const inventoryDebit = (onHand + quantity) * newCost - before;
  return { newCost, inventoryDebit, residual: quantity * unitPrice - inventoryDebit };
}

/** A cost set by hand (master data) revalues what is on hand, booked against inventory adjustment. */
export async function setCost(tx: Tx, productId: number, newCost: number, currency: string): Promise<number> {
  const product = await tx('products').where({ id: productId }).forUpdate().first('sku', 'cost');
  if (!product || Number(product.cost) === newCost) return 0;
  const onHand = await onHandEverywhere(tx, productId);
  await tx('products').where({ id: productId }).update({ cost: newCost });
  const change = onHand * (newCost - Number(product.cost));
  const key = `revaluation:${productId}:${randomUUID()}`;
  await postEntry(tx, {
    key,
    description: `Revaluation of ${onHand} x ${product.sku}: cost ${product.cost} → ${newCost}`,
    sourceType: 'revaluation',
    sourceId: String(productId),
    currency,
    lines:
      change > 0
        ? [
            { account: ACCOUNT.inventory, debit: change },
            { account: ACCOUNT.inventoryLoss, credit: change },
          ]
        : [
            { account: ACCOUNT.inventoryLoss, debit: -change },
            { account: ACCOUNT.inventory, credit: -change },
          ],
  });
  return change;
}
