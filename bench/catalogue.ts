/**
 * A benchmark catalogue: warehouses EAST and WEST and N stocked SKUs (`AV-<i>`) received as opening stock
 * (moves, value, ledger), with a progress bar.
 */
import { Presets, SingleBar } from 'cli-progress';
import type { Db } from '../db';
import { ensureProduct, ensureWarehouse, receiveOpeningStock } from '../db/seeds/master-data';

export async function stockBenchCatalogue(db: Db, n: number): Promise<void> {
  await ensureWarehouse(db, { code: 'EAST', name: 'East', priority: 10 });
  await ensureWarehouse(db, { code: 'WEST', name: 'West', priority: 20 });
  const bar = new SingleBar({ format: 'catalogue  [{bar}] {value}/{total} SKUs' }, Presets.shades_classic);
  bar.start(n, 0);
  const AT_ONCE = 8; // the pool has 10 connections
  for (let start = 0; start < n; start += AT_ONCE) {
    await Promise.all(
      Array.from({ length: Math.min(AT_ONCE, n - start) }, async (_, k) => {
        const i = start + k;
        const sku = `AV-${i}`;
        await ensureProduct(db, { sku, name: `Availability ${i}`, cost: 400, price: 1200 });
        await receiveOpeningStock(db, 'EAST', sku, 5 + (i % 20));
        if (i % 3 === 0) await receiveOpeningStock(db, 'WEST', sku, 1 + (i % 7));
      }),
    );
    bar.update(Math.min(n, start + AT_ONCE));
  }
  bar.stop();
}
