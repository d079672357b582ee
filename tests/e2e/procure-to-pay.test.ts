/**
 * Procure-to-pay, every branch, on the real Temporal dev server, Postgres and
 * HTTP: approval (automatic, manual, rejected, escalated), receipts (partial,
 * over tolerance), three-way match (perfect, price and quantity mismatch with
 * each resolution), late supplier, payment on terms, backorders released by a
 * receipt, and the books behind each step.
 */
import { stockedSku, unique } from '../helpers/fixtures';
import { place, recordHistories, remember, waitFor as waitForOrder } from '../helpers/orders';
import { eventually, startStack, Stack } from '../helpers/stack';

let s: Stack;
beforeAll(async () => {
  s = await startStack({
    PO_AUTO_APPROVE_LIMIT: '100000',
    PO_APPROVAL_SLA: '3s',
    SUPPLIER_DAY: '1s',
    SUPPLIER_LATE_GRACE: '1h',
    RECEIPT_TOLERANCE_PCT: '5',
    MATCH_QTY_TOLERANCE_PCT: '0',
    MATCH_PRICE_TOLERANCE_PCT: '2',
    EXCEPTION_SLA: '1h',
    EXCEPTION_SECOND_SLA: '2h',
  });
});
afterAll(async () => {
  try {
    await recordHistories(s, 'purchasing');
  } finally {
    await s?.stop();
  }
});

/** A supplier with its own code; lead time and payment terms in supplier days (a second each here). */
async function supplier(opts: { leadTimeDays?: number; paymentTermsDays?: number } = {}) {
  const code = unique('SUP');
  const r = await s.call('POST', '/v1/suppliers', {
    key: s.keys.procurement,
    body: {
      suppliers: [
        {
          code,
          name: `Supplier ${code}`,
          currency: 'EUR',
          leadTimeDays: opts.leadTimeDays ?? 60,
          paymentTermsDays: opts.paymentTermsDays ?? 1,
        },
      ],
    },
  });
  expect(r.status).toBe(200);
  return code;
}
async function order(body: object) {
  const r = await s.call('POST', '/v1/purchase-orders', { key: s.keys.procurement, body });
  if (r.status !== 201) throw new Error(`purchase order refused: ${r.status} ${JSON.stringify(r.body)}`);
  remember(r.body.workflowId);
  return r.body as { poId: string; number: string; workflowId: string; total: number };
}
const getPo = async (id: string) =>
  (await s.call('GET', `/v1/purchase-orders/${id}`, { key: s.keys.procurement })).body;
const waitForPo = (id: string, ok: (po: any) => boolean, what: string, timeoutMs = 30000) =>
  eventually(
    async () => {
      const po = await getPo(id);
      return ok(po) ? po : undefined;
    },
    timeoutMs,
    `purchase order ${id}: ${what}`,
  );
const receive = (id: string, lines: { sku: string; quantity: number }[]) =>
  s.call('POST', `/v1/purchase-orders/${id}/receipts`, { key: s.keys.warehouse, body: { lines } });
function billBody(
  ref: string,
  lines: { sku: string; quantity: number; unitPrice: number }[],
  tax = 0,
  creditNoteFor?: string,
) {
  const net = lines.reduce((t, l) => t + l.quantity * l.unitPrice, 0);
  return { supplierInvoiceRef: ref, lines, tax, total: net + tax, ...(creditNoteFor ? { creditNoteFor } : {}) };
}
const bill = (id: string, body: object) =>
  s.call('POST', `/v1/purchase-orders/${id}/bills`, { key: s.keys.finance, body });
const caseOf = (type: string, subjectId: string) =>
  eventually(
    () => s.db('exceptions').where({ type, subject_id: subjectId }).orderBy('opened_at', 'desc').first(),
    20000,
    `a ${type} case for ${subjectId}`,
  );
const resolve = (id: string, action: string) =>
  s.call('POST', `/v1/exceptions/${id}/resolution`, { key: s.keys.ops, body: { action, note: `test: ${action}` } });
