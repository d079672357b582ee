/**
 * Stock moves, quants and reservations: the whole inventory truth.
 *
 * Every change of stock goes through `applyMove`, which records the move and
 * updates the quants of internal locations in the caller's transaction, so the
 * balance can never drift from the moves. Reservation locks the quant rows it
 * reads in a fixed order (location, product), so concurrent orders queue on the
 * rows instead of deadlocking, and the CHECK constraints on quants make an
 * oversell impossible even for code that forgets to check. Reserving an order is
 * one statement (`reserve_order`, migration 039), so a hot SKU's row stays locked
 * no longer than a bare conditional UPDATE would hold it.
 */
import { preparedRows, retryingConflicts, type Db, type Tx } from './index';
import { promise, type ChannelRules } from './channels';
import { raiseException } from './exceptions';
import { componentsOfKits } from './catalog';

export interface Move {
  productId: number;
  fromLocationId: number;
  toLocationId: number;
  quantity: number;
  unitCost: number;
  sourceType: string;
  sourceId: string;
  key: string; // one move per step: a retry with the same key changes nothing
  consumesReservation?: boolean; // the quantity leaving was reserved (shipping a reservation)
}

/** Records a done move and updates the quants. Returns false when the key was already applied. */
export async function applyMove(tx: Tx, move: Move): Promise<boolean> {
  const inserted = await tx('stock_moves')
    .insert({
      product_id: move.productId,
      from_location_id: move.fromLocationId,
      to_location_id: move.toLocationId,
      quantity: move.quantity,
      unit_cost: move.unitCost,
      source_type: move.sourceType,
      source_id: move.sourceId,
      idempotency_key: move.key,
    })
    .onConflict('idempotency_key')
    .ignore()
    .returning('id');
  if (inserted.length === 0) return false;
  const internal = await tx('locations')
    .whereIn('id', [move.fromLocationId, move.toLocationId])
    .where('internal', true)
    .pluck('id');
  if (internal.includes(move.fromLocationId)) {
    const reservedDelta = move.consumesReservation ? move.quantity : 0;
    const updated = await tx('quants')
      .where({ location_id: move.fromLocationId, product_id: move.productId })
      .update({ on_hand: tx.raw('on_hand - ?', [move.quantity]), reserved: tx.raw('reserved - ?', [reservedDelta]) });
    if (updated === 0) throw new InsufficientStockError(move.productId, move.fromLocationId, move.quantity);
  }
  if (internal.includes(move.toLocationId)) {
    await tx.raw(
      `INSERT INTO quants (location_id, product_id, on_hand, reserved) VALUES (?, ?, ?, 0)
       ON CONFLICT (location_id, product_id) DO UPDATE SET on_hand = quants.on_hand + EXCLUDED.on_hand`,
      [move.toLocationId, move.productId, move.quantity],
    );
  }
  return true;
}

export class InsufficientStockError extends Error {
  constructor(productId: number, locationId: number, quantity: number) {
    super(`Not enough stock of product ${productId} at location ${locationId} to move ${quantity}`);
  }
}

/** The ids of the installation's virtual locations. */
export async function virtualLocation(
  tx: Tx,
  type: 'supplier' | 'customer' | 'inventory_loss' | 'scrap',
): Promise<number> {
  const row = await tx('locations').where({ type }).whereNull('warehouse_id').first('id');
  if (!row) throw new Error(`Virtual location ${type} is missing; run the migrations`);
  return row.id;
}

// ---------------------------------------------------------------------------
// Allocation: which warehouse ships which order units.

export interface DemandLine {
  lineId: number;
  remaining: number; // order-line units still to allocate
  components: { productId: number; perUnit: number }[]; // a stocked item is its own single component
}

export interface WarehouseStock {
  warehouseId: number;
  locationId: number;
  priority: number;
  available: Map<number, number>; // productId → on hand − reserved
}

