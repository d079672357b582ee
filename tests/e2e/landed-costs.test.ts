/**
 * Landed costs on a partly sold receipt, through the API on the real stack: freight spread by value, duty by
 * weight; the units still on hand cost more, the sold units' share is cost of goods sold, the rounding is an
 * inventory adjustment, and every entry balances with the inventory account still on hand × average cost.
 */
import { kitSku, stockedSku, unique } from '../helpers/fixtures';
import { deliveredOrder } from '../helpers/orders';
import { eventually, startStack, type Stack } from '../helpers/stack';
import { checkInvariants } from '../../db/invariants';
import { marginAccountTotals } from '../../db/margins';

let s: Stack;
let started: Date; // before this file's first entry: the margin report's period starts here
let sold: { orderId: string; sku: string }; // the order that sold 4 units of the landed receipt
beforeAll(async () => {
  started = new Date();
  s = await startStack({ PO_AUTO_APPROVE_LIMIT: '10000000', SUPPLIER_DAY: '1s' });
});
afterAll(async () => s?.stop());

async function receivedPurchase(lines: { sku: string; quantity: number; unitPrice: number }[]) {
  const code = unique('SUP');
  const sup = await s.call('POST', '/v1/suppliers', {
    key: s.keys.procurement,
    body: { suppliers: [{ code, name: code, currency: 'EUR', leadTimeDays: 60, paymentTermsDays: 30 }] },
  });
  expect(sup.status).toBe(200);
  const po = await s.call('POST', '/v1/purchase-orders', {
    key: s.keys.procurement,
    body: { supplier: code, warehouse: 'EAST', lines },
  });
  expect(po.status).toBe(201);
  await eventually(
    async () =>
      (await s.call('GET', `/v1/purchase-orders/${po.body.poId}`, { key: s.keys.procurement })).body.status === 'sent',
    30_000,
    'the purchase order to be sent',
  );
  return po.body as { poId: string; number: string };
}

const landed = (poId: string, body: object, key = s.keys.finance) =>
  s.call('POST', `/v1/purchase-orders/${poId}/landed-costs`, { key, body });

/** The entry's net per account (debit − credit). */
async function entryOf(landedCostId: string): Promise<Record<string, number>> {
  const rows = await s
    .db('journal_entries as e')
    .join('journal_lines as l', 'l.entry_id', 'e.id')
    .where({ 'e.source_type': 'landed_cost', 'e.source_id': landedCostId })
    .groupBy('l.account_code')
    .select('l.account_code', s.db.raw('SUM(l.debit - l.credit)::bigint AS net'));
  return Object.fromEntries(rows.map((r) => [r.account_code, Number(r.net)]));
}
const cost = async (sku: string) => Number((await s.db('products').where({ sku }).first('cost')).cost);