const entry = async (sourceType: string, sourceId: string) =>
  Object.fromEntries(
    (
      await s
        .db('journal_entries as e')
        .join('journal_lines as l', 'l.entry_id', 'e.id')
        .where({ 'e.source_type': sourceType, 'e.source_id': sourceId })
        .groupBy('l.account_code')
        .select('l.account_code', s.db.raw('SUM(l.debit - l.credit)::bigint AS net'))
    ).map((r) => [r.account_code, r.net]),
  );
const onHand = async (sku: string, type = 'stock') =>
  (
    await s
      .db('quants as q')
      .join('locations as l', 'l.id', 'q.location_id')
      .join('products as p', 'p.id', 'q.product_id')
      .where({ 'p.sku': sku, 'l.code': `EAST/${type.toUpperCase()}` })
      .first('q.on_hand')
  )?.on_hand ?? 0;
const cost = async (sku: string) => Number((await s.db('products').where({ sku }).first('cost')).cost);
const sent = (po: any) => po.status === 'sent';
/** A purchase order of one new SKU, sent and fully received: where a bill starts from. */
async function receivedOrder(prefix: string, quantity: number, unitPrice: number) {
  const sup = await supplier();
  const sku = await stockedSku(s.db, {}, unitPrice, prefix);
  const po = await order({ supplier: sup, warehouse: 'EAST', lines: [{ sku, quantity, unitPrice }] });
  await waitForPo(po.poId, sent, 'sent');
  expect((await receive(po.poId, [{ sku, quantity }])).status).toBe(201);
  return { sku, po };
}

test('automatic approval, receipt at the purchase price (average cost), perfect match, payment on terms, closed; every entry checked', async () => {
  const sup = await supplier({ paymentTermsDays: 2 });
  const sku = await stockedSku(s.db, { EAST: 10 }, 400, 'P2P'); // 10 on hand at 4.00
  const po = await order({ supplier: sup, warehouse: 'EAST', lines: [{ sku, quantity: 30, unitPrice: 600 }] });
  expect(po.total).toBe(18000);
  const placed = await waitForPo(po.poId, sent, 'sent');
  expect(placed.supplierRef).toMatch(/^sup_/);
  expect(placed.process.timeline.map((t: { step: string }) => t.step)).toContain(
    'approved automatically (under the limit)',
  );
  expect(await s.db('sandbox_supplier_orders').where({ supplier_code: sup }).count({ n: '*' }).first()).toEqual({
    n: 1,
  });
  expect((await s.call('GET', `/v1/inventory/${sku}`, { key: s.keys.ops })).body.warehouses[0]).toMatchObject({
    warehouse: 'EAST',
    onHand: 10,
    incoming: 30,
  });

  const r = await receive(po.poId, [{ sku, quantity: 30 }]);
  expect(r.status).toBe(201);
  expect(r.body).toMatchObject({
    received: 30,
    ordered: 30,
    quarantined: 0,
    lines: [{ sku, intoStock: 30, quarantined: 0, unitCost: 600 }],
  });
  expect(await onHand(sku)).toBe(40);
  expect(await cost(sku)).toBe(550); // (10 × 400 + 30 × 600) / 40
  expect(await entry('purchase_receipt', r.body.receiptId)).toEqual({ '1300': 18000, '2050': -18000 });
  expect((await s.call('GET', `/v1/inventory/${sku}`, { key: s.keys.ops })).body.total.incoming).toBe(0);

  const b = await bill(po.poId, billBody(unique('INV'), [{ sku, quantity: 30, unitPrice: 600 }], 3420));
  expect(b.status).toBe(201);
  expect(b.body).toMatchObject({ matched: true, posted: true, status: 'matched', billedUnits: 30 });
  expect(await entry('vendor_bill', b.body.billId)).toEqual({ '2050': 18000, '2100': 3420, '2000': -21420 });

  const closed = await waitForPo(po.poId, (p) => p.status === 'closed', 'closed', 20000);
  expect(closed.payments).toEqual([
    expect.objectContaining({ billId: b.body.billId, amount: 21420, bankReference: expect.stringMatching(/^bank_/) }),
  ]);
  expect(await entry('supplier_payment', b.body.billId)).toEqual({ '2000': 21420, '1000': -21420 });
  expect(await s.db('sandbox_bank_transfers').where({ payee: sup }).count({ n: '*' }).first()).toEqual({ n: 1 });
  // Paid on terms: not before the bill was due.
  const dueAt = new Date(closed.bills[0].dueAt).getTime();
  expect(new Date(closed.payments[0].paidAt).getTime()).toBeGreaterThanOrEqual(dueAt - 50);
});

