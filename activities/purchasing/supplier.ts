/**
 * The supplier and the bank, behind small interfaces, with sandboxes that keep
 * their own records keyed by our idempotency keys: sending the same purchase
 * order twice gives one order at the supplier, paying the same bill twice
 * moves money once.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../db';

export interface SupplierGateway {
  /** Places the order with the supplier; answers the supplier's own reference. */
  sendPurchaseOrder(o: { key: string; supplierCode: string; number: string; lines: { sku: string; quantity: number; unitPrice: number }[]; expectedAt: Date }): Promise<{ supplierRef: string }>;
}

export interface Bank {
  /** Pays a supplier; answers the bank's reference for the transfer. */
  transfer(t: { key: string; payee: string; amount: number; currency: string; reference: string }): Promise<{ bankReference: string }>;
}

const ref = (prefix: string) => `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;

export function sandboxSupplier(db: Db): SupplierGateway {
  return {
    async sendPurchaseOrder(o) {
      await db('sandbox_supplier_orders').insert({ idempotency_key: o.key, supplier_code: o.supplierCode, supplier_ref: ref('sup'), payload: JSON.stringify(o) }).onConflict('idempotency_key').ignore();
      const row = await db('sandbox_supplier_orders').where({ idempotency_key: o.key }).first('supplier_ref');
      return { supplierRef: row.supplier_ref };
    },
  };
}

export function sandboxBank(db: Db): Bank {
  return {
    async transfer(t) {
      await db('sandbox_bank_transfers').insert({ idempotency_key: t.key, payee: t.payee, amount: t.amount, currency: t.currency, reference: t.reference, bank_reference: ref('bank') }).onConflict('idempotency_key').ignore();
      const row = await db('sandbox_bank_transfers').where({ idempotency_key: t.key }).first('bank_reference');
      return { bankReference: row.bank_reference };
    },
  };
}