test('freight by value and duty by weight on a receipt of which some units were sold', async () => {
  const a = await stockedSku(s.db, {}, 1000, 'LCA');
  const b = await stockedSku(s.db, {}, 500, 'LCB');
  const po = await receivedPurchase([
    { sku: a, quantity: 10, unitPrice: 1000 },
    { sku: b, quantity: 20, unitPrice: 500 },
  ]);
  const early = await landed(po.poId, {
    kind: 'freight',
    method: 'value',
    amount: 3000,
    currency: 'EUR',
    billRef: 'FR-1',
    billedBy: 'DHL Freight',
  });
  expect([early.status, early.body.error.message]).toEqual([
    409,
    expect.stringMatching(/Nothing of .* has been received yet/),
  ]);

  const receipt = await s.call('POST', `/v1/purchase-orders/${po.poId}/receipts`, {
    key: s.keys.warehouse,
    body: {
      lines: [
        { sku: a, quantity: 10 },
        { sku: b, quantity: 20 },
      ],
    },
  });
  expect(receipt.status).toBe(201);
  const order = await deliveredOrder(s, [{ sku: a, quantity: 4 }]); // 4 of the 10 sold at 10.00 each
  sold = { orderId: order.orderId, sku: a };

  // Freight 30.00 by value: 15.00 each; of A's 15.00, 6/10 stays in stock (6 on hand), 4/10 is cost of sales.
  const freight = await landed(po.poId, {
    kind: 'freight',
    method: 'value',
    amount: 3000,
    currency: 'EUR',
    billRef: 'FR-1',
    billedBy: 'DHL Freight',
  });
  expect(freight.status).toBe(201);
  expect(freight.body.allocations).toEqual([
    {
      sku: a,
      receivedUnits: 10,
      onHandUnits: 6,
      amount: 1500,
      toInventory: 900,
      toCostOfGoodsSold: 600,
      rounding: 0,
      costBefore: 1000,
      costAfter: 1150,
    },
    {
      sku: b,
      receivedUnits: 20,
      onHandUnits: 20,
      amount: 1500,
      toInventory: 1500,
      toCostOfGoodsSold: 0,
      rounding: 0,
      costBefore: 500,
      costAfter: 575,
    },
  ]);
  expect(await entryOf(freight.body.landedCostId)).toEqual({ '1300': 2400, '5000': 600, '2060': -3000 });
  expect([await cost(a), await cost(b)]).toEqual([1150, 575]);

  // Duty by weight needs every product's weight: refused, nothing booked, until it is set.
  const duty = { kind: 'duty', method: 'weight', amount: 1001, currency: 'EUR', billRef: 'CUS-7', billedBy: 'Customs' };
  const weightless = await landed(po.poId, duty);
  expect([weightless.status, weightless.body.error.details.length]).toEqual([422, 2]);
  for (const [sku, weightGrams, c] of [
    [a, 500, 1150],
    [b, 2000, 575],
  ] as const) {
    const r = await s.call('POST', '/v1/products', {
      key: s.keys.procurement,
      body: { products: [{ sku, name: sku, cost: c, weightGrams }] },
    });
    expect(r.status).toBe(200);
  }
  // 10.01 over 5 kg of A and 40 kg of B: 1.11 and 8.90; whole cents of unit cost leave a rounding each way.
  const booked = await landed(po.poId, duty);
  expect(booked.status).toBe(201);
  expect(booked.body.allocations).toEqual([
    {
      sku: a,
      receivedUnits: 10,
      onHandUnits: 6,
      amount: 111,
      toInventory: 67,
      toCostOfGoodsSold: 44,
      rounding: 1,
      costBefore: 1150,
      costAfter: 1161,
    },
    {
      sku: b,
      receivedUnits: 20,
      onHandUnits: 20,
      amount: 890,
      toInventory: 890,
      toCostOfGoodsSold: 0,
      rounding: -10,
      costBefore: 575,
      costAfter: 620,
    },
  ]);
  expect(await entryOf(booked.body.landedCostId)).toEqual({ '1300': 966, '5000': 44, '5100': -9, '2060': -1001 });

  // The same bill again: the booking as it was; other figures under the same reference: refused.
  const again = await landed(po.poId, duty);
  expect([again.status, again.body.landedCostId]).toEqual([200, booked.body.landedCostId]);
  const changed = await landed(po.poId, { ...duty, amount: 1200 });
  expect([changed.status, changed.body.error.details[0].path]).toEqual([409, 'billRef']);
  const list = await s.call('GET', `/v1/purchase-orders/${po.number}/landed-costs`, { key: s.keys.procurement });
  expect(list.body.landedCosts.map((c: { billRef: string }) => c.billRef)).toEqual(['FR-1', 'CUS-7']);
  expect(await s.db('landed_costs').where({ po_id: po.poId })).toHaveLength(2);

  const valuation = (await checkInvariants(s.db)).find((r) => r.name.startsWith('stock valuation'))!;
  expect(valuation.ok).toBe(true);
});

test('bad input per the contract: nothing is booked', async () => {
  const a = await stockedSku(s.db, {}, 1000, 'LCX');
  const po = await receivedPurchase([{ sku: a, quantity: 2, unitPrice: 1000 }]);
  const ok = {
    kind: 'insurance',
    method: 'quantity',
    amount: 100,
    currency: 'EUR',
    billRef: 'INS-1',
    billedBy: 'Allianz',
  };
  const cases: [object, number, string?][] = [
    [{ ...ok, kind: 'bribe' }, 400],
    [{ ...ok, amount: 0 }, 400],
    [{ ...ok, amount: 10.5 }, 400],
    [{ ...ok, billRef: 'a\u0000b' }, 400],
    [{ ...ok, extra: 1 }, 400],
    [{ ...ok, currency: 'USD' }, 422],
  ];
  for (const [body, status] of cases) expect([(await landed(po.poId, body)).status, body]).toEqual([status, body]);
  expect((await landed(po.poId, ok, s.keys.ops)).status).toBe(403);
  expect((await landed('PO-NOPE', ok)).status).toBe(404);
  expect(await s.db('landed_costs').where({ po_id: po.poId })).toHaveLength(0);

  // Goods received free of charge have no value to spread a bill by.
  const free = await stockedSku(s.db, {}, 0, 'LCF');
  const gift = await receivedPurchase([{ sku: free, quantity: 3, unitPrice: 0 }]);
  const r = await s.call('POST', `/v1/purchase-orders/${gift.poId}/receipts`, {
    key: s.keys.warehouse,
    body: { lines: [{ sku: free, quantity: 3 }] },
  });
  expect(r.status).toBe(201);
  const byValue = await landed(gift.poId, { ...ok, method: 'value' });
  expect([byValue.status, byValue.body.error.details[0].path]).toEqual([422, 'method']);
  expect((await landed(gift.poId, { ...ok, method: 'quantity' })).status).toBe(201);
});

