/** A benchmark catalogue: N stocked SKUs (`AV-<i>`) over EAST and WEST, received as opening stock (moves, value, ledger). */
import type { Db } from '../db';
import { ensureProduct, receiveOpeningStock } from '../db/seeds/master-data';

export async function stockBenchCatalogue(db: Db, n: number, progress: (done: number) => void): Promise<void> {
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
    progress(Math.min(n, start + AT_ONCE));
  }
}
