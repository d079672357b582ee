/**
 * Accounting activities: invoice what a shipment carried. Tax of a partly
 * shipped line is split in proportion to the units, with the last invoice
 * taking the remainder, so the invoices of an order add up to exactly what
 * was authorised. Shipping is charged on the order's first invoice.
 */
import { randomUUID } from 'node:crypto';
import { inTransaction } from '../../db';
import {
  ACCOUNT,
  invoicedSoFar,
  invoiceOfShipment,
  nextInvoiceNumber,
  orderHasInvoice,
  postEntry,
  recordInvoice,
} from '../../db/ledger';
import { loadOrderForUpdate } from '../../db/sales';
import { shippedLinesToInvoice } from '../../db/shipping';
import { shareOf, taxOn } from '../../lib/money';
import type { ActivityDeps } from '../deps';

export interface InvoiceRef {
  invoiceId: string;
  number: string;
  total: number;
}

export function accountingActivities({ db }: ActivityDeps) {
  return {
    async invoiceShipment(input: { orderId: string; shipmentId: string }): Promise<InvoiceRef> {
      return inTransaction(db, async (tx) => {
        const order = await loadOrderForUpdate(tx, input.orderId);
        const existing = await invoiceOfShipment(tx, input.shipmentId);
        if (existing) return { invoiceId: existing.id, number: existing.number, total: existing.total };
        const shipped = await shippedLinesToInvoice(tx, input.shipmentId);
        const earlier = await invoicedSoFar(tx, input.orderId);
        const before = new Map(earlier.map((e) => [e.order_line_id, e]));
        const lines = shipped.map((s) => {
          const prior = before.get(s.id);
          return {
            order_line_id: s.id,
            description: `${s.sku} ${s.name}`,
            quantity: s.quantity,
            unit_price: s.unit_price,
            net: s.quantity * s.unit_price,
            tax: shareOf(s.tax, s.quantity, s.ordered, prior?.tax ?? 0, prior?.qty ?? 0),
          };
        });
        const firstInvoice = !(await orderHasInvoice(tx, input.orderId));
        if (firstInvoice && order.shipping_price > 0) {
          lines.push({
            order_line_id: null,
            description: 'Shipping',
            quantity: 1,
            unit_price: order.shipping_price,
            net: order.shipping_price,
            tax: taxOn(order.shipping_price, order.shipping_tax_rate_bp),
          });
        }
        const goods = lines.filter((l) => l.order_line_id !== null).reduce((s, l) => s + l.net, 0);
        const shipping = lines.filter((l) => l.order_line_id === null).reduce((s, l) => s + l.net, 0);
        const tax = lines.reduce((s, l) => s + l.tax, 0);
        const number = await nextInvoiceNumber(tx);
        const id = randomUUID();
        const total = goods + shipping + tax;
        await recordInvoice(
          tx,
          {
            id,
            number,
            orderId: input.orderId,
            shipmentId: input.shipmentId,
            currency: order.currency,
            subtotal: goods,
            shipping,
            tax,
            total,
          },
          lines,
        );
        await postEntry(tx, {
          key: `invoice:${id}`,
          description: `Invoice ${number}`,
          sourceType: 'invoice',
          sourceId: id,
          currency: order.currency,
          lines: [
            { account: ACCOUNT.receivables, debit: total },
            { account: ACCOUNT.revenue, credit: goods },
            { account: ACCOUNT.shippingIncome, credit: shipping },
            { account: ACCOUNT.taxPayable, credit: tax },
          ],
        });
        return { invoiceId: id, number, total };
      });
    },
  };
}