test('the margin report by order, SKU and channel adds up to the ledger for the period, to the cent', async () => {
  // A kit sells as one SKU and ships as its components: its cost of goods is the kit's, not the parts'.
  const part = await stockedSku(s.db, { EAST: 4 }, 300, 'KPART');
  const kit = await kitSku(s.db, [{ sku: part, quantity: 2 }]);
  const kitOrder = await deliveredOrder(s, [{ sku: kit, quantity: 1, unitPrice: 1500 }]);
  const label = await s.call('POST', '/v1/carrier-charges', {
    key: s.keys.finance,
    body: {
      carrier: 'UPS',
      billRef: unique('INV'),
      currency: 'EUR',
      lines: [{ trackingNumber: kitOrder.shipments[0].trackingNumber, amount: 450 }],
    },
  });
  expect(label.status).toBe(201);
  const until = new Date();
  await new Promise((r) => setTimeout(r, 1500)); // entries posted before `until` by other files have committed
  const window = `from=${started.toISOString()}&to=${until.toISOString()}`;
  const ledger = await marginAccountTotals(s.db, started, until);
  const invoice = await s.db('invoices').where({ order_id: sold.orderId }).first();
  for (const by of ['order', 'sku', 'channel']) {
    const r = await s.call('GET', `/v1/reports/margins?by=${by}&${window}`, { key: s.keys.finance });
    expect(r.status).toBe(200);
    const t = r.body.totals;
    expect(t.revenue - t.refunds).toBe(-((ledger['4000'] ?? 0) + (ledger['4100'] ?? 0)));
    expect(t.costOfGoods + t.landedCosts).toBe(ledger['5000'] ?? 0);
    expect(t.fees).toBe((ledger['6100'] ?? 0) + (ledger['6200'] ?? 0)); // payouts and chargebacks of other files
    expect(t.commission).toBe(ledger['6300'] ?? 0);
    expect(t.shippingCost).toBe(ledger['6500'] ?? 0);
    expect(t.margin).toBe(
      t.revenue - t.refunds - t.costOfGoods - t.landedCosts - t.fees - t.commission - t.shippingCost,
    );
    const sum = (f: string) => r.body.rows.reduce((x: number, row: Record<string, number>) => x + row[f], 0);
    expect(['revenue', 'refunds', 'costOfGoods', 'landedCosts', 'fees', 'shippingCost'].map(sum)).toEqual([
      t.revenue,
      t.refunds,
      t.costOfGoods,
      t.landedCosts,
      t.fees,
      t.shippingCost,
    ]);
    const row = (key: string | null) => r.body.rows.find((x: { key: string | null }) => x.key === key);
    if (by === 'order') {
      expect(row(kitOrder.orderId)).toMatchObject({ costOfGoods: 600, shippingCost: 450 });
      // The order: its invoice's goods and shipping; 4 units at the average cost of 10.00 when they shipped.
      expect(row(sold.orderId)).toMatchObject({
        revenue: invoice.subtotal + invoice.shipping,
        costOfGoods: 4000,
        landedCosts: 0,
      });
      // Landed costs have no order: 6.00 freight and 0.44 duty on the sold units, in the row of no order.
      expect(row(null).landedCosts).toBeGreaterThanOrEqual(644);
    }
    if (by === 'sku') {
      expect(row(kit)).toMatchObject({ revenue: 1500, costOfGoods: 600, margin: 900, marginPct: 60 });
      expect(row(part)).toBeUndefined();
      expect(row(sold.sku)).toMatchObject({ revenue: invoice.subtotal, costOfGoods: 4000, landedCosts: 644 });
      expect(row(sold.sku).margin).toBe(invoice.subtotal - 4644);
    }
    if (by === 'channel') expect(row('web').revenue).toBeGreaterThanOrEqual(invoice.subtotal + invoice.shipping);
  }
  const csv = await s.call('GET', `/v1/reports/margins?by=sku&format=csv&${window}`, { key: s.keys.finance });
  expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
  const lines = String(csv.body).trim().split('\n');
  expect(lines[0]).toBe('sku,revenue,refunds,costOfGoods,landedCosts,fees,commission,shippingCost,margin,marginPct');
  expect(lines.find((l) => l.startsWith(`${sold.sku},`))).toMatch(
    new RegExp(`^${sold.sku},${invoice.subtotal / 100},0,40,6.44,0,0,0,`),
  );

  for (const q of [
    'by=week',
    `from=${until.toISOString()}&to=${started.toISOString()}`,
    'from=yesterday',
    'to=2026-13-45',
  ]) {
    const bad = await s.call('GET', `/v1/reports/margins?${q}`, { key: s.keys.finance });
    expect([q, bad.status]).toEqual([q, 400]);
  }
  expect((await s.call('GET', '/v1/reports/margins', { key: s.keys.storefront })).status).toBe(403);
});

