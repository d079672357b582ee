/**
 * Three-way match, pure: what was ordered (and at what price), what was
 * received and not yet billed, and what the bill asks for.
 *
 * A bill line matches when it bills no more than the units received and not
 * yet billed (plus the quantity tolerance) and its unit price is within the
 * price tolerance of the order price. Billing fewer units than received is
 * fine: the rest stays goods-received-not-invoiced until the next bill.
 */
import type { BillLine, MatchLine } from '../../contracts/purchase-types';

export interface OrderedLine {
  sku: string;
  ordered: number;
  received: number;
  billedBefore: number;
  orderPrice: number;
}
export interface Tolerances {
  qtyPct: number;
  pricePct: number;
}

export function threeWayMatch(
  ordered: OrderedLine[],
  billed: BillLine[],
  tol: Tolerances,
): { matched: boolean; lines: MatchLine[] } {
  const lines = billed.map((b): MatchLine => {
    const o = ordered.find((x) => x.sku === b.sku);
    if (!o) {
      return {
        sku: b.sku,
        ordered: 0,
        received: 0,
        billable: 0,
        billed: b.quantity,
        orderPrice: 0,
        billedPrice: b.unitPrice,
        quantityOk: false,
        priceOk: false,
        problem: `${b.sku} is not on the purchase order`,
      };
    }
    const billable = o.received - o.billedBefore;
    const quantityOk = b.quantity <= billable + Math.floor((billable * tol.qtyPct) / 100);
    const priceOk = Math.abs(b.unitPrice - o.orderPrice) <= (o.orderPrice * tol.pricePct) / 100;
    const problems = [
      ...(quantityOk ? [] : [`billed ${b.quantity} but only ${billable} received and not yet billed`]),
      ...(priceOk ? [] : [`billed at ${b.unitPrice}, ordered at ${o.orderPrice} (tolerance ${tol.pricePct} %)`]),
    ];
    return {
      sku: b.sku,
      ordered: o.ordered,
      received: o.received,
      billable,
      billed: b.quantity,
      orderPrice: o.orderPrice,
      billedPrice: b.unitPrice,
      quantityOk,
      priceOk,
      ...(problems.length ? { problem: problems.join('; ') } : {}),
    };
  });
  return { matched: lines.every((l) => l.quantityOk && l.priceOk), lines };
}

/**
 * A bill corrected by a supplier credit note, line by line. A credit line at
 * the billed unit price takes units back; at any other price it lowers the
 * price of that many units (a price correction).
 */
export function netOfCreditNote(bill: BillLine[], credit: BillLine[]): BillLine[] {
  return bill.map((b) => {
    let quantity = b.quantity;
    let value = b.quantity * b.unitPrice;
    for (const c of credit.filter((x) => x.sku === b.sku)) {
      if (c.unitPrice === b.unitPrice) quantity -= c.quantity;
      value -= c.quantity * c.unitPrice;
    }
    return {
      sku: b.sku,
      quantity: Math.max(0, quantity),
      unitPrice: quantity > 0 ? Math.round(value / quantity) : b.unitPrice,
    };
  });
}