test('over the limit an approver decides (inbox, roles, one decision); a rejection ends the order', async () => {
  const sup = await supplier();
  const sku = await stockedSku(s.db, {}, 1000, 'APR');
  const big = await order({ supplier: sup, warehouse: 'EAST', lines: [{ sku, quantity: 200, unitPrice: 1000 }] });
  await waitForPo(big.poId, (p) => p.status === 'awaiting_approval', 'awaiting approval');
  // The status reads awaiting_approval as the order is submitted; the request reaches the inbox a step later.
  const inbox = await eventually(async () => {
    const list = (await s.call('GET', '/v1/approvals', { key: s.keys.approver })).body.approvals;
    return list.some((a: { subjectId: string }) => a.subjectId === big.poId) ? list : undefined;
  });
  expect(inbox).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ kind: 'purchase_order', subjectId: big.poId, amount: 200000, currency: 'EUR' }),
    ]),
  );
  expect(
    (
      await s.call('POST', `/v1/purchase-orders/${big.poId}/decision`, {
        key: s.keys.procurement,
        body: { decision: 'approve', note: 'mine' },
      })
    ).status,
  ).toBe(403);
  expect(
    (
      await s.call('POST', `/v1/purchase-orders/${big.number}/decision`, {
        key: s.keys.approver,
        body: { decision: 'approve', note: 'budgeted' },
      })
    ).status,
  ).toBe(200);
  const approved = await waitForPo(big.poId, sent, 'sent');
  expect(approved.decidedBy).toMatch(/approver/);
  expect((await s.db('approvals').where({ subject_id: big.poId }).first()).status).toBe('approved');
  expect(
    (
      await s.call('POST', `/v1/purchase-orders/${big.poId}/decision`, {
        key: s.keys.approver,
        body: { decision: 'reject', note: 'late' },
      })
    ).status,
  ).toBe(409);

  const other = await order({ supplier: sup, warehouse: 'EAST', lines: [{ sku, quantity: 150, unitPrice: 1000 }] });
  await waitForPo(other.poId, (p) => p.status === 'awaiting_approval', 'awaiting approval');
  expect(
    (
      await s.call('POST', `/v1/purchase-orders/${other.poId}/decision`, {
        key: s.keys.approver,
        body: { decision: 'reject', note: 'not this month' },
      })
    ).status,
  ).toBe(200);
  const rejected = await waitForPo(other.poId, (p) => p.status === 'rejected', 'rejected');
  expect(rejected.supplierRef).toBeUndefined();
  expect(await s.client.workflow.getHandle(other.workflowId).result()).toEqual({ status: 'rejected' });
  expect((await receive(other.poId, [{ sku, quantity: 1 }])).status).toBe(409);
});

test('an approval past its SLA escalates (high priority, a case for the supervisors) and still waits for the approver', async () => {
  const sup = await supplier();
  const sku = await stockedSku(s.db, {}, 1000, 'SLA');
  const po = await order({ supplier: sup, warehouse: 'EAST', lines: [{ sku, quantity: 500, unitPrice: 1000 }] });
  const approval = await eventually(
    () => s.db('approvals').where({ subject_id: po.poId }).whereNotNull('escalated_at').first(),
    15000,
    'escalation',
  );
  expect(approval).toMatchObject({ priority: 'high', status: 'pending' });
  expect(await caseOf('approval_overdue', approval.id)).toMatchObject({ queue: 'supervisors', status: 'open' });
  expect(
    (
      await s.call('POST', `/v1/purchase-orders/${po.poId}/decision`, {
        key: s.keys.approver,
        body: { decision: 'approve', note: 'sorry, late' },
      })
    ).status,
  ).toBe(200);
  await waitForPo(po.poId, sent, 'sent');
});