test("a carrier's invoice books each parcel's charge once, on its order; bad invoices are refused whole", async () => {
  const sku = await stockedSku(s.db, { EAST: 5 }, 300, 'LABEL');
  const [a, b] = [
    await deliveredOrder(s, [{ sku, quantity: 1, unitPrice: 1000 }]),
    await deliveredOrder(s, [{ sku, quantity: 1, unitPrice: 1000 }]),
  ];
  const billRef = unique('UPS');
  const bill = (lines: object[], over: object = {}) =>
    s.call('POST', '/v1/carrier-charges', {
      key: s.keys.finance,
      body: { carrier: 'UPS', billRef, currency: 'EUR', lines, ...over },
    });
  const lines = [
    { shipmentId: a.shipments[0].shipmentId, amount: 495 },
    { trackingNumber: b.shipments[0].trackingNumber, amount: 620 },
  ];
  const booked = await bill(lines);
  expect(booked.status).toBe(201);
  expect(booked.body).toMatchObject({ total: 1115, lines: [{ orderId: a.orderId }, { orderId: b.orderId }] });
  const entries = await s
    .db('carrier_charges as c')
    .join('journal_lines as l', 'l.entry_id', 'c.entry_id')
    .where('c.bill_ref', billRef)
    .groupBy('l.account_code')
    .select('l.account_code', s.db.raw('SUM(l.debit - l.credit)::bigint AS net'));
  expect(Object.fromEntries(entries.map((e) => [e.account_code, Number(e.net)]))).toEqual({
    '6500': 1115,
    '2070': -1115,
  });

  expect((await bill(lines)).status).toBe(200); // the same invoice again: nothing booked twice
  expect((await bill(lines, { carrier: 'ups' })).status).toBe(200); // however the carrier's name is written
  const changed = await bill([{ shipmentId: a.shipments[0].shipmentId, amount: 500 }]);
  expect([changed.status, changed.body.error.details[0].path]).toEqual([409, 'lines.0.shipmentId']);
  const unknown = await bill([{ trackingNumber: 'NO-SUCH-PARCEL', amount: 100 }], { billRef: unique('UPS') });
  expect([unknown.status, unknown.body.error.details[0].path]).toEqual([422, 'lines.0.trackingNumber']);
  const twice = await bill([lines[0], lines[0]], { billRef: unique('UPS') });
  expect([twice.status, twice.body.error.details[0].path]).toEqual([422, 'lines.1.shipmentId']);
  const both = await bill([{ ...lines[0], trackingNumber: 'X' }], { billRef: unique('UPS') });
  expect(both.status).toBe(400);
  expect((await bill(lines, { billRef: unique('UPS'), currency: 'USD' })).status).toBe(422);
  expect((await bill([{ shipmentId: a.shipments[0].shipmentId, amount: 0 }], { billRef: unique('UPS') })).status).toBe(
    400,
  );
  const notMine = await s.call('POST', '/v1/carrier-charges', { key: s.keys.warehouse, body: { carrier: 'UPS' } });
  expect(notMine.status).toBe(403);
  expect(await s.db('carrier_charges').where({ shipment_id: a.shipments[0].shipmentId })).toHaveLength(1);
  expect((await checkInvariants(s.db)).filter((r) => !r.ok)).toEqual([]);
});
