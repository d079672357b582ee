/** Building blocks for master data, shared by the demo seed, tests and benchmarks. All idempotent. */
import { inTransaction, Db } from '../index';
import { applyMove, virtualLocation } from '../inventory';
import { ACCOUNT, postEntry } from '../ledger';

export const WAREHOUSE_LOCATIONS = ['stock', 'returns', 'quarantine', 'repair'] as const;

export async function ensureWarehouse(
  db: Db,
  w: { code: string; name: string; priority: number; country?: string },
): Promise<number> {
  return inTransaction(db, async (tx) => {
    const [row] = await tx('warehouses').insert(w).onConflict('code').merge(['name', 'priority']).returning('id');
    for (const type of WAREHOUSE_LOCATIONS) {
      await tx('locations')
        .insert({ code: `${w.code}/${type.toUpperCase()}`, name: `${w.name} ${type}`, type, warehouse_id: row.id })
        .onConflict('code')
        .ignore();
    }
    return row.id as number;
  });
}

export async function ensureChannel(
  db: Db,
  c: { code: string; name: string; kind?: 'webshop' | 'marketplace' | 'pos'; bufferUnits?: number },
): Promise<void> {
  await db('channels')
    .insert({ code: c.code, name: c.name, kind: c.kind ?? 'webshop', buffer_units: c.bufferUnits ?? 0 })
    .onConflict('code')
    .ignore();
}

export async function ensureTaxRate(
  db: Db,
  t: { country: string; region?: string; rateBp: number; name: string },
): Promise<void> {
  await db('tax_rates')
    .insert({ country: t.country, region: t.region ?? '', rate_bp: t.rateBp, name: t.name })
    .onConflict(['country', 'region'])
    .ignore();
}

export async function ensureProduct(
  db: Db,
  p: {
    sku: string;
    name: string;
    cost: number;
    price?: number;
    category?: string;
    kind?: 'stocked' | 'kit';
    components?: { sku: string; quantity: number }[];
  },
): Promise<number> {
  return inTransaction(db, async (tx) => {
    const [row] = await tx('products')
      .insert({
        sku: p.sku,
        name: p.name,
        cost: p.cost,
        price: p.price,
        category: p.category,
        kind: p.kind ?? 'stocked',
      })
      .onConflict('sku')
      .merge(['name', 'price', 'category'])
      .returning('id'); // cost: the running average once stock exists (db/valuation.ts)
    for (const c of p.components ?? []) {
      const comp = await tx('products').where({ sku: c.sku }).first('id');
      await tx('kit_components')
        .insert({ kit_product_id: row.id, component_product_id: comp.id, quantity: c.quantity })
        .onConflict(['kit_product_id', 'component_product_id'])
        .ignore();
    }
    return row.id as number;
  });
}

/** Opening stock: a move from the supplier location, valued at cost against opening balance equity. Once per key. */
export async function receiveOpeningStock(
  db: Db,
  warehouse: string,
  sku: string,
  quantity: number,
  currency = 'EUR',
): Promise<void> {
  await inTransaction(db, async (tx) => {
    const product = await tx('products').where({ sku }).forShare().first('id', 'cost');
    const location = await tx('locations as l')
      .join('warehouses as w', 'w.id', 'l.warehouse_id')
      .where({ 'w.code': warehouse, 'l.type': 'stock' })
      .first('l.id');
    const key = `opening:${warehouse}:${sku}`;
    const applied = await applyMove(tx, {
      productId: product.id,
      fromLocationId: await virtualLocation(tx, 'supplier'),
      toLocationId: location.id,
      quantity,
      unitCost: product.cost,
      sourceType: 'opening',
      sourceId: key,
      key,
    });
    if (applied) {
      await postEntry(tx, {
        key,
        description: `Opening stock ${warehouse} ${sku}`,
        sourceType: 'opening',
        sourceId: key,
        currency,
        lines: [
          { account: ACCOUNT.inventory, debit: quantity * product.cost },
          { account: ACCOUNT.openingEquity, credit: quantity * product.cost },
        ],
      });
    }
  });
}