export interface Allocation {
  warehouseId: number;
  locationId: number;
  lines: { lineId: number; units: number }[];
}

/**
 * Which warehouse ships which order units: the allocation strategy (`allocate_stock`, migration 039: fewest
 * shipments first, then warehouse priority, never beyond the channel's `budget` of any product). In the database
 * so that `reserve_order` reserves in one statement; holds and reships call it here, on the stock they locked.
 */
export async function allocate(
  tx: Db | Tx,
  lines: DemandLine[],
  warehouses: WarehouseStock[],
  budget?: Map<number, number>, // the most the channel may take of each product, over all warehouses
): Promise<{ allocations: Allocation[]; shortUnits: number }> {
  const { rows } = await tx.raw('SELECT allocate_stock(?::jsonb, ?::jsonb, ?::jsonb) AS a', [
    JSON.stringify(lines),
    JSON.stringify(warehouses.map((w) => ({ ...w, available: Object.fromEntries(w.available) }))),
    budget ? JSON.stringify(Object.fromEntries(budget)) : null,
  ]);
  return rows[0].a;
}

// ---------------------------------------------------------------------------
// Positions and counts.

/** On hand, reserved and available per warehouse for one SKU (kits: what the components can build). */
export async function stockPosition(tx: Db, productId: number, kind: 'stocked' | 'kit') {
  const warehouses = await tx('warehouses as w')
    .join('locations as l', function () {
      this.on('l.warehouse_id', 'w.id').andOnVal('l.type', 'stock');
    })
    .orderBy('w.priority')
    .select('w.id', 'w.code', 'l.id as location_id');
  const components =
    kind === 'kit'
      ? await tx('kit_components').where({ kit_product_id: productId })
      : [{ component_product_id: productId, quantity: 1 }];
  const productIds = components.map((c) => c.component_product_id);
  const quants = await tx('quants')
    .whereIn(
      'location_id',
      warehouses.map((w) => w.location_id),
    )
    .whereIn('product_id', productIds);
  const incoming = await incomingUnits(tx, productIds);
  const rows = warehouses.map((w) => {
    const per = components.map((c) => {
      const q = quants.find((x) => x.location_id === w.location_id && x.product_id === c.component_product_id);
      const due = incoming.find((x) => x.warehouse_id === w.id && x.product_id === c.component_product_id)?.units ?? 0;
      return {
        onHand: Math.floor((q?.on_hand ?? 0) / c.quantity),
        reserved: Math.ceil((q?.reserved ?? 0) / c.quantity),
        available: Math.floor(((q?.on_hand ?? 0) - (q?.reserved ?? 0)) / c.quantity),
        incoming: Math.floor(due / c.quantity),
      };
    });
    const pick = (k: 'onHand' | 'reserved' | 'available' | 'incoming') =>
      kind === 'kit' ? Math.min(...per.map((p) => p[k])) : per[0][k];
    return {
      warehouse: w.code as string,
      onHand: pick('onHand'),
      reserved: kind === 'kit' ? 0 : pick('reserved'),
      available: pick('available'),
      incoming: pick('incoming'),
    };
  });
  const sum = (k: 'onHand' | 'reserved' | 'available' | 'incoming') => rows.reduce((s, r) => s + r[k], 0);
  return {
    warehouses: rows,
    total: { onHand: sum('onHand'), reserved: sum('reserved'), available: sum('available'), incoming: sum('incoming') },
  };
}

/**
 * Units on open purchase orders not yet received, per warehouse and product. By default only orders
 * approved or sent (what GET /v1/inventory calls incoming); the planner also counts drafts.
 */
