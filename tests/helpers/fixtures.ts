/** Test data. Each test uses its own SKUs (unique suffix) so test files can run side by side on one database. */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../db';
import {
  ensureChannel,
  ensureProduct,
  ensureTaxRate,
  ensureWarehouse,
  receiveOpeningStock,
} from '../../db/seeds/master-data';

export async function seedBase(db: Db): Promise<void> {
  await ensureWarehouse(db, { code: 'EAST', name: 'East', priority: 10 });
  await ensureWarehouse(db, { code: 'WEST', name: 'West', priority: 20 });
  await ensureChannel(db, { code: 'web', name: 'Web' });
  await ensureChannel(db, { code: 'marketplace', name: 'Marketplace' });
  await ensureTaxRate(db, { country: 'DE', rateBp: 1900, name: 'DE VAT' });
  await ensureTaxRate(db, { country: 'US', rateBp: 0, name: 'US' });
}

export const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`.toUpperCase();

/** A stocked SKU with the given stock per warehouse; returns the SKU. */
export async function stockedSku(
  db: Db,
  stock: { EAST?: number; WEST?: number },
  cost = 500,
  prefix = 'SKU',
  category?: string,
): Promise<string> {
  const sku = unique(prefix);
  await ensureProduct(db, { sku, name: `Test ${sku}`, cost, price: 2000, category });
  for (const [wh, qty] of Object.entries(stock)) if (qty && qty > 0) await receiveOpeningStock(db, wh, sku, qty);
  return sku;
}

export async function kitSku(db: Db, components: { sku: string; quantity: number }[]): Promise<string> {
  const sku = unique('KIT');
  await ensureProduct(db, { sku, name: `Kit ${sku}`, cost: 0, kind: 'kit', components });
  return sku;
}

export function orderBody(
  lines: { sku: string; quantity: number; unitPrice?: number }[],
  over: Record<string, unknown> = {},
) {
  return {
    channel: 'web',
    externalRef: unique('EXT'),
    currency: 'EUR',
    customer: { email: `${unique('c').toLowerCase()}@example.com`, name: 'Ada Buyer' },
    shippingAddress: { name: 'Ada Buyer', line1: 'Hauptstr. 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
    lines: lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPrice: l.unitPrice ?? 1000 })),
    shippingPrice: 500,
    payment: { method: 'card', token: 'tok_approve' },
    ...over,
  };
}

/**
 * Records a test made by calling activities directly have no process: closed at the end as the exception
 * sweep closes any record whose process never started, so the process invariants hold after the run.
 */
export async function closeProcessless(db: Db, ids: string[]): Promise<number> {
  const { closeOrphan, waitingRecords } = await import('../../db/orphans');
  const mine = (await waitingRecords(db)).filter((r) => ids.includes(r.id));
  for (const r of mine) await closeOrphan(db, { ...r, process: 'NOT_FOUND' });
  return mine.length;
}
