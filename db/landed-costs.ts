/**
 * Landed costs as booked: a freight, duty or insurance bill for a purchase order's received goods, spread over
 * its products (by value, quantity or weight) and split, per product, between the units still on hand (their
 * average cost rises) and the units already sold (cost of goods sold). One transaction, one balanced entry;
 * the inventory account stays Σ on hand × average cost to the cent (the rounding goes to inventory adjustment).
 */
import { randomUUID } from 'node:crypto';
import type { Tx, Db } from './index';
import { ACCOUNT, postEntry, type JournalLine } from './ledger';
import { onHandEverywhere } from './valuation';
import { shareOf, splitByWeight } from '../lib/money';
import type { ALLOCATION_METHODS, LANDED_COST_KINDS } from './migrations/036_landed_costs';

export type LandedCostKind = (typeof LANDED_COST_KINDS)[number];
export type AllocationMethod = (typeof ALLOCATION_METHODS)[number];

export interface LandedCostInput {
  poId: string;
  kind: LandedCostKind;
  method: AllocationMethod;
  amount: number;
  currency: string;
  billRef: string;
  billedBy: string;
  recordedBy: string;
}

export interface Received {
  product_id: number;
  sku: string;
  units: number;
  value: number;
  weight_grams: number | null;
}

/** What the order brought into stock, per product (held units are not stock yet and carry no landed cost). */
export async function receivedByProduct(db: Db | Tx, poId: string): Promise<Received[]> {
  return db('purchase_receipt_lines as rl')
    .join('purchase_receipts as r', 'r.id', 'rl.receipt_id')
    .join('purchase_order_lines as pol', 'pol.id', 'rl.po_line_id')
    .join('products as p', 'p.id', 'pol.product_id')
    .where('r.po_id', poId)
    .where('rl.quantity', '>', 0)
    .groupBy('pol.product_id', 'p.sku', 'p.weight_grams')
    .orderBy('pol.product_id')
    .select(
      'pol.product_id',
      'p.sku',
      'p.weight_grams',
      db.raw('sum(rl.quantity)::int AS units'),
      db.raw('sum(rl.quantity * rl.unit_cost)::bigint AS value'),
    );
}

/** The bill already booked for this order under this kind and reference, if any. */
export async function landedCostByBill(db: Db | Tx, poId: string, kind: string, billRef: string) {
  return db('landed_costs').where({ po_id: poId, kind, bill_ref: billRef }).first();
}

/** Each product's part of the amount: shares that add up to it exactly, in proportion to the method's basis. */
export function allocate(amount: number, method: AllocationMethod, lines: Received[]): number[] {
  return splitByWeight(
    amount,
    lines.map((l) =>
      method === 'value' ? l.value : method === 'quantity' ? l.units : l.units * (l.weight_grams ?? 0),
    ),
  );
}

/** A product's share of a bill, as booked (the database row, with the SKU). */
export interface AllocationRow {
  landed_cost_id: string;
  product_id: number;
  sku: string;
  received_units: number;
  on_hand_units: number;
  amount: number;
  to_inventory: number;
  to_cost_of_goods_sold: number;
  rounding: number;
  cost_before: number;
  cost_after: number;
}
type Allocation = Omit<AllocationRow, 'landed_cost_id'> & { inventory_debit: number };

/** Books the bill: allocations, new average costs and the entry. Lock the purchase order first. */
export async function bookLandedCost(tx: Tx, c: LandedCostInput, lines: Received[]) {
  const id = randomUUID();
  const shares = allocate(c.amount, c.method, lines);
  const allocations: Allocation[] = [];
  for (const [i, l] of lines.entries()) {
    const product = await tx('products').where({ id: l.product_id }).forUpdate().first('cost');
    const costBefore = Number(product.cost);
    const onHand = await onHandEverywhere(tx, l.product_id);
    const onHandUnits = Math.min(l.units, onHand);
    const toInventory = shareOf(shares[i], onHandUnits, l.units, 0, 0);
    // The units on hand carry the raise; what whole minor units cannot hold is the rounding.
    const costAfter = onHand > 0 ? Math.round((onHand * costBefore + toInventory) / onHand) : costBefore;
    const inventoryDebit = onHand * (costAfter - costBefore);
    if (costAfter !== costBefore) await tx('products').where({ id: l.product_id }).update({ cost: costAfter });
    allocations.push({
      product_id: l.product_id,
      sku: l.sku,
      received_units: l.units,
      on_hand_units: onHandUnits,
      amount: shares[i],
      to_inventory: toInventory,
      to_cost_of_goods_sold: shares[i] - toInventory,
      rounding: toInventory - inventoryDebit,
      inventory_debit: inventoryDebit,
      cost_before: costBefore,
      cost_after: costAfter,
    });
  }
  const sum = (f: (a: Allocation) => number) => allocations.reduce((s, a) => s + f(a), 0);
  const rounding = sum((a) => a.rounding);
  const entryLines: JournalLine[] = [
    { account: ACCOUNT.inventory, debit: sum((a) => a.inventory_debit) },
    { account: ACCOUNT.costOfGoodsSold, debit: sum((a) => a.to_cost_of_goods_sold) },
    rounding >= 0
      ? { account: ACCOUNT.inventoryLoss, debit: rounding }
      : { account: ACCOUNT.inventoryLoss, credit: -rounding },
    { account: ACCOUNT.landedCostsPayable, credit: c.amount },
  ];
  const entryId = await postEntry(tx, {
    key: `landed_cost:${id}`,
    description: `${c.kind} ${c.billRef} from ${c.billedBy}, landed on purchase order ${c.poId} by ${c.method}`,
    sourceType: 'landed_cost',
    sourceId: id,
    currency: c.currency,
    lines: entryLines,
  });
  await tx('landed_costs').insert({
    id,
    po_id: c.poId,
    kind: c.kind,
    method: c.method,
    amount: c.amount,
    currency: c.currency,
    bill_ref: c.billRef,
    billed_by: c.billedBy,
    recorded_by: c.recordedBy,
    entry_id: entryId,
  });
  await tx('landed_cost_allocations').insert(
    allocations.map(({ sku: _sku, inventory_debit: _d, ...a }) => ({ ...a, landed_cost_id: id })),
  );
  return id;
}

export interface LandedCostRow {
  id: string;
  po_id: string;
  kind: LandedCostKind;
  method: AllocationMethod;
  amount: number;
  currency: string;
  bill_ref: string;
  billed_by: string;
  created_at: Date;
}
/** The landed costs of an order, each with its allocation per SKU, oldest first. */
export async function landedCostsOf(
  db: Db | Tx,
  poId: string,
): Promise<(LandedCostRow & { allocations: AllocationRow[] })[]> {
  const costs: LandedCostRow[] = await db('landed_costs').where({ po_id: poId }).orderBy('created_at').select();
  const lines: AllocationRow[] = costs.length
    ? await db('landed_cost_allocations as a')
        .join('products as p', 'p.id', 'a.product_id')
        .whereIn(
          'a.landed_cost_id',
          costs.map((c) => c.id),
        )
        .orderBy('a.id')
        .select('a.*', 'p.sku')
    : [];
  return costs.map((c) => ({ ...c, allocations: lines.filter((l) => l.landed_cost_id === c.id) }));
}