export async function incomingUnits(
  tx: Db,
  productIds: number[],
  statuses: readonly string[] = ['approved', 'sent', 'partially_received'],
): Promise<{ warehouse_id: number; product_id: number; units: number }[]> {
  return tx('purchase_order_lines as l')
    .join('purchase_orders as po', 'po.id', 'l.po_id')
    .whereIn('po.status', statuses)
    .whereIn('l.product_id', productIds)
    .groupBy('po.warehouse_id', 'l.product_id')
    .select(
      'po.warehouse_id',
      'l.product_id',
      tx.raw('SUM(GREATEST(l.quantity - l.received_qty - l.cancelled_qty, 0))::int AS units'),
    );
}

/** Orders waiting for stock of this product (directly or through a kit), to be nudged when stock arrives. */
export async function ordersWaitingFor(tx: Tx, productId: number): Promise<string[]> {
  return tx('sales_orders as o')
    .join('sales_order_lines as l', 'l.order_id', 'o.id')
    .leftJoin('kit_components as k', 'k.kit_product_id', 'l.product_id')
    .where('o.status', 'backordered')
    .andWhere((q) => q.where('l.product_id', productId).orWhere('k.component_product_id', productId))
    .distinct('o.workflow_id')
    .pluck('o.workflow_id');
}

// ---------------------------------------------------------------------------
// Shortfalls: the shelf holds less than the books promised.

/** An order that lost reserved units to a shortfall. */
export interface Shortfall {
  orderId: string;
  workflowId: string;
  externalRef: string;
  units: number; // order-line units no longer reserved
}

/**
 * The shelf holds fewer units than are reserved (a count found less): releases whole allocations, the latest
 * promise first (the customer who ordered last is the one told of a delay, as a queue would have it), units in a
 * picker's hands last, until what stays reserved fits what is there. The pending shipments those allocations were
 * on shrink (or are cancelled when empty). The caller holds the quant's row lock; the orders are locked here, as
 * creating and dispatching shipments do, so neither can use a reservation being released.
 */
export async function releaseShortfall(
  tx: Tx,
  locationId: number,
  productId: number,
  onHand: number,
): Promise<Shortfall[]> {
  const quant = await tx('quants').where({ location_id: locationId, product_id: productId }).first('reserved');
  let excess = (quant?.reserved ?? 0) - onHand;
  if (excess <= 0) return [];
  const held: { allocation_id: string; quantity: number; order_id: string }[] = await tx('reservations as r')
    .leftJoin('shipments as s', 's.id', 'r.shipment_id')
    .where({ 'r.location_id': locationId, 'r.product_id': productId, 'r.state': 'active' })
    // Checkout holds first (nobody has paid yet), then the latest promise; parcels being picked last.
    .orderByRaw(
      `CASE WHEN r.hold_id IS NOT NULL THEN -1 WHEN s.status IN ('picked', 'packed') THEN 1 ELSE 0 END, r.created_at DESC, r.id DESC`,
    )
    .select('r.allocation_id', 'r.quantity', 'r.order_id');
  const chosen = new Set<string>();
  for (const h of held) {
    if (excess <= 0) break;
    if (chosen.has(h.allocation_id)) continue;
    chosen.add(h.allocation_id);
    excess -= h.quantity;
  }
  const orderIds = [
    ...new Set(held.filter((h) => chosen.has(h.allocation_id) && h.order_id).map((h) => h.order_id)),
  ].sort();
  await tx('sales_orders').whereIn('id', orderIds).orderBy('id').forUpdate().select('id');
  const rows = await tx('reservations')
    .whereIn('allocation_id', [...chosen])
    .where('state', 'active')
    .orderBy(['location_id', 'product_id'])
    .forUpdate();
  for (const r of rows)
    await tx('quants')
      .where({ location_id: r.location_id, product_id: r.product_id })
      .decrement('reserved', r.quantity);
  await tx('reservations')
    .whereIn(
      'id',
      rows.map((r) => r.id),
    )
    .update({ state: 'released' });

  // Line units per order and per shipment line (a kit's rows share one allocation: count it once).
  const lost = new Map<string, number>();
  const onShipments = new Map<string, { shipmentId: string; lineId: number; units: number }>();
  const counted = new Set<string>();
  for (const r of rows) {
    if (counted.has(r.allocation_id) || !r.order_id) continue; // a hold's units just go: the hold is smaller
    counted.add(r.allocation_id);
    lost.set(r.order_id, (lost.get(r.order_id) ?? 0) + r.line_units);
    if (!r.shipment_id) continue;
    const key = `${r.shipment_id}:${r.order_line_id}`;
    const prev = onShipments.get(key) ?? { shipmentId: r.shipment_id, lineId: r.order_line_id, units: 0 };
    onShipments.set(key, { ...prev, units: prev.units + r.line_units });
  }
  for (const l of onShipments.values()) {
    await tx('shipment_lines')
      .where({ shipment_id: l.shipmentId, order_line_id: l.lineId })
      .where('quantity', '>', l.units)
      .decrement('quantity', l.units);
    await tx('shipment_lines')
      .where({ shipment_id: l.shipmentId, order_line_id: l.lineId })
      .where('quantity', '<=', l.units)
      .delete();
  }
  const emptied = [...new Set([...onShipments.values()].map((l) => l.shipmentId))];
  if (emptied.length) {
    await tx('shipments')
      .whereIn('id', emptied)
      .whereIn('status', ['pending', 'picked', 'packed'])
      .whereNotExists(tx('shipment_lines').whereRaw('shipment_lines.shipment_id = shipments.id'))
      .update({ status: 'cancelled' });
  }
  const orders = await tx('sales_orders').whereIn('id', orderIds).select('id', 'workflow_id', 'external_ref');
  return orders.map((o) => ({
    orderId: o.id,
    workflowId: o.workflow_id,
    externalRef: o.external_ref,
    units: lost.get(o.id) ?? 0,
  }));
}

