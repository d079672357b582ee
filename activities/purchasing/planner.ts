/**
 * The replenishment run: for every reorder rule, the projected stock
 * (on hand − reserved − backordered + incoming), the forecast and the reorder
 * point (see planning.ts), and, below it, a proposal. Proposals become draft
 * purchase orders, one per supplier and warehouse. Everything is decided and
 * written in one transaction under an advisory lock, so two runs at once
 * cannot both order the same shortfall, and a retried run answers with what
 * it already wrote.
 */
import { inTransaction, Tx } from '../../db';
import { dailyShipments, incomingUnits, quantsAt } from '../../db/inventory';
import {
  cheapestSupplierPrices,
  createPurchaseOrder,
  finishReplenishmentRun,
  lockReplenishmentPlanning,
  recordReplenishmentLines,
  reorderRulesToPlan,
  replenishmentRun,
  startReplenishmentRun,
} from '../../db/purchasing';
import { backorderedOrders } from '../../db/sales';
import type { PlannedOrder } from '../../contracts/purchase-types';
import type { ActivityDeps } from '../deps';
import { demandOf } from '../../db/inventory';
import { AbcClass, classifyAbc, HISTORY_DAYS, propose, Proposal } from './planning';

export interface PlannedLine {
  sku: string;
  warehouse: string;
  decision: 'proposed' | 'covered' | 'above_reorder_point' | 'no_supplier';
  quantity: number;
  supplier?: string;
  unitPrice?: number;
  poNumber?: string;
  explanation: Proposal;
}

export interface PlanResult {
  runId: string;
  trigger: string;
  plannedAt: string;
  rules: number;
  proposals: PlannedLine[]; // the lines that order something
  stockoutRisks: {
    sku: string;
    warehouse: string;
    projected: number;
    daysOfCover: number | null;
    leadTimeDays: number;
  }[];
  purchaseOrders: PlannedOrder[];
}

const OPEN_PO = ['draft', 'awaiting_approval', 'approved', 'sent', 'partially_received'];
const key = (productId: number, warehouseId: number) => `${productId}:${warehouseId}`;

/** Daily units shipped from each warehouse, oldest day first. */
async function shippedHistory(tx: Tx, productIds: number[]): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const r of await dailyShipments(tx, productIds, HISTORY_DAYS - 1)) {
    const k = key(r.product_id, r.warehouse_id);
    const days = out.get(k) ?? new Array<number>(HISTORY_DAYS).fill(0);
    days[HISTORY_DAYS - 1 - r.age] += r.units;
    out.set(k, days);
  }
  return out;
}

/** Units that backordered orders still need, per component product. */
async function backorderedDemand(tx: Tx): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const o of await backorderedOrders(tx)) {
    for (const line of await demandOf(tx, o.id)) {
      for (const c of line.components) out.set(c.productId, (out.get(c.productId) ?? 0) + line.remaining * c.perUnit);
    }
  }
  return out;
}

