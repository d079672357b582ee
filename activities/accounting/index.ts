/**
 * Accounting activities: invoice what a shipment carried. Tax of a partly
 * shipped line is split in proportion to the units, with the last invoice
 * taking the remainder, so the invoices of an order add up to exactly what
 * was authorised. Shipping is charged on the order's first invoice.
 */
import { randomUUID } from 'node:crypto';
import { inTransaction } from '../../db';
import { ACCOUNT, postEntry } from '../../db/ledger';
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
        const order = await tx('sales_orders').where({ id: input.orderId }).forUpdate().first();
        const existing = await tx('invoices').where({ shipment_id: input.shipmentId }).first();
        if (existing) return { invoiceId: existing.id, number: existing.number, total: existing.total };
        const shipped = await tx('shipment_lines as sl')
          .join('sales_order_lines as l', 'l.id', 'sl.order_line_id')
          .join('products as p', 'p.id', 'l.product_id')
          .where('sl.shipment_id', input.shipmentId)
          .orderBy('l.line_no')
          .select('l.id', 'l.quantity as ordered', 'l.unit_price', 'l.tax', 'p.sku', 'p.name', 'sl.quantity');
        const earlier = await tx('invoice_lines as il')
          .join('invoices as i', 'i.id', 'il.invoice_id')
          .where('i.order_id', input.orderId)
          .whereNotNull('il.order_line_id')
          .groupBy('il.order_line_id')
          .select('il.order_line_id', tx.raw('SUM(il.quantity)::int AS qty'), tx.raw('SUM(il.tax)::bigint AS tax'));
        const before = new Map(earlier.map((e: { order_line_id: number; qty: number; tax: number }) => [e.order_line_id, e]));
        const lines = shipped.map((s) => {
          const prior = before.get(s.id);
          return {
            order_line_id: s.id, description: `${s.sku} ${s.name}`, quantity: s.quantity, unit_price: s.unit_price,
            net: s.quantity * s.unit_price, tax: shareOf(s.tax, s.quantity, s.ordered, prior?.tax ?? 0, prior?.qty ?? 0),
          };
        });
        const firstInvoice = !(await tx('invoices').where({ order_id: input.orderId }).first('id'));
        if (firstInvoice && order.shipping_price > 0) {
          lines.push({ order_line_id: null, description: 'Shipping', quantity: 1, unit_price: order.shipping_price, net: order.shipping_price, tax: taxOn(order.shipping_price, order.shipping_tax_rate_bp) });
        }
        const goods = lines.filter((l) => l.order_line_id !== null).reduce((s, l) => s + l.net, 0);
        const shipping = lines.filter((l) => l.order_line_id === null).reduce((s, l) => s + l.net, 0);
        const tax = lines.reduce((s, l) => s + l.tax, 0);
        const seq = await tx.raw(`SELECT nextval('invoice_number_seq') AS n`);
        const number = `INV-${String(seq.rows[0].n).padStart(6, '0')}`;
        const id = randomUUID();
        const total = goods + shipping + tax;
        await tx('invoices').insert({ id, number, order_id: input.orderId, shipment_id: input.shipmentId, currency: order.currency, subtotal: goods, shipping, tax, total });
        await tx('invoice_lines').insert(lines.map((l) => ({ ...l, invoice_id: id })));
        await postEntry(tx, {
          key: `invoice:${id}`, description: `Invoice ${number}`, sourceType: 'invoice', sourceId: id, currency: order.currency,
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