/**
 * What every loss from the shelf does after it is known (a count, a short pick, damage): releases the promises
 * the shelf no longer covers and, when orders were hurt, lists them in one `stock_shortfall` case for the cause.
 */
export async function settleShortfall(
  tx: Tx,
  at: { locationId: number; productId: number; onHand: number; sku: string; warehouse: string },
  cause: { key: string; what: string; details?: object },
): Promise<{ hurt: Shortfall[]; caseId?: string }> {
  const hurt = await releaseShortfall(tx, at.locationId, at.productId, at.onHand);
  if (!hurt.length) return { hurt };
  const caseId = await raiseException(tx, {
    key: `stock_shortfall:${cause.key}`,
    type: 'stock_shortfall',
    severity: 'high',
    queue: 'inventory',
    subjectType: 'sku',
    subjectId: at.sku,
    summary: `${cause.what}: ${at.sku} at ${at.warehouse} holds ${at.onHand}, less than was promised; ${hurt.length} order(s) re-plan`,
    details: {
      ...cause.details,
      warehouse: at.warehouse,
      onHand: at.onHand,
      orders: hurt.map((h) => ({ orderId: h.orderId, externalRef: h.externalRef, units: h.units })),
    },
  });
  return { hurt, caseId };
}

// ---------------------------------------------------------------------------
// Reservations: stock promised to order lines, then to shipments.

/** What a reservation may take: the channel's warehouses and what it may promise (db/channels.ts). */
export type ChannelLimits = Pick<ChannelRules, 'warehouseIds' | 'bufferUnits' | 'bufferPct' | 'cap'>;
/** Units already sold (a reship): every warehouse, no buffer, no cap. */
export const NO_CHANNEL_LIMITS: ChannelLimits = { warehouseIds: null, bufferUnits: 0, bufferPct: 0, cap: null };

/**
 * Locks the stock quants of the channel's warehouses for these products, in a fixed order, and reads what
 * each warehouse has (on hand − reserved) and what the channel may take of each product in all (`budget`:
 * its promise over the same locked rows, so two channels racing for the last units both respect it).
 */