export function planningActivities({ db }: ActivityDeps) {
  return {
    async planReplenishment(input: { runId: string; trigger: string }): Promise<PlanResult> {
      return inTransaction(db, async (tx) => {
        await lockReplenishmentPlanning(tx);
        const done = await replenishmentRun(tx, input.runId);
        if (done) return done.result as PlanResult;
        await startReplenishmentRun(tx, input.runId, input.trigger);

        const rules = await reorderRulesToPlan(tx);
        const productIds = [...new Set(rules.map((r) => r.product_id as number))];
        const history = await shippedHistory(tx, productIds);
        const quants = await quantsAt(
          tx,
          rules.map((r) => r.location_id),
          productIds,
        );
        const backordered = await backorderedDemand(tx);
        const incoming = new Map<string, number>(
          (await incomingUnits(tx, productIds, OPEN_PO)).map((r) => [key(r.product_id, r.warehouse_id), r.units]),
        );
        const prices = await cheapestSupplierPrices(tx, productIds);

        // ABC over the SKUs under rules, by margin shipped in the history window.
        const margin = new Map<number, number>();
        for (const r of rules) {
          const units = (history.get(key(r.product_id, r.warehouse_id)) ?? []).reduce((s, x) => s + x, 0);
          margin.set(
            r.product_id,
            (margin.get(r.product_id) ?? 0) + units * Math.max(0, Number(r.price ?? 0) - Number(r.cost)),
          );
        }
        const abc = classifyAbc([...margin].map(([id, value]) => ({ key: String(id), value })));
        // Backordered demand counts once, against the first warehouse (by priority) that has a rule for the SKU.
        const primary = new Map<number, number>();
        for (const r of rules) if (!primary.has(r.product_id)) primary.set(r.product_id, r.warehouse_id);

        const lines: (PlannedLine & { productId: number; warehouseId: number; supplierId?: number })[] = [];
        for (const r of rules) {
          const q = quants.find((x) => x.location_id === r.location_id && x.product_id === r.product_id);
          const price = prices.find((p) => p.product_id === r.product_id);
          const position = {
            onHand: q?.on_hand ?? 0,
            reserved: q?.reserved ?? 0,
            backordered: primary.get(r.product_id) === r.warehouse_id ? (backordered.get(r.product_id) ?? 0) : 0,
            incoming: incoming.get(key(r.product_id, r.warehouse_id)) ?? 0,
          };
          const supply = price
            ? { moq: price.moq, packSize: price.pack_size, leadTimeDays: price.lead_time_days }
            : { moq: 1, packSize: 1, leadTimeDays: 0 };
          const p = propose(
            history.get(key(r.product_id, r.warehouse_id)) ?? new Array<number>(HISTORY_DAYS).fill(0),
            {
              method: r.method,
              minQty: r.min_qty,
              maxQty: r.max_qty,
              safetyStock: r.safety_stock,
              serviceLevel: r.service_level,
              coverDays: r.cover_days,
            },
            (abc.get(String(r.product_id)) ?? 'C') as AbcClass,
            position,
            supply,
          );
          const decision =
            p.quantity > 0
              ? price
                ? 'proposed'
                : 'no_supplier'
              : p.reason.startsWith('covered')
                ? 'covered'
                : 'above_reorder_point';
          lines.push({
            productId: r.product_id,
            warehouseId: r.warehouse_id,
            sku: r.sku,
            warehouse: r.warehouse,
            decision,
            quantity: decision === 'proposed' ? p.quantity : 0,
            ...(price
              ? { supplier: price.supplier, supplierId: price.supplier_id, unitPrice: Number(price.unit_price) }
              : {}),
            explanation: p,
          });
        }

        // One draft purchase order per supplier and warehouse.
        const purchaseOrders: PlannedOrder[] = [];
        const groups = new Map<string, typeof lines>();
        for (const l of lines.filter((x) => x.decision === 'proposed')) {
          const g = `${l.supplierId}:${l.warehouseId}`;
          groups.set(g, [...(groups.get(g) ?? []), l]);
        }
        for (const group of groups.values()) {
          const po = await createPurchaseOrder(tx, {
            supplierId: group[0].supplierId!,
            warehouseId: group[0].warehouseId,
            origin: 'planner',
            runId: input.runId,
            lines: group.map((l) => ({
              productId: l.productId,
              quantity: l.quantity,
              unitPrice: l.unitPrice!,
              explanation: l.explanation,
            })),
          });
          for (const l of group) l.poNumber = po.number;
          purchaseOrders.push({
            poId: po.poId,
            number: po.number,
            supplier: group[0].supplier!,
            warehouse: group[0].warehouse,
            total: po.total,
            currency: po.currency,
            lines: group.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPrice: l.unitPrice! })),
          });
        }

        if (lines.length) {
          await recordReplenishmentLines(
            tx,
            lines.map((l) => ({
              run_id: input.runId,
              product_id: l.productId,
              warehouse_id: l.warehouseId,
              abc_class: l.explanation.abcClass,
              projected: l.explanation.projected,
              reorder_point: l.explanation.reorderPoint,
              proposed_qty: l.quantity,
              stockout_risk: l.explanation.stockoutRisk,
              decision: l.decision,
              po_id: purchaseOrders.find((p) => p.number === l.poNumber)?.poId ?? null,
              explanation: JSON.stringify(l.explanation),
            })),
          );
        }
        const strip = ({
          productId: _p,
          warehouseId: _w,
          supplierId: _s,
          ...rest
        }: (typeof lines)[number]): PlannedLine => rest;
        const result: PlanResult = {
          runId: input.runId,
          trigger: input.trigger,
          plannedAt: new Date().toISOString(),
          rules: rules.length,
          proposals: lines.filter((l) => l.decision === 'proposed' || l.decision === 'no_supplier').map(strip),
          stockoutRisks: lines
            .filter((l) => l.explanation.stockoutRisk)
            .map((l) => ({
              sku: l.sku,
              warehouse: l.warehouse,
              projected: l.explanation.projected,
              daysOfCover: l.explanation.daysOfCover,
              leadTimeDays: l.explanation.leadTimeDays,
            })),
          purchaseOrders,
        };
        await finishReplenishmentRun(tx, input.runId, result);
        return result;
      });
    },
  };
}
