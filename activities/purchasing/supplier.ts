/**
 * The supplier and the bank, behind small interfaces, with sandboxes that keep
 * their own records keyed by our idempotency keys: sending the same purchase
 * order twice gives one order at the supplier, paying the same bill twice
 * moves money once.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../db';
import { sandboxBankTransfer, sandboxSupplierOrder } from '../../db/purchasing';

export interface SupplierGateway {
  /** Places the order with the supplier; answers the supplier's own reference. */
  sendPurchaseOrder(o: {
    key: string;
    supplierCode: string;
    number: string;
    lines: { sku: string; quantity: number; unitPrice: number }[];
    expectedAt: Date;
  }): Promise<{ supplierRef: string }>;
}

export interface Bank {
  /** Pays a supplier; answers the bank's reference for the transfer. */
  transfer(t: {
    key: string;
    payee: string;
    amount: number;
    currency: string;
    reference: string;
  }): Promise<{ bankReference: string }>;
}

const ref = (prefix: string) => `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;

export function sandboxSupplier(db: Db): SupplierGateway {
  return {
    async sendPurchaseOrder(o) {
      return {
        supplierRef: await sandboxSupplierOrder(db, {
          key: o.key,
          supplierCode: o.supplierCode,
          supplierRef: ref('sup'),
          payload: o,
        }),
      };
    },
  };
}

export function sandboxBank(db: Db): Bank {
  return {
    async transfer(t) {
      return { bankReference: await sandboxBankTransfer(db, { ...t, bankReference: ref('bank') }) };
    },
  };
}