export async function lockStock(
  tx: Tx,
  productIds: number[],
  channel: ChannelLimits,
): Promise<{ warehouses: WarehouseStock[]; budget: Map<number, number> }> {
  const warehouses: Omit<WarehouseStock, 'available'>[] = await tx('warehouses as w')
    .join('locations as l', function () {
      this.on('l.warehouse_id', 'w.id').andOnVal('l.type', 'stock');
    })
    .modify((q) => (channel.warehouseIds ? q.whereIn('w.id', channel.warehouseIds) : q))
    .select('w.id as warehouseId', 'l.id as locationId', 'w.priority');
  const quants = await tx('quants')
    .whereIn(
      'location_id',
      warehouses.map((w) => w.locationId),
    )
    .whereIn('product_id', productIds)
    .orderBy(['location_id', 'product_id'])
    .forUpdate()
    .select('location_id', 'product_id', 'on_hand', 'reserved');
  const pools = new Map<number, number>();
  for (const q of quants) pools.set(q.product_id, (pools.get(q.product_id) ?? 0) + Math.max(0, q.on_hand - q.reserved));
  return {
    warehouses: warehouses.map((w) => ({
      ...w,
      available: new Map(
        quants
          .filter((q) => q.location_id === w.locationId)
          .map((q) => [q.product_id, Math.max(0, q.on_hand - q.reserved)]),
      ),
    })),
    budget: new Map(productIds.map((id) => [id, promise(pools.get(id) ?? 0, channel)])),
  };
}

/** Whose stock it is: an order's lines, or a checkout hold's lines (db/holds.ts). */
export type StockOwner = { orderId: string } | { holdId: string };

/** Writes the reservations of an allocation and raises the reserved quantity of each quant (`hold_stock`). */
export async function holdStock(
  tx: Tx,
  owner: StockOwner,
  demand: DemandLine[],
  allocations: Allocation[],
): Promise<void> {
  if (allocations.length === 0) return;
  await tx.raw('SELECT hold_stock(?::uuid, ?::uuid, allocation_rows(?::jsonb, ?::jsonb))', [
    'orderId' in owner ? owner.orderId : null,
    'holdId' in owner ? owner.holdId : null,
    JSON.stringify({ allocations }),
    JSON.stringify(demand),
  ]);
}

/**
 * What the order's stock position is after reserving: a state, not a delta,
 * so a retried call answers exactly like the first one.
 */
export interface ReservationResult {
  readyToShip: number; // order-line units reserved and not yet on a shipment
  shortUnits: number; // order-line units still without stock
  warehouses: string[]; // where the ready units are
}

/**
 * Reserves what is still unallocated on the order, in one statement (`reserve_order`, migration 039): under the
 * order's and the stock's row locks, held for that statement only. Outside a transaction it commits by itself;
 * a named statement, so each pooled connection plans it once. Answers `takeOverHold` when the order claimed a
 * checkout hold (the caller takes it over, then calls this again in the same transaction).
 */
export async function reserveOrder(
  db: Db | Tx,
  orderId: string,
  allowPartial: boolean,
): Promise<ReservationResult | { takeOverHold: true } | undefined> {
  const statement = () =>
    preparedRows<{ r: ReservationResult | { takeOverHold: true } | null }>(
      db,
      'reserve-order',
      'SELECT reserve_order($1::uuid, $2::boolean) AS r',
      [orderId, allowPartial],
    );
  // On its own it is its own transaction: a deadlock victim runs again here, as inTransaction's work would.
  const [row] = await (db.isTransaction ? statement() : retryingConflicts(statement));
  return row.r ?? undefined;
}

/** An order line with its units still to allocate (`order_demand`, migration 039). */
interface OrderDemandRow {
  line_id: number;
  line_no: number;
  product_id: number;
  kind: 'stocked' | 'kit';
  remaining: number;
}