test('partial receipts, then units beyond tolerance held in quarantine until a person returns them to the supplier', async () => {
  const sup = await supplier();
  const sku = await stockedSku(s.db, {}, 200, 'OVR');
  const po = await order({ supplier: sup, warehouse: 'EAST', lines: [{ sku, quantity: 100, unitPrice: 200 }] });
  await waitForPo(po.poId, sent, 'sent');
  expect((await receive(po.poId, [{ sku, quantity: 60 }])).body).toMatchObject({ received: 60, ordered: 100 });
  expect((await getPo(po.poId)).status).toBe('partially_received');
  const second = await receive(po.poId, [{ sku, quantity: 50 }]); // 105 is within 5 %, 5 more are not
  expect(second.body).toMatchObject({ received: 110, quarantined: 5, lines: [{ sku, intoStock: 45, quarantined: 5 }] });
  expect(await onHand(sku)).toBe(105);
  expect(await onHand(sku, 'quarantine')).toBe(5);
  const c = await caseOf('over_receipt', po.poId);
  expect((await resolve(c.id, 'return_to_supplier')).status).toBe(200);
  const after = await waitForPo(po.poId, (p) => p.lines[0].quarantined === 0, 'quarantine settled');
  expect(after.lines[0]).toMatchObject({ received: 105, quarantined: 0 });
  expect(await onHand(sku, 'quarantine')).toBe(0);
  expect(await entry('over_receipt', c.id)).toEqual({ '2050': 1000, '1300': -1000 });
  // Bill the 105 received: a perfect match (within the quantity received), paid, closed.
  expect((await bill(po.poId, billBody(unique('INV'), [{ sku, quantity: 105, unitPrice: 200 }]))).body).toMatchObject({
    matched: true,
  });
  await waitForPo(po.poId, (p) => p.status === 'closed', 'closed');
});

test('a receipt retried with its Idempotency-Key after the answer was lost is booked once', async () => {
  const sup = await supplier();
  const sku = await stockedSku(s.db, {}, 100, 'RTY');
  const po = await order({ supplier: sup, warehouse: 'EAST', lines: [{ sku, quantity: 10, unitPrice: 100 }] });
  await waitForPo(po.poId, sent, 'sent');
  const post = () =>
    s.call('POST', `/v1/purchase-orders/${po.poId}/receipts`, {
      key: s.keys.warehouse,
      body: { lines: [{ sku, quantity: 4 }] },
      headers: { 'idempotency-key': `dock-7-${po.number}` },
    });
  const first = await post();
  expect(first.status).toBe(201);
  // The API died after the process booked the receipt and before it stored its answer: the stored answer is gone.
  await s
    .db('idempotency_keys')
    .where({ key: `dock-7-${po.number}` })
    .delete();
  const again = await post();
  expect(again.body).toMatchObject({ receiptId: first.body.receiptId, received: 4 });
  expect(await s.db('purchase_receipts').where({ po_id: po.poId })).toHaveLength(1);
  expect(await onHand(sku)).toBe(4);
});

test('a purchase order posted again with its Idempotency-Key after the answer was lost is created once', async () => {
  const sup = await supplier();
  const sku = await stockedSku(s.db, {}, 100, 'DUP');
  const post = () =>
    s.call('POST', '/v1/purchase-orders', {
      key: s.keys.procurement,
      body: { supplier: sup, warehouse: 'EAST', lines: [{ sku, quantity: 3, unitPrice: 100 }] },
      headers: { 'idempotency-key': `buyer-${sup}` },
    });
  const first = await post();
  expect(first.status).toBe(201);
  remember(first.body.workflowId);
  await s
    .db('idempotency_keys')
    .where({ key: `buyer-${sup}` })
    .delete(); // the API died before it stored its answer
  const again = await post();
  expect(again.body).toMatchObject({ poId: first.body.poId, number: first.body.number });
  expect(
    await s.db('purchase_orders as po').join('suppliers as sp', 'sp.id', 'po.supplier_id').where('sp.code', sup),
  ).toHaveLength(1);
});

