/**
 * Return activities: authorise (RMA and label), receive, inspect and route,
 * quote the refund, order a replacement, and scan return rates.
 *
 * Value follows the goods: a received unit comes back onto the books at cost
 * (inventory up, cost of goods sold reversed) into the returns location; its
 * disposition moves it on (stock, repair, quarantine) or scraps it as a loss.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { inTransaction, Db, Tx } from '../../db';
import { applyMove, ordersWaitingFor, virtualLocation } from '../../db/inventory';
import { lockCosts } from '../../db/valuation';
import { ACCOUNT, postEntry } from '../../db/ledger';
import { NewException, queueNotification, raiseException } from '../../db/outbox';
import { recordOrder } from '../../db/sales';
import { shareOf } from '../../lib/money';
import type { OrderToCashInput } from '../../contracts/order-types';
import type { Condition, Disposition, InspectedLine, InspectionLine, ReceiptLine, ReturnStatus } from '../../contracts/return-types';
import type { ActivityDeps } from '../deps';

/** A stable UUID from a business key, for rows whose retry must find the first write. */
const uuidFrom = (key: string) => {
  const h = createHash('sha256').update(key).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

const refuse = (message: string) => ApplicationFailure.nonRetryable(message, 'ReturnRefused');

async function lockReturn(tx: Tx, returnId: string) {
  const r = await tx('returns as r').join('sales_orders as o', 'o.id', 'r.order_id').join('customers as c', 'c.id', 'o.customer_id')
    .where('r.id', returnId).forUpdate('r').first('r.*', 'o.currency', 'o.channel_id', 'o.external_ref', 'c.email', 'c.name as customer_name', 'o.shipping_address');
  if (!r) throw refuse(`Return ${returnId} not found`);
  return r;
}

async function linesOf(tx: Db, returnId: string) {
  return tx('return_lines as rl').join('products as p', 'p.id', 'rl.product_id').join('sales_order_lines as l', 'l.id', 'rl.order_line_id')
    .where('rl.return_id', returnId).orderBy('rl.id')
    .select('rl.*', 'p.sku', 'p.category', 'l.unit_price', 'l.tax', 'l.quantity as ordered');
}

/** The internal location of `type` in the warehouse that shipped this order line. */
async function locationFor(tx: Tx, orderLineId: number, type: 'returns' | 'stock' | 'repair' | 'quarantine'): Promise<number> {
  const row = await tx('shipment_lines as sl').join('shipments as s', 's.id', 'sl.shipment_id').join('locations as l', function () {
    this.on('l.warehouse_id', 's.warehouse_id').andOnVal('l.type', type);
  }).where('sl.order_line_id', orderLineId).whereIn('s.status', ['shipped', 'delivered']).orderBy('s.shipped_at').first('l.id');
  if (!row) throw refuse(`No ${type} location for order line ${orderLineId}`);
  return row.id;
}

export async function dispositionFor(tx: Tx, sku: string, category: string | null, condition: Condition): Promise<Disposition> {
  const rules = await tx('quality_rules').where({ condition }).andWhere((q) => q.where('sku', sku).orWhere('category', category ?? '').orWhere((d) => d.whereNull('sku').whereNull('category')));
  const pick = rules.find((r) => r.sku === sku) ?? rules.find((r) => r.category && r.category === category) ?? rules.find((r) => !r.sku && !r.category);
  if (!pick) throw refuse(`No quality rule for condition ${condition}`);
  return pick.disposition;
}

export function returnActivities({ db }: ActivityDeps) {
  return {
    async openException(e: NewException): Promise<{ exceptionId: string }> {
      return { exceptionId: await inTransaction(db, (tx) => raiseException(tx, e)) };
    },

    async setReturnStatus(input: { returnId: string; status: ReturnStatus; reason?: string }): Promise<void> {
      await inTransaction(db, async (tx) => {
        const r = await lockReturn(tx, input.returnId);
        await tx('returns').where({ id: input.returnId }).update({ status: input.status, outcome_reason: input.reason ?? null, updated_at: tx.fn.now() });
        if (input.status === 'expired') {
          await queueNotification(tx, { key: `return:${r.id}:expired`, recipient: r.email, template: 'return_expired', subjectType: 'return', subjectId: r.id, payload: { rmaNumber: r.rma_number } });
        }
      });
    },

    /** RMA number and a return label from the (sandbox) carrier; the customer is told. */
    async authorizeReturn(input: { returnId: string }): Promise<{ rmaNumber: string; carrier: string; trackingNumber: string; expected: number }> {
      return inTransaction(db, async (tx) => {
        const r = await lockReturn(tx, input.returnId);
        const expected = (await linesOf(tx, r.id)).reduce((s, l) => s + l.quantity, 0);
        if (r.rma_number) return { rmaNumber: r.rma_number, carrier: r.label_carrier, trackingNumber: r.label_tracking, expected };
        const seq = (await tx.raw(`SELECT nextval('rma_number_seq') AS n`)).rows[0].n;
        const rmaNumber = `RMA-${String(seq).padStart(6, '0')}`;
        const label = { carrier: 'DHL', trackingNumber: `RET${createHash('sha256').update(r.id).digest('hex').slice(0, 12).toUpperCase()}` };
        await tx('returns').where({ id: r.id }).update({ rma_number: rmaNumber, label_carrier: label.carrier, label_tracking: label.trackingNumber, status: 'authorised', updated_at: tx.fn.now() });
        await queueNotification(tx, { key: `return:${r.id}:authorised`, recipient: r.email, template: 'return_authorised', subjectType: 'return', subjectId: r.id, payload: { rmaNumber, ...label } });
        return { rmaNumber, ...label, expected };
      });
    },

    /** Goods arrived: customer → returns location, valued back at cost. Once per receipt id. */
    async receiveReturn(input: { returnId: string; receiptId: string; lines: ReceiptLine[] }): Promise<{ received: number; expected: number }> {
      return inTransaction(db, async (tx) => {
        const r = await lockReturn(tx, input.returnId);
        const lines = await linesOf(tx, r.id);
        const totals = async () => {
          const now = await linesOf(tx, r.id);
          return { received: now.reduce((s, l) => s + l.quantity_received, 0), expected: now.reduce((s, l) => s + l.quantity, 0) };
        };
        if (await tx('return_receipts').where({ id: input.receiptId }).first('id')) return totals();
        const customer = await virtualLocation(tx, 'customer');
        const costs = await lockCosts(tx, lines.map((l) => l.product_id));
        let value = 0;
        let warehouseId: number | undefined;
        for (const got of input.lines) {
          const line = lines.find((l) => l.sku === got.sku);
          if (!line) throw refuse(`${got.sku} is not on this return`);
          if (got.quantity > line.quantity - line.quantity_received) throw refuse(`only ${line.quantity - line.quantity_received} more of ${got.sku} are expected`);
          const to = await locationFor(tx, line.order_line_id, 'returns');
          warehouseId ??= (await tx('locations').where({ id: to }).first('warehouse_id')).warehouse_id;
          await applyMove(tx, { productId: line.product_id, fromLocationId: customer, toLocationId: to, quantity: got.quantity, unitCost: costs.get(line.product_id)!, sourceType: 'return_receipt', sourceId: input.receiptId, key: `return:${r.id}:receipt:${input.receiptId}:${line.id}` });
          await tx('return_lines').where({ id: line.id }).increment('quantity_received', got.quantity);
          value += got.quantity * costs.get(line.product_id)!;
        }
        await tx('return_receipts').insert({ id: input.receiptId, return_id: r.id, warehouse_id: warehouseId, lines: JSON.stringify(input.lines) });
        await postEntry(tx, {
          key: `return-receipt:${input.receiptId}`, description: `Goods returned under ${r.rma_number}`, sourceType: 'return_receipt', sourceId: input.receiptId, currency: r.currency,
          lines: [{ account: ACCOUNT.inventory, debit: value }, { account: ACCOUNT.costOfGoodsSold, credit: value }],
        });
        const t = await totals();
        await tx('returns').where({ id: r.id }).update({ status: t.received === t.expected ? 'received' : 'partially_received', updated_at: tx.fn.now() });
        return t;
      });
    },

    /** Grades received units; the quality rules choose each disposition, which is a move out of the returns location. */
    async inspectReturn(input: { returnId: string; inspectionId: string; lines: InspectionLine[] }): Promise<{ lines: InspectedLine[]; ordersWaiting: string[] }> {
      return inTransaction(db, async (tx) => {
        const r = await lockReturn(tx, input.returnId);
        const lines = await linesOf(tx, r.id);
        const done = await tx('return_inspections').whereIn('id', input.lines.map((_, i) => uuidFrom(`${input.inspectionId}:${i}`))).orderBy('inspected_at');
        if (done.length) {
          return { lines: input.lines.map((l, i) => ({ ...l, disposition: done.find((d) => d.id === uuidFrom(`${input.inspectionId}:${i}`))!.disposition })), ordersWaiting: [] };
        }
        const result: InspectedLine[] = [];
        const waiting = new Set<string>();
        const costs = await lockCosts(tx, lines.map((l) => l.product_id));
        for (const [i, got] of input.lines.entries()) {
          const line = lines.find((l) => l.sku === got.sku);
          if (!line) throw refuse(`${got.sku} is not on this return`);
          if (got.quantity > line.quantity_received - line.quantity_inspected) throw refuse(`only ${line.quantity_received - line.quantity_inspected} received unit(s) of ${got.sku} await inspection`);
          const disposition = await dispositionFor(tx, line.sku, line.category, got.condition);
          const from = await locationFor(tx, line.order_line_id, 'returns');
          const to = disposition === 'scrap' ? await virtualLocation(tx, 'scrap') : await locationFor(tx, line.order_line_id, disposition === 'restock' ? 'stock' : disposition);
          const key = `return:${r.id}:inspection:${input.inspectionId}:${i}`;
          await applyMove(tx, { productId: line.product_id, fromLocationId: from, toLocationId: to, quantity: got.quantity, unitCost: costs.get(line.product_id)!, sourceType: 'return_inspection', sourceId: r.id, key });
          if (disposition === 'scrap') {
            const loss = got.quantity * costs.get(line.product_id)!;
            await postEntry(tx, { key, description: `Scrapped ${got.quantity} x ${line.sku} from ${r.rma_number}`, sourceType: 'return_inspection', sourceId: r.id, currency: r.currency, lines: [{ account: ACCOUNT.inventoryLoss, debit: loss }, { account: ACCOUNT.inventory, credit: loss }] });
          }
          if (disposition === 'restock') for (const id of await ordersWaitingFor(tx, line.product_id)) waiting.add(id);
          await tx('return_inspections').insert({ id: uuidFrom(`${input.inspectionId}:${i}`), return_line_id: line.id, quantity: got.quantity, condition: got.condition, disposition });
          await tx('return_lines').where({ id: line.id }).increment('quantity_inspected', got.quantity);
          result.push({ ...got, disposition });
        }
        return { lines: result, ordersWaiting: [...waiting] };
      });
    },

    /** What the inspected units are worth (price and their share of tax), and whether a person must decide. */
    async quoteRefund(input: { returnId: string }): Promise<{ amount: number; currency: string; ordinary: boolean; why: string[] }> {
      const lines = await linesOf(db, input.returnId);
      const conditions = await db('return_inspections as i').join('return_lines as rl', 'rl.id', 'i.return_line_id').where('rl.return_id', input.returnId).distinct('i.condition').pluck('i.condition');
      const r = await db('returns as r').join('sales_orders as o', 'o.id', 'r.order_id').where('r.id', input.returnId).first('o.currency');
      const amount = lines.reduce((s, l) => s + l.quantity_inspected * l.unit_price + shareOf(l.tax, l.quantity_inspected, l.ordered, 0, 0), 0);
      const why = conditions.filter((c: string) => c !== 'new').map((c: string) => `a unit was graded ${c}`);
      return { amount, currency: r.currency, ordinary: why.length === 0, why };
    },

    /** The replacement as an order of its own, at zero price, all or nothing from stock. Idempotent by its reference. */
    async createReplacementOrder(input: { returnId: string; baseCurrency: string }): Promise<Omit<OrderToCashInput, 'timings'>> {
      const r = await db('returns as r').join('sales_orders as o', 'o.id', 'r.order_id').join('channels as ch', 'ch.id', 'o.channel_id').join('customers as c', 'c.id', 'o.customer_id')
        .where('r.id', input.returnId).first('r.id', 'r.rma_number', 'ch.code as channel', 'o.external_ref', 'o.shipping_address', 'c.email', 'c.name');
      const lines = (await linesOf(db, r.id)).filter((l) => l.quantity_received > 0);
      const externalRef = `${r.external_ref}-${r.rma_number}`.slice(0, 64);
      const recorded = await recordOrder(db, {
        channel: r.channel, externalRef, currency: input.baseCurrency, customer: { email: r.email, name: r.name }, shippingAddress: r.shipping_address,
        lines: lines.map((l) => ({ sku: l.sku, quantity: l.quantity_received, unitPrice: 0 })), shippingPrice: 0,
        payment: { method: 'replacement', token: 'tok_approve' }, backorderPolicy: 'cancel',
      }, input.baseCurrency);
      await db('returns').where({ id: r.id }).update({ replacement_order_id: recorded.orderId, status: 'replacement_ordered', updated_at: db.fn.now() });
      return { orderId: recorded.orderId, channel: r.channel, externalRef, customerEmail: r.email, backorderPolicy: 'cancel', payment: { method: 'replacement', token: 'tok_approve' } };
    },

    /**
     * Flags customers and SKUs whose return rate over the window is far above the norm:
     * more than `factor` times the rate of everything else (so an outlier does not raise
     * its own bar), with at least `minVolume` units shipped. One exception per subject per day.
     */
    async scanReturnRates(input: { windowDays: number; factor: number; minVolume: number }): Promise<{ flagged: string[] }> {
      const since = new Date(Date.now() - input.windowDays * 86400000);
      return inTransaction(db, async (tx) => {
        const perSubject = async (subject: 'sku' | 'customer') => {
          const key = subject === 'sku' ? 'p.sku' : 'c.email';
          return (await tx.raw(
            `SELECT ${key} AS subject, SUM(l.quantity_shipped)::int AS shipped, COALESCE(SUM(rt.received), 0)::int AS returned
               FROM sales_order_lines l JOIN sales_orders o ON o.id = l.order_id JOIN products p ON p.id = l.product_id JOIN customers c ON c.id = o.customer_id
               LEFT JOIN (SELECT order_line_id, SUM(quantity_received) AS received FROM return_lines GROUP BY 1) rt ON rt.order_line_id = l.id
              WHERE o.placed_at >= ? AND l.quantity_shipped > 0 GROUP BY ${key}`,
            [since],
          )).rows as { subject: string; shipped: number; returned: number }[];
        };
        const flagged: string[] = [];
        const day = new Date().toISOString().slice(0, 10);
        for (const subject of ['sku', 'customer'] as const) {
          const rows = await perSubject(subject);
          const shipped = rows.reduce((t, r) => t + r.shipped, 0);
          const returned = rows.reduce((t, r) => t + r.returned, 0);
          for (const row of rows.filter((r) => r.shipped >= input.minVolume)) {
            const rate = row.returned / row.shipped;
            const others = shipped - row.shipped > 0 ? (returned - row.returned) / (shipped - row.shipped) : 0;
            const threshold = Math.max(others * input.factor, 0.05);
            if (rate <= threshold) continue;
            flagged.push(`${subject}:${row.subject}`);
            await raiseException(tx, {
              key: `unusual_return:${subject}:${row.subject}:${day}`, type: 'unusual_return_pattern', subjectType: subject, subjectId: row.subject,
              summary: `${subject === 'sku' ? 'SKU' : 'Customer'} ${row.subject} returned ${row.returned} of ${row.shipped} units (${(rate * 100).toFixed(0)} %) against ${(others * 100).toFixed(1)} % for everything else`,
              details: { shipped: row.shipped, returned: row.returned, rate, norm: others, threshold, windowDays: input.windowDays },
            });
          }
        }
        return { flagged };
      });
    },
  };
}

