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
import { inTransaction, Tx } from '../../db';
import { applyMove, ordersWaitingFor, virtualLocation, warehouseOfLocation } from '../../db/inventory';
import { lockCosts } from '../../db/valuation';
import { ACCOUNT, postEntry } from '../../db/ledger';
import { NewException, raiseException } from '../../db/exceptions';
import { queueNotification } from '../../db/notifications';
import {
  addInspectedUnits,
  addReceivedUnits,
  inspectedConditions,
  inspectionsByIds,
  lockReturnForUpdate,
  nextRmaNumber,
  qualityRulesFor,
  recordInspection,
  recordReplacementOrder,
  recordReturnAuthorisation,
  recordReturnOutcome,
  recordReturnReceipt,
  returnCurrency,
  returnForReplacement,
  returnLines,
  returnReceiptExists,
  updateReturnStatus,
} from '../../db/returns';
import { recordOrder, shippedAndReturned } from '../../db/sales';
import { shippingWarehouseLocation } from '../../db/shipping';
import { shareOf } from '../../lib/money';
import type { OrderToCashInput } from '../../contracts/order-types';
import type {
  Condition,
  Disposition,
  InspectedLine,
  InspectionLine,
  ReceiptLine,
  ReturnStatus,
} from '../../contracts/return-types';
import type { ActivityDeps } from '../deps';