/** The order's lines with what is still to allocate, kits expanded into their components. */
export async function demandOf(tx: Db | Tx, orderId: string): Promise<DemandLine[]> {
  const lines: OrderDemandRow[] = (await tx.raw('SELECT * FROM order_demand(?::uuid) ORDER BY line_no', [orderId]))
    .rows;
  const kitIds = lines.filter((l) => l.kind === 'kit').map((l) => l.product_id);
  const parts = kitIds.length ? await componentsOfKits(tx, kitIds) : [];
  return lines.map((l) => ({
    lineId: l.line_id,
    remaining: l.remaining,
    components:
      l.kind === 'kit'
        ? parts
            .filter((c) => c.kit_product_id === l.product_id)
            .map((c) => ({ productId: c.component_product_id, perUnit: c.quantity }))
        : [{ productId: l.product_id, perUnit: 1 }],
  }));
}

/** The order's active reservations that are on no shipment yet. */
export async function looseReservations(tx: Tx, orderId: string) {
  return tx('reservations').where({ order_id: orderId, state: 'active' }).whereNull('shipment_id');
}

/** Puts these reservations on the shipment. */
export async function assignReservations(tx: Tx, reservationIds: number[], shipmentId: string): Promise<void> {
  await tx('reservations').whereIn('id', reservationIds).update({ shipment_id: shipmentId });
}

/** Puts the order's loose active reservations in one warehouse on the shipment. */
export async function assignLooseReservations(
  tx: Tx,
  orderId: string,
  warehouseId: number,
  shipmentId: string,
): Promise<void> {
  await tx('reservations')
    .where({ order_id: orderId, state: 'active', warehouse_id: warehouseId })
    .whereNull('shipment_id')
    .update({ shipment_id: shipmentId });
}

/** Gives a reserved quantity of a quant back to available stock. */
export async function unreserve(tx: Tx, locationId: number, productId: number, quantity: number): Promise<void> {
  await tx('quants').where({ location_id: locationId, product_id: productId }).decrement('reserved', quantity);
}

/** Gives an order's or a checkout hold's active reservations back to available stock; answers the rows released. */
export async function releaseReservations(tx: Tx, owner: StockOwner): Promise<number> {
  const active = await tx('reservations')
    .where('orderId' in owner ? { order_id: owner.orderId } : { hold_id: owner.holdId })
    .where({ state: 'active' })
    .orderBy(['location_id', 'product_id'])
    .forUpdate();
  for (const r of active) await unreserve(tx, r.location_id, r.product_id, r.quantity);
  await tx('reservations')
    .whereIn(
      'id',
      active.map((r) => r.id),
    )
    .update({ state: 'released' });
  return active.length;
}

/** Gives the shipment's active reservations back to available stock. */
export async function releaseShipmentReservations(tx: Tx, shipmentId: string): Promise<void> {
  const held = await tx('reservations')
    .where({ shipment_id: shipmentId, state: 'active' })
    .orderBy(['location_id', 'product_id'])
    .forUpdate();
  for (const r of held) await unreserve(tx, r.location_id, r.product_id, r.quantity);
  await tx('reservations')
    .whereIn(
      'id',
      held.map((r) => r.id),
    )
    .update({ state: 'released' });
}

/** The shipment's active reservations of one order line, locked, oldest first. */
export async function lockLineReservations(tx: Tx, shipmentId: string, orderLineId: number) {
  return tx('reservations')
    .where({ shipment_id: shipmentId, order_line_id: orderLineId, state: 'active' })
    .orderBy('id')
    .forUpdate();
}

/** Takes `take` units off a reservation: released when that is all of it. */
export async function takeFromReservation(
  tx: Tx,
  r: { id: number; quantity: number; line_units: number },
  take: number,
): Promise<void> {
  await tx('reservations')
    .where({ id: r.id })
    .update(
      take === r.quantity ? { state: 'released' } : { quantity: r.quantity - take, line_units: r.line_units - take },
    );
}

