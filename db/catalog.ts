/** The product catalogue: products (SKUs, kind, average cost) and the components of kits. */
import type { Db, Tx } from './index';

/** The component rows of these kits. */
export async function componentsOfKits(tx: Db | Tx, kitIds: number[]) {
  return tx('kit_components').whereIn('kit_product_id', kitIds);
}

/** The stocked units a shipment's lines stand for: a kit line is its components. */
export async function componentsOf(
  tx: Db | Tx,
  lines: { product_id: number; quantity: number }[],
): Promise<{ productId: number; quantity: number }[]> {
  const parts = new Map<number, number>();
  for (const l of lines) {
    const kit = await tx('kit_components')
      .where({ kit_product_id: l.product_id })
      .select('component_product_id', 'quantity');
    for (const c of kit.length ? kit : [{ component_product_id: l.product_id, quantity: 1 }])
      parts.set(c.component_product_id, (parts.get(c.component_product_id) ?? 0) + c.quantity * l.quantity);
  }
  return [...parts].sort(([a], [b]) => a - b).map(([productId, quantity]) => ({ productId, quantity }));
}

export async function skuOf(tx: Db | Tx, productId: number): Promise<string> {
  return (await tx('products').where({ id: productId }).first('sku')).sku;
}

export async function productBySku(db: Db | Tx, sku: string) {
  return db('products').where({ sku }).first('id', 'kind');
}

/** The product with its average cost, locked FOR SHARE: a receipt may not change the average meanwhile. */
export async function lockProductBySku(tx: Tx, sku: string) {
  return tx('products').where({ sku }).forShare().first('id', 'kind', 'cost');
}

/** A page of products by SKU, after the cursor's SKU. */
export async function productsAfter(db: Db | Tx, cursor: string | undefined, limit: number) {
  return db('products')
    .modify((q) => (cursor ? q.where('sku', '>', cursor) : q))
    .orderBy('sku')
    .limit(limit);
}

/** The whole product row. */
export async function productRow(db: Db | Tx, sku: string) {
  return db('products').where({ sku }).first();
}

export interface ProductFields {
  sku: string;
  name: string;
  unit?: string;
  barcode?: string;
  cost: number;
  price?: number;
  kind?: 'stocked' | 'kit';
  category?: string;
  weightGrams?: number; // landed costs allocated by weight use it
}

/** Creates the product or updates its master data (its cost is set apart, see db/valuation.ts); answers its id. */
export async function upsertProduct(tx: Tx, p: ProductFields): Promise<number> {
  const [row] = await tx('products')
    .insert({
      sku: p.sku,
      name: p.name,
      unit: p.unit ?? 'unit',
      barcode: p.barcode,
      cost: p.cost,
      price: p.price,
      kind: p.kind ?? 'stocked',
      category: p.category,
      weight_grams: p.weightGrams ?? null,
    })
    .onConflict('sku')
    .merge({
      name: p.name,
      unit: p.unit ?? 'unit',
      barcode: p.barcode ?? null,
      price: p.price ?? null,
      kind: p.kind ?? 'stocked',
      category: p.category ?? null,
      weight_grams: p.weightGrams ?? null,
      updated_at: tx.fn.now(),
    })
    .returning('id');
  return row.id;
}

/** Ids of these SKUs. */
export async function productIdsBySku(db: Db | Tx, skus: string[]): Promise<{ id: number; sku: string }[]> {
  return db('products').whereIn('sku', skus).select('id', 'sku');
}

/** Kind and id of these SKUs, for the ones that exist. */
export async function productKindsBySku(
  db: Db | Tx,
  skus: string[],
): Promise<{ sku: string; kind: string; id: number }[]> {
  return db('products').whereIn('sku', skus).select('sku', 'kind', 'id');
}

/** Replaces the components of a kit. */
export async function replaceKitComponents(
  tx: Tx,
  kitProductId: number,
  components: { productId: number; quantity: number }[],
): Promise<void> {
  await tx('kit_components').where({ kit_product_id: kitProductId }).delete();
  await tx('kit_components').insert(
    components.map((c) => ({ kit_product_id: kitProductId, component_product_id: c.productId, quantity: c.quantity })),
  );
}

/** The components of these kits with their SKUs. */
export async function kitComponentSkus(
  db: Db | Tx,
  kitIds: number[],
): Promise<{ kit_product_id: number; sku: string; quantity: number }[]> {
  return db('kit_components as k')
    .join('products as p', 'p.id', 'k.component_product_id')
    .whereIn('k.kit_product_id', kitIds)
    .select('k.kit_product_id', 'p.sku', 'k.quantity');
}

/** The SKU of each of these products. */
export async function productSkus(db: Db | Tx, productIds: number[]): Promise<{ id: number; sku: string }[]> {
  return db('products').whereIn('id', productIds).select('id', 'sku');
}

/** The kits that contain any of these products, with the component that links them. */
export async function kitsContaining(
  db: Db | Tx,
  componentIds: number[],
): Promise<{ kit_sku: string; component_product_id: number }[]> {
  return db('kit_components as k')
    .join('products as p', 'p.id', 'k.kit_product_id')
    .whereIn('k.component_product_id', componentIds)
    .select('p.sku as kit_sku', 'k.component_product_id');
}
