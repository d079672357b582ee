/**
 * The replenishment arithmetic, pure so it can be checked on known numbers.
 *
 * Forecast: a moving average with a linear trend. The recent rate is the mean
 * daily demand of the last 14 days; the trend is the change from the 14 days
 * before that, per day. The rate expected during the lead time is the recent
 * rate carried forward by the trend from the middle of the recent window (7
 * days ago) to the middle of the lead time, never below zero.
 *
 * Safety stock: z(service level) × σ(daily demand, last 28 days) × √(lead
 * time), unless the rule fixes it. Reorder point: rate × lead time + safety
 * stock. Order-up-to: reorder point + rate × cover days. A min/max rule uses
 * its own fixed levels instead.
 *
 * ABC: SKUs ranked by margin earned in the history window (units × (price −
 * cost)); the top 80 % of the total is A, the next 15 % B, the rest C. The
 * class sets the service level and the cover days when the rule does not:
 * A items are kept tightest to demand (high service, short cover, ordered
 * often), C items loosest.
 */

export type AbcClass = 'A' | 'B' | 'C';

export const CLASS_POLICY: Record<AbcClass, { serviceLevel: number; coverDays: number }> = {
  A: { serviceLevel: 0.98, coverDays: 7 },
  B: { serviceLevel: 0.95, coverDays: 14 },
  C: { serviceLevel: 0.9, coverDays: 30 },
};

export const HISTORY_DAYS = 28;
const WINDOW = 14;

const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0);
const round2 = (x: number) => Math.round(x * 100) / 100;

/** Daily demand expected over the lead time, from daily history (oldest first, HISTORY_DAYS long). */
export function forecast(
  daily: number[],
  leadTimeDays: number,
): { recent: number; prior: number; trendPerDay: number; ratePerDay: number; sigma: number } {
  const recent = mean(daily.slice(-WINDOW));
  const prior = mean(daily.slice(-2 * WINDOW, -WINDOW));
  const trendPerDay = (recent - prior) / WINDOW;
  const ratePerDay = Math.max(0, recent + trendPerDay * (WINDOW / 2 + leadTimeDays / 2));
  const last = daily.slice(-HISTORY_DAYS);
  const m = mean(last);
  const sigma = Math.sqrt(mean(last.map((x) => (x - m) ** 2)));
  return {
    recent: round2(recent),
    prior: round2(prior),
    trendPerDay: round2(trendPerDay),
    ratePerDay: round2(ratePerDay),
    sigma: round2(sigma),
  };
}

/**
 * The standard normal quantile for a service level p in [0.5, 1): Abramowitz and
 * Stegun 26.2.23, accurate to 4.5e-4, which is far below the noise in demand.
 */
export function zScore(p: number): number {
  if (p <= 0.5) return 0;
  const t = Math.sqrt(-2 * Math.log(1 - p));
  const z =
    t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t);
  return Math.round(z * 1000) / 1000;
}

/** A/B/C by cumulative share of value, highest first; a SKU that earned nothing is C. */
export function classifyAbc(items: { key: string; value: number }[]): Map<string, AbcClass> {
  const total = items.reduce((s, i) => s + Math.max(0, i.value), 0);
  const sorted = [...items].sort((a, b) => b.value - a.value || a.key.localeCompare(b.key));
  const out = new Map<string, AbcClass>();
  let before = 0;
  for (const i of sorted) {
    const share = total > 0 ? before / total : 1;
    out.set(i.key, i.value <= 0 ? 'C' : share < 0.8 ? 'A' : share < 0.95 ? 'B' : 'C');
    before += Math.max(0, i.value);
  }
  return out;
}

export interface RuleInput {
  method: 'reorder_point' | 'min_max';
  minQty?: number | null;
  maxQty?: number | null;
  safetyStock?: number | null;
  serviceLevel?: number | null;
  coverDays?: number | null;
}

export interface Position {
  onHand: number;
  reserved: number;
  backordered: number;
  incoming: number;
}
export interface SupplyTerms {
  moq: number;
  packSize: number;
  leadTimeDays: number;
}

export interface Proposal {
  abcClass: AbcClass;
  onHand: number;
  reserved: number;
  backordered: number;
  incoming: number;
  projected: number;
  forecast: ReturnType<typeof forecast>;
  leadTimeDays: number;
  serviceLevel: number | null;
  z: number | null;
  safetyStock: number;
  reorderPoint: number;
  orderUpTo: number;
  shortfall: number; // order-up-to − projected, before rounding
  moq: number;
  packSize: number;
  quantity: number; // 0: no order
  daysOfCover: number | null; // projected stock / rate; null without demand
  stockoutRisk: boolean; // runs out before the earliest possible receipt
  reason: string;
}

/** Rounds a need up to the minimum order quantity, then to whole packs. */
export function roundToSupply(need: number, moq: number, packSize: number): number {
  if (need <= 0) return 0;
  return Math.ceil(Math.max(need, moq) / packSize) * packSize;
}

export function propose(
  daily: number[],
  rule: RuleInput,
  abcClass: AbcClass,
  position: Position,
  supply: SupplyTerms,
): Proposal {
  const L = supply.leadTimeDays;
  const f = forecast(daily, L);
  const policy = CLASS_POLICY[abcClass];
  const projected = position.onHand - position.reserved - position.backordered + position.incoming;
  let serviceLevel: number | null = null;
  let z: number | null = null;
  let safetyStock: number;
  let reorderPoint: number;
  let orderUpTo: number;
  if (rule.method === 'min_max') {
    safetyStock = rule.safetyStock ?? 0;
    reorderPoint = rule.minQty ?? 0;
    orderUpTo = rule.maxQty ?? reorderPoint;
  } else {
    serviceLevel = rule.serviceLevel ?? policy.serviceLevel;
    z = zScore(serviceLevel);
    safetyStock = rule.safetyStock ?? Math.ceil(z * f.sigma * Math.sqrt(L));
    reorderPoint = Math.ceil(f.ratePerDay * L + safetyStock);
    orderUpTo = reorderPoint + Math.ceil(f.ratePerDay * (rule.coverDays ?? policy.coverDays));
  }
  const below = projected < reorderPoint;
  const shortfall = below ? orderUpTo - projected : 0;
  const quantity = roundToSupply(shortfall, supply.moq, supply.packSize);
  const daysOfCover = f.ratePerDay > 0 ? round2(Math.max(0, projected) / f.ratePerDay) : null;
  const stockoutRisk = f.ratePerDay > 0 && (daysOfCover ?? 0) < L;
  const reason = below
    ? `projected ${projected} is below the reorder point ${reorderPoint}: order ${shortfall} up to ${orderUpTo}, rounded to ${quantity} (MOQ ${supply.moq}, pack ${supply.packSize})`
    : position.incoming > 0 && projected - position.incoming < reorderPoint
      ? `covered: ${position.incoming} already on order lift projected stock to ${projected} (reorder point ${reorderPoint})`
      : `projected ${projected} is at or above the reorder point ${reorderPoint}`;
  return {
    abcClass,
    ...position,
    projected,
    forecast: f,
    leadTimeDays: L,
    serviceLevel,
    z,
    safetyStock,
    reorderPoint,
    orderUpTo,
    shortfall,
    moq: supply.moq,
    packSize: supply.packSize,
    quantity,
    daysOfCover,
    stockoutRisk,
    reason,
  };
}