/** The shipment's active reservations, in quant order. */
export async function activeReservationsOfShipment(tx: Tx, shipmentId: string) {
  return tx('reservations as r')
    .where({ 'r.shipment_id': shipmentId, 'r.state': 'active' })
    .orderBy(['r.location_id', 'r.product_id'])
    .select('r.*');
}

/** The reservations left with their shipment. */
export async function consumeReservations(tx: Tx, reservationIds: number[]): Promise<void> {
  await tx('reservations').whereIn('id', reservationIds).update({ state: 'consumed' });
}

// ---------------------------------------------------------------------------
// Warehouses, locations and quants by name.

export async function warehouseByCode(tx: Db | Tx, code: string): Promise<{ id: number } | undefined> {
  return tx('warehouses').where({ code }).first('id');
}

export async function warehouseCode(tx: Db | Tx, warehouseId: number): Promise<string> {
  return (await tx('warehouses').where({ id: warehouseId }).first('code')).code;
}

/** The warehouse's location of that type (its row), if it has one. */
export async function locationOf(tx: Db | Tx, warehouseId: number, type: string): Promise<{ id: number } | undefined> {
  return tx('locations').where({ warehouse_id: warehouseId, type }).first('id');
}

/** The stock location of the warehouse with this code. */
export async function stockLocationByCode(tx: Db | Tx, warehouseCode: string): Promise<{ id: number } | undefined> {
  return tx('locations as l')
    .join('warehouses as w', 'w.id', 'l.warehouse_id')
    .where({ 'w.code': warehouseCode, 'l.type': 'stock' })
    .first('l.id');
}

/** The location's code and the product's SKU, to name a place in a case. */
export async function locationCodeAndSku(tx: Db | Tx, locationId: number, productId: number) {
  return tx('locations as l')
    .join('products as p', 'p.id', tx.raw('?', [productId]))
    .where('l.id', locationId)
    .first('l.code', 'p.sku');
}

/** Makes sure the quant row exists (empty), so it can be locked. */
export async function ensureQuant(tx: Tx, locationId: number, productId: number): Promise<void> {
  await tx.raw('INSERT INTO quants (location_id, product_id) VALUES (?, ?) ON CONFLICT DO NOTHING', [
    locationId,
    productId,
  ]);
}

/** The quant row locked FOR UPDATE: every column, or only `columns`. */
export async function lockQuant(tx: Tx, locationId: number, productId: number, columns: string[] = []) {
  return tx('quants')
    .where({ location_id: locationId, product_id: productId })
    .forUpdate()
    .first(...columns);
}

// ---------------------------------------------------------------------------
// Moves and transfers as recorded.

/** Units moved by the moves whose key starts with `keyPrefix:`. */
export async function movedUnits(tx: Db | Tx, keyPrefix: string): Promise<number> {
  const booked = await tx('stock_moves')
    .where('idempotency_key', 'like', `${keyPrefix}:%`)
    .sum({ n: 'quantity' })
    .first();
  return Number(booked?.n ?? 0);
}

/** Product and quantity of each move whose key starts with `keyPrefix:`. */
export async function movesByKeyPrefix(tx: Db | Tx, keyPrefix: string) {
  return tx('stock_moves').where('idempotency_key', 'like', `${keyPrefix}:%`).select('product_id', 'quantity');
}

export async function recordStockTransfer(
  tx: Tx,
  t: {
    id: string;
    warehouseId: number;
    productId: number;
    from: string;
    to: string;
    quantity: number;
    reason: string;
    movedBy: string;
  },
): Promise<void> {
  await tx('stock_transfers').insert({
    id: t.id,
    warehouse_id: t.warehouseId,
    product_id: t.productId,
    from_type: t.from,
    to_type: t.to,
    quantity: t.quantity,
    reason: t.reason,
    moved_by: t.movedBy,
  });
}

export interface BalanceCheck {
  location_id: number;
  product_id: number;
  on_hand: number;
  from_moves: number;
  reserved: number;
  from_reservations: number;
}