test('an over-receipt accepted by a person moves from quarantine into stock and can be billed', async () => {
  const { sku, po } = await receivedOrder('ACC', 10, 400);
  const extra = await receive(po.poId, [{ sku, quantity: 2 }]); // 10 × 1.05 = 10.5: no unit of tolerance left
  expect(extra.body).toMatchObject({ received: 12, quarantined: 2 });
  const c = await caseOf('over_receipt', po.poId);
  expect((await resolve(c.id, 'accept')).status).toBe(200);
  await waitForPo(po.poId, (p) => p.lines[0].quarantined === 0, 'quarantine settled');
  expect(await onHand(sku)).toBe(12);
  expect(await onHand(sku, 'quarantine')).toBe(0);
  expect(await entry('over_receipt', c.id)).toEqual({}); // stock → stock: nothing to book
  expect((await bill(po.poId, billBody(unique('INV'), [{ sku, quantity: 12, unitPrice: 400 }]))).body).toMatchObject({
    matched: true,
  });
  await waitForPo(po.poId, (p) => p.status === 'closed', 'closed');
});

test('price mismatch accepted by a person: posted with purchase price variance, then paid', async () => {
  const { sku, po } = await receivedOrder('PPV', 10, 1000);
  const b = await bill(po.poId, billBody(unique('INV'), [{ sku, quantity: 10, unitPrice: 1100 }]));
  expect(b.body).toMatchObject({
    matched: false,
    posted: false,
    status: 'mismatch',
    lines: [expect.objectContaining({ sku, priceOk: false, quantityOk: true })],
  });
  const c = await caseOf('three_way_mismatch', b.body.billId);
  expect(c.queue).toBe('finance');
  expect((await resolve(c.id, 'accept_bill')).status).toBe(200);
  const closed = await waitForPo(po.poId, (p) => p.status === 'closed', 'closed');
  expect(closed.bills[0]).toMatchObject({ status: 'paid' });
  expect(await entry('vendor_bill', b.body.billId)).toEqual({ '2050': 10000, '5200': 1000, '2000': -11000 });
});

test('quantity mismatch: the bill is rejected, a corrected bill matches and is paid', async () => {
  const { sku, po } = await receivedOrder('QTY', 20, 500);
  const wrong = await bill(po.poId, billBody(unique('INV'), [{ sku, quantity: 25, unitPrice: 500 }]));
  expect(wrong.body.lines[0]).toMatchObject({ quantityOk: false, billable: 20, billed: 25 });
  const c = await caseOf('three_way_mismatch', wrong.body.billId);
  expect((await resolve(c.id, 'reject_bill')).status).toBe(200);
  await waitForPo(po.poId, (p) => p.bills[0].status === 'rejected', 'bill rejected');
  expect(await entry('vendor_bill', wrong.body.billId)).toEqual({});
  const right = await bill(po.poId, billBody(unique('INV'), [{ sku, quantity: 20, unitPrice: 500 }]));
  expect(right.body).toMatchObject({ matched: true });
  const closed = await waitForPo(po.poId, (p) => p.status === 'closed', 'closed');
  expect(closed.payments.map((p: { amount: number }) => p.amount)).toEqual([10000]);
});