/** A stable UUID from a business key, for rows whose retry must find the first write. */
const uuidFrom = (key: string) => {
  const h = createHash('sha256').update(key).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

const refuse = (message: string) => ApplicationFailure.nonRetryable(message, 'ReturnRefused');

async function lockReturn(tx: Tx, returnId: string) {
  const r = await lockReturnForUpdate(tx, returnId);
  if (!r) throw refuse(`Return ${returnId} not found`);
  return r;
}

/** The internal location of `type` in the warehouse that shipped this order line. */
async function locationFor(
  tx: Tx,
  orderLineId: number,
  type: 'returns' | 'stock' | 'repair' | 'quarantine',
): Promise<number> {
  const row = await shippingWarehouseLocation(tx, orderLineId, type);
  if (!row) throw refuse(`No ${type} location for order line ${orderLineId}`);
  return row.id;
}

export async function dispositionFor(
  tx: Tx,
  sku: string,
  category: string | null,
  condition: Condition,
): Promise<Disposition> {
  const rules = await qualityRulesFor(tx, sku, category, condition);
  const pick =
    rules.find((r) => r.sku === sku) ??
    rules.find((r) => r.category && r.category === category) ??
    rules.find((r) => !r.sku && !r.category);
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
        await recordReturnOutcome(tx, input.returnId, input.status, input.reason ?? null);
        if (input.status === 'expired') {
          await queueNotification(tx, {
            key: `return:${r.id}:expired`,
            recipient: r.email,
            template: 'return_expired',
            subjectType: 'return',
            subjectId: r.id,
            payload: { rmaNumber: r.rma_number },
          });
        }
      });
    },

    /** RMA number and a return label from the (sandbox) carrier; the customer is told. */
    async authorizeReturn(input: {
      returnId: string;
    }): Promise<{ rmaNumber: string; carrier: string; trackingNumber: string; expected: number }> {
      return inTransaction(db, async (tx) => {
        const r = await lockReturn(tx, input.returnId);
        const expected = (await returnLines(tx, r.id)).reduce((s, l) => s + l.quantity, 0);
        if (r.rma_number)
          return { rmaNumber: r.rma_number, carrier: r.label_carrier, trackingNumber: r.label_tracking, expected };
        const rmaNumber = await nextRmaNumber(tx);
        const label = {
          carrier: 'DHL',
          trackingNumber: `RET${createHash('sha256').update(r.id).digest('hex').slice(0, 12).toUpperCase()}`,
        };
        await recordReturnAuthorisation(tx, r.id, rmaNumber, label);
        await queueNotification(tx, {
          key: `return:${r.id}:authorised`,
          recipient: r.email,
          template: 'return_authorised',
          subjectType: 'return',
          subjectId: r.id,
          payload: { rmaNumber, ...label },
        });
        return { rmaNumber, ...label, expected };
      });
    },

    /** Goods arrived: customer → returns location, valued back at cost. Once per receipt id. */
    async receiveReturn(input: {
      returnId: string;
      receiptId: string;
      lines: ReceiptLine[];
    }): Promise<{ received: number; expected: number }> {
      return inTransaction(db, async (tx) => {
        const r = await lockReturn(tx, input.returnId);
        const lines = await returnLines(tx, r.id);
        const totals = async () => {
          const now = await returnLines(tx, r.id);
          return {
            received: now.reduce((s, l) => s + l.quantity_received, 0),
            expected: now.reduce((s, l) => s + l.quantity, 0),
          };
        };
        if (await returnReceiptExists(tx, input.receiptId)) return totals();
        const customer = await virtualLocation(tx, 'customer');
        const costs = await lockCosts(
          tx,
          lines.map((l) => l.product_id),
        );
        let value = 0;
        let warehouseId: number | undefined;
        for (const got of input.lines) {
          const line = lines.find((l) => l.sku === got.sku);
          if (!line) throw refuse(`${got.sku} is not on this return`);
          if (got.quantity > line.quantity - line.quantity_received)
            throw refuse(`only ${line.quantity - line.quantity_received} more of ${got.sku} are expected`);
          const to = await locationFor(tx, line.order_line_id, 'returns');
          warehouseId ??= await warehouseOfLocation(tx, to);
          await applyMove(tx, {
            productId: line.product_id,
            fromLocationId: customer,
            toLocationId: to,
            quantity: got.quantity,
            unitCost: costs.get(line.product_id)!,
            sourceType: 'return_receipt',
            sourceId: input.receiptId,
            key: `return:${r.id}:receipt:${input.receiptId}:${line.id}`,
          });
          await addReceivedUnits(tx, line.id, got.quantity);
          value += got.quantity * costs.get(line.product_id)!;
        }
        await recordReturnReceipt(tx, { receiptId: input.receiptId, returnId: r.id, warehouseId, lines: input.lines });
        await postEntry(tx, {
          key: `return-receipt:${input.receiptId}`,
          description: `Goods returned under ${r.rma_number}`,
          sourceType: 'return_receipt',
          sourceId: input.receiptId,
          currency: r.currency,
          lines: [
            { account: ACCOUNT.inventory, debit: value },
            { account: ACCOUNT.costOfGoodsSold, credit: value },
          ],
        });
        const t = await totals();
        await updateReturnStatus(tx, r.id, t.received === t.expected ? 'received' : 'partially_received');
        return t;
      });
    },

    /** Grades received units; the quality rules choose each disposition, which is a move out of the returns location. */
    async inspectReturn(input: {
      returnId: string;
      inspectionId: string;
      lines: InspectionLine[];
    }): Promise<{ lines: InspectedLine[]; ordersWaiting: string[] }> {
      return inTransaction(db, async (tx) => {
        const r = await lockReturn(tx, input.returnId);
        const lines = await returnLines(tx, r.id);
        const done = await inspectionsByIds(
          tx,
          input.lines.map((_, i) => uuidFrom(`${input.inspectionId}:${i}`)),
        );
        if (done.length) {
          return {
            lines: input.lines.map((l, i) => ({
              ...l,
              disposition: done.find((d) => d.id === uuidFrom(`${input.inspectionId}:${i}`))!.disposition,
            })),
            ordersWaiting: [],
          };
        }
        const result: InspectedLine[] = [];
        const waiting = new Set<string>();
        const costs = await lockCosts(
          tx,
          lines.map((l) => l.product_id),
        );
        for (const [i, got] of input.lines.entries()) {
          const line = lines.find((l) => l.sku === got.sku);
          if (!line) throw refuse(`${got.sku} is not on this return`);
          if (got.quantity > line.quantity_received - line.quantity_inspected)
            throw refuse(
              `only ${line.quantity_received - line.quantity_inspected} received unit(s) of ${got.sku} await inspection`,
            );
          const disposition = await dispositionFor(tx, line.sku, line.category, got.condition);
          const from = await locationFor(tx, line.order_line_id, 'returns');
          const to =
            disposition === 'scrap'
              ? await virtualLocation(tx, 'scrap')
              : await locationFor(tx, line.order_line_id, disposition === 'restock' ? 'stock' : disposition);
          const key = `return:${r.id}:inspection:${input.inspectionId}:${i}`;
          await applyMove(tx, {
            productId: line.product_id,
            fromLocationId: from,
            toLocationId: to,
            quantity: got.quantity,
            unitCost: costs.get(line.product_id)!,
            sourceType: 'return_inspection',
            sourceId: r.id,
            key,
          });
          if (disposition === 'scrap') {
            const loss = got.quantity * costs.get(line.product_id)!;
            await postEntry(tx, {
              key,
              description: `Scrapped ${got.quantity} x ${line.sku} from ${r.rma_number}`,
              sourceType: 'return_inspection',
              sourceId: r.id,
              currency: r.currency,
              lines: [
                { account: ACCOUNT.inventoryLoss, debit: loss },
                { account: ACCOUNT.inventory, credit: loss },
              ],
            });
          }
          if (disposition === 'restock') for (const id of await ordersWaitingFor(tx, line.product_id)) waiting.add(id);
          await recordInspection(tx, {
            id: uuidFrom(`${input.inspectionId}:${i}`),
            returnLineId: line.id,
            quantity: got.quantity,
            condition: got.condition,
            disposition,
          });
          await addInspectedUnits(tx, line.id, got.quantity);
          result.push({ ...got, disposition });
        }
        return { lines: result, ordersWaiting: [...waiting] };
      });
    },

    /** What the inspected units are worth (price and their share of tax), and whether a person must decide. */
    async quoteRefund(input: {
      returnId: string;
    }): Promise<{ amount: number; currency: string; ordinary: boolean; why: string[] }> {
      const lines = await returnLines(db, input.returnId);
      const conditions = await inspectedConditions(db, input.returnId);
      const currency = await returnCurrency(db, input.returnId);
      const amount = lines.reduce(
        (s, l) => s + l.quantity_inspected * l.unit_price + shareOf(l.tax, l.quantity_inspected, l.ordered, 0, 0),
        0,
      );
      const why = conditions.filter((c) => c !== 'new').map((c) => `a unit was graded ${c}`);
      return { amount, currency, ordinary: why.length === 0, why };
    },

    /** The replacement as an order of its own, at zero price, all or nothing from stock. Idempotent by its reference. */
    async createReplacementOrder(input: {
      returnId: string;
      baseCurrency: string;
    }): Promise<Omit<OrderToCashInput, 'timings'>> {
      const r = await returnForReplacement(db, input.returnId);
      const lines = (await returnLines(db, r.id)).filter((l) => l.quantity_received > 0);
      const externalRef = `${r.external_ref}-${r.rma_number}`.slice(0, 64);
      const recorded = await recordOrder(
        db,
        {
          channel: r.channel,
          externalRef,
          currency: input.baseCurrency,
          customer: { email: r.email, name: r.name },
          shippingAddress: r.shipping_address,
          lines: lines.map((l) => ({ sku: l.sku, quantity: l.quantity_received, unitPrice: 0 })),
          shippingPrice: 0,
          payment: { method: 'replacement', token: 'tok_approve' },
          backorderPolicy: 'cancel',
        },
        input.baseCurrency,
      );
      await recordReplacementOrder(db, r.id, recorded.orderId);
      return {
        orderId: recorded.orderId,
        channel: r.channel,
        externalRef,
        customerEmail: r.email,
        customerId: String(r.customer_id),
        backorderPolicy: 'cancel',
        payment: { method: 'replacement', token: 'tok_approve' },
      };
    },

    /**
     * Flags customers and SKUs whose return rate over the window is far above the norm:
     * more than `factor` times the rate of everything else (so an outlier does not raise
     * its own bar), with at least `minVolume` units shipped. One exception per subject per day.
     */
    async scanReturnRates(input: {
      windowDays: number;
      factor: number;
      minVolume: number;
    }): Promise<{ flagged: string[] }> {
      const since = new Date(Date.now() - input.windowDays * 86400000);
      return inTransaction(db, async (tx) => {
        const flagged: string[] = [];
        const day = new Date().toISOString().slice(0, 10);
        for (const subject of ['sku', 'customer'] as const) {
          const rows = await shippedAndReturned(tx, subject, since);
          const shipped = rows.reduce((t, r) => t + r.shipped, 0);
          const returned = rows.reduce((t, r) => t + r.returned, 0);
          for (const row of rows.filter((r) => r.shipped >= input.minVolume)) {
            const rate = row.returned / row.shipped;
            const others = shipped - row.shipped > 0 ? (returned - row.returned) / (shipped - row.shipped) : 0;
            const threshold = Math.max(others * input.factor, 0.05);
            if (rate <= threshold) continue;
            flagged.push(`${subject}:${row.subject}`);
            await raiseException(tx, {
              key: `unusual_return:${subject}:${row.subject}:${day}`,
              type: 'unusual_return_pattern',
              subjectType: subject,
              subjectId: row.subject,
              summary: `${subject === 'sku' ? 'SKU' : 'Customer'} ${row.subject} returned ${row.returned} of ${row.shipped} units (${(rate * 100).toFixed(0)} %) against ${(others * 100).toFixed(1)} % for everything else`,
              details: {
                shipped: row.shipped,
                returned: row.returned,
                rate,
                norm: others,
                threshold,
                windowDays: input.windowDays,
              },
            });
          }
        }
        return { flagged };
      });
    },
  };
}