/** Every internal balance next to what the done moves and the active reservations say it should be, in one snapshot. */
export async function recomputedBalances(tx: Tx): Promise<BalanceCheck[]> {
  return (
    await tx.raw(`
          WITH moved AS (
            SELECT m.location_id, m.product_id, SUM(m.qty)::int AS qty FROM (
              SELECT to_location_id AS location_id, product_id, quantity AS qty FROM stock_moves WHERE state = 'done'
              UNION ALL SELECT from_location_id, product_id, -quantity FROM stock_moves WHERE state = 'done') m
            JOIN locations l ON l.id = m.location_id AND l.internal GROUP BY 1, 2),
          held AS (SELECT location_id, product_id, SUM(quantity)::int AS qty FROM reservations WHERE state = 'active' GROUP BY 1, 2)
          SELECT COALESCE(q.location_id, m.location_id) AS location_id, COALESCE(q.product_id, m.product_id) AS product_id,
                 COALESCE(q.on_hand, 0) AS on_hand, COALESCE(m.qty, 0) AS from_moves, COALESCE(q.reserved, 0) AS reserved, COALESCE(h.qty, 0) AS from_reservations
            FROM quants q FULL OUTER JOIN moved m ON m.location_id = q.location_id AND m.product_id = q.product_id
            LEFT JOIN held h ON h.location_id = COALESCE(q.location_id, m.location_id) AND h.product_id = COALESCE(q.product_id, m.product_id)`)
  ).rows;
}

/** Every warehouse by priority, and every location that belongs to one. */
export async function warehousesAndLocations(db: Db | Tx) {
  return Promise.all([
    db('warehouses').orderBy(['priority', 'id']),
    db('locations').whereNotNull('warehouse_id').orderBy('id'),
  ]);
}

/** Units shipped to customers per product, warehouse and age in days (0: today), over the last `days` + 1 days. */
export async function dailyShipments(
  tx: Db | Tx,
  productIds: number[],
  days: number,
): Promise<{ product_id: number; warehouse_id: number; age: number; units: number }[]> {
  const rows = await tx.raw(
    `SELECT m.product_id, l.warehouse_id, (current_date - m.created_at::date) AS age, SUM(m.quantity)::int AS units
       FROM stock_moves m JOIN locations l ON l.id = m.from_location_id JOIN locations c ON c.id = m.to_location_id AND c.type = 'customer'
      WHERE m.created_at >= current_date - ?::int AND m.product_id = ANY(?) AND m.state = 'done'
      GROUP BY 1, 2, 3`,
    [days, productIds],
  );
  return rows.rows;
}

/** The quants of these products at these locations. */
export async function quantsAt(tx: Db | Tx, locationIds: number[], productIds: number[]) {
  return tx('quants').whereIn('location_id', locationIds).whereIn('product_id', productIds);
}

/** Id and code of these warehouses, for the codes that exist. */
export async function warehousesByCodes(db: Db | Tx, codes: string[]) {
  return db('warehouses').whereIn('code', codes).select('id', 'code');
}

/** The warehouse a location belongs to. */
export async function warehouseOfLocation(tx: Db | Tx, locationId: number): Promise<number> {
  return (await tx('locations').where({ id: locationId }).first('warehouse_id')).warehouse_id;
}

/** One SKU's stock moves with their locations (a page is read through db/paging.ts). */
export function movesOfProduct(db: Db, productId: number) {
  return db('stock_moves as m')
    .join('locations as f', 'f.id', 'm.from_location_id')
    .join('locations as t', 't.id', 'm.to_location_id')
    .where('m.product_id', productId)
    .select(
      'm.id',
      'm.created_at',
      'm.quantity',
      'm.unit_cost',
      'm.state',
      'm.source_type',
      'm.source_id',
      'f.code as from_code',
      't.code as to_code',
    );
}