test('price mismatch waiting for a credit note: bill and credit note are matched net, and the net is paid', async () => {
  const { sku, po } = await receivedOrder('CRN', 10, 1000);
  const ref = unique('INV');
  const b = await bill(po.poId, billBody(ref, [{ sku, quantity: 10, unitPrice: 1200 }], 2280));
  const c = await caseOf('three_way_mismatch', b.body.billId);
  expect((await resolve(c.id, 'await_credit_note')).status).toBe(200);
  await waitForPo(po.poId, (p) => p.bills[0].status === 'awaiting_credit_note', 'bill held');
  expect(
    (await bill(po.poId, billBody(unique('CN'), [{ sku, quantity: 10, unitPrice: 200 }], 380, 'NOT-A-BILL'))).status,
  ).toBe(409);
  const cn = await bill(po.poId, billBody(unique('CN'), [{ sku, quantity: 10, unitPrice: 200 }], 380, ref));
  expect(cn.status).toBe(201);
  expect(cn.body).toMatchObject({ kind: 'credit_note', matched: true, posted: true, billId: b.body.billId });
  const closed = await waitForPo(po.poId, (p) => p.status === 'closed', 'closed');
  expect(closed.payments.map((p: { amount: number }) => p.amount)).toEqual([11900]); // 12000 + 2280 − (2000 + 380)
  const cnId = closed.bills.find((x: { kind: string }) => x.kind === 'credit_note').billId;
  expect(await entry('vendor_bill', b.body.billId)).toEqual({
    '2050': 10000,
    '5200': 2000,
    '2100': 2280,
    '2000': -14280,
  });
  expect(await entry('vendor_bill', cnId)).toEqual({ '2000': 2380, '2100': -380, '5200': -2000 });
});

describe('a late supplier (a supplier day and the grace are a second each)', () => {
  let s2: Stack;
  beforeAll(async () => {
    s2 = await startStack({
      SUPPLIER_DAY: '1s',
      SUPPLIER_LATE_GRACE: '1s',
      PO_AUTO_APPROVE_LIMIT: '100000',
      EXCEPTION_SLA: '1h',
      EXCEPTION_SECOND_SLA: '2h',
    });
  });
  afterAll(async () => s2?.stop());

  /** A purchase order of one new SKU from a slow supplier of its own. */
  async function slowOrder(prefix: string, leadTimeDays: number, quantity: number) {
    const code = unique('SUP');
    await s2.call('POST', '/v1/suppliers', {
      key: s2.keys.procurement,
      body: { suppliers: [{ code, name: 'Slow Ltd', currency: 'EUR', leadTimeDays, paymentTermsDays: 0 }] },
    });
    const sku = await stockedSku(s2.db, {}, 300, prefix);
    const created = await s2.call('POST', '/v1/purchase-orders', {
      key: s2.keys.procurement,
      body: { supplier: code, warehouse: 'EAST', lines: [{ sku, quantity, unitPrice: 300 }] },
    });
    remember(created.body.workflowId);
    return { code, sku, poId: created.body.poId as string, number: created.body.number as string };
  }

  test('raises a case and shows in the operations report; cancelling the rest closes on what arrived', async () => {
    const { code, sku, poId, number } = await slowOrder('LATE', 3, 10);
    await eventually(
      async () => (await s2.db('purchase_orders').where({ id: poId }).first('status')).status === 'sent',
      20000,
      'sent',
    );
    expect(
      (
        await s2.call('POST', `/v1/purchase-orders/${poId}/receipts`, {
          key: s2.keys.warehouse,
          body: { lines: [{ sku, quantity: 4 }] },
        })
      ).status,
    ).toBe(201);
    const c = await eventually(
      () => s2.db('exceptions').where({ type: 'late_supplier', subject_id: poId }).first(),
      20000,
      'late case',
    );
    expect(c.summary).toContain('4 of 10');
    const report = (await s2.call('GET', '/v1/reports/operations', { key: s2.keys.ops })).body;
    expect(report.lateSuppliers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ purchaseOrder: number, supplier: code, ordered: 10, received: 4 }),
      ]),
    );
    expect(
      (
        await s2.call('POST', `/v1/exceptions/${c.id}/resolution`, {
          key: s2.keys.ops,
          body: { action: 'cancel_rest', note: 'supplier out of stock' },
        })
      ).status,
    ).toBe(200);
    await eventually(
      async () => (await s2.db('purchase_order_lines').where({ po_id: poId }).first()).cancelled_qty === 6,
      20000,
      'rest cancelled',
    );
    expect(
      (
        await s2.call('POST', `/v1/purchase-orders/${poId}/bills`, {
          key: s2.keys.finance,
          body: billBody(unique('INV'), [{ sku, quantity: 4, unitPrice: 300 }]),
        })
      ).body,
    ).toMatchObject({ matched: true });
    await eventually(
      async () => (await s2.db('purchase_orders').where({ id: poId }).first('status')).status === 'closed',
      20000,
      'closed',
    );
  });

  test('told to keep waiting, it is asked about again after the grace; the goods arriving close that case by itself', async () => {
    const { sku, poId } = await slowOrder('WAIT', 1, 5);
    const cases = () => s2.db('exceptions').where({ type: 'late_supplier', subject_id: poId }).orderBy('opened_at');
    const [first] = await eventually(
      async () => ((await cases()).length >= 1 ? cases() : undefined),
      20000,
      'the first late case',
    );
    expect(
      (
        await s2.call('POST', `/v1/exceptions/${first.id}/resolution`, {
          key: s2.keys.ops,
          body: { action: 'keep_waiting', note: 'supplier promised Friday' },
        })
      ).status,
    ).toBe(200);
    const [, second] = await eventually(
      async () => ((await cases()).length >= 2 ? cases() : undefined),
      20000,
      'a second late case after the grace',
    );
    expect(second.status).toBe('open');
    expect(
      (
        await s2.call('POST', `/v1/purchase-orders/${poId}/receipts`, {
          key: s2.keys.warehouse,
          body: { lines: [{ sku, quantity: 5 }] },
        })
      ).status,
    ).toBe(201);
    const closed = await eventually(
      async () => ((await cases())[1].status === 'closed' ? (await cases())[1] : undefined),
      20000,
      'the second case to close itself',
    );
    expect(closed.resolution).toBe('closed by itself: the goods arrived');
    expect(
      (
        await s2.call('POST', `/v1/purchase-orders/${poId}/bills`, {
          key: s2.keys.finance,
          body: billBody(unique('INV'), [{ sku, quantity: 5, unitPrice: 300 }]),
        })
      ).body,
    ).toMatchObject({ matched: true });
    await eventually(
      async () => (await s2.db('purchase_orders').where({ id: poId }).first('status')).status === 'closed',
      20000,
      'closed',
    );
  });
});

test('a receipt releases backordered sales orders waiting for the SKU', async () => {
  const sup = await supplier();
  const sku = await stockedSku(s.db, {}, 500, 'BKO');
  const { orderId } = await place(s, [{ sku, quantity: 3 }], { backorderPolicy: 'wait' });
  await waitForOrder(s, orderId, 'backordered');
  const po = await order({ supplier: sup, warehouse: 'EAST', lines: [{ sku, quantity: 10, unitPrice: 500 }] });
  await waitForPo(po.poId, sent, 'sent');
  const r = await receive(po.poId, [{ sku, quantity: 10 }]);
  expect(r.body.ordersWaiting.length).toBeGreaterThanOrEqual(1);
  const o = await waitForOrder(s, orderId, 'fulfilling', undefined, 15000);
  expect(o.shipments).toHaveLength(1);
  expect((await s.call('GET', `/v1/inventory/${sku}`, { key: s.keys.ops })).body.warehouses[0]).toMatchObject({
    onHand: 10,
    reserved: 3,
    available: 7,
  });
});

test("bad input and roles get the contract's errors and write nothing", async () => {
  const sup = await supplier();
  const sku = await stockedSku(s.db, {}, 500, 'BAD');
  const count = async () => Number((await s.db('purchase_orders').count({ n: '*' }).first())!.n);
  const before = await count();
  const post = (body: object, key = s.keys.procurement) => s.call('POST', '/v1/purchase-orders', { key, body });
  expect(
    (await post({ supplier: sup, warehouse: 'EAST', lines: [{ sku, quantity: 1, unitPrice: 1 }] }, s.keys.storefront))
      .status,
  ).toBe(403);
  expect((await post({ supplier: sup, warehouse: 'EAST', lines: [] })).status).toBe(400);
  const noSupplier = await post({ supplier: 'NOPE', warehouse: 'EAST', lines: [{ sku, quantity: 1, unitPrice: 1 }] });
  expect(noSupplier.status).toBe(422);
  expect(noSupplier.body.error.code).toBe('unprocessable');
  const noPrice = await post({
    supplier: sup,
    warehouse: 'EAST',
    lines: [
      { sku, quantity: 1 },
      { sku: 'NO-SUCH-SKU', quantity: 1, unitPrice: 5 },
    ],
  });
  expect(noPrice.status).toBe(422);
  expect(noPrice.body.error.details).toHaveLength(2);
  expect(await count()).toBe(before);

  const prices = await s.call('POST', '/v1/supplier-prices', {
    key: s.keys.procurement,
    body: {
      prices: [
        { supplier: sup, sku, unitPrice: 450, moq: 10 },
        { supplier: sup, sku: 'NO-SUCH-SKU', unitPrice: 1 },
      ],
    },
  });
  expect(prices.status).toBe(422);
  expect(prices.body.error.details).toEqual([expect.objectContaining({ index: 1 })]);
  expect(
    await s.db('supplier_prices as sp').join('products as p', 'p.id', 'sp.product_id').where('p.sku', sku).first(),
  ).toBeUndefined();
  expect(
    (
      await s.call('POST', '/v1/reorder-rules', {
        key: s.keys.procurement,
        body: { rules: [{ sku, warehouse: 'EAST', method: 'min_max', minQty: 10 }] },
      })
    ).status,
  ).toBe(400);
  const usd = await s.call('POST', '/v1/suppliers', {
    key: s.keys.procurement,
    body: { suppliers: [{ code: unique('USD'), name: 'Dollar Inc', currency: 'USD' }] },
  });
  expect(usd.status).toBe(422);
  expect(usd.body.error.details[0].message).toMatch(/books are kept in EUR/);

  const po = await order({ supplier: sup, warehouse: 'EAST', lines: [{ sku, quantity: 5, unitPrice: 500 }] });
  await waitForPo(po.poId, sent, 'sent');
  expect(
    (
      await s.call('POST', `/v1/purchase-orders/${po.poId}/receipts`, {
        key: s.keys.finance,
        body: { lines: [{ sku, quantity: 1 }] },
      })
    ).status,
  ).toBe(403);
  expect((await receive(po.poId, [{ sku: 'NO-SUCH-SKU', quantity: 1 }])).status).toBe(422);
  expect(
    (
      await s.call('POST', `/v1/purchase-orders/${po.poId}/receipts`, {
        key: s.keys.warehouse,
        body: { warehouse: 'WEST', lines: [{ sku, quantity: 1 }] },
      })
    ).status,
  ).toBe(422);
  expect(
    (
      await s.call('POST', `/v1/purchase-orders/${po.poId}/bills`, {
        key: s.keys.warehouse,
        body: billBody('X-1', [{ sku, quantity: 1, unitPrice: 500 }]),
      })
    ).status,
  ).toBe(403);
  const badTotal = await bill(po.poId, {
    supplierInvoiceRef: 'X-2',
    lines: [{ sku, quantity: 1, unitPrice: 500 }],
    tax: 0,
    total: 499,
  });
  expect(badTotal.status).toBe(400);
  expect(
    (await s.call('GET', '/v1/purchase-orders/00000000-0000-4000-8000-000000000000', { key: s.keys.procurement }))
      .status,
  ).toBe(404);
  expect((await s.call('GET', '/v1/purchase-orders/PO-NOPE', { key: s.keys.procurement })).status).toBe(404);
  expect(await s.db('vendor_bills').where({ po_id: po.poId }).first()).toBeUndefined();
  expect(await s.db('purchase_receipts').where({ po_id: po.poId }).first()).toBeUndefined();
});
