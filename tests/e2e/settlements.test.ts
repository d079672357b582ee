/**
 * Money after the sale on the real stack: the sandbox provider pays out, its signed webhook (or the schedule's
 * import) starts a settlement process per payout, which matches every line to our captures, refunds and
 * dispute movements, books net, fees and differences, and opens a case for each difference. Chargebacks open
 * a dispute case raced against the evidence deadline. Payment clearing, suspense and disputed payments stay
 * equal to what is unsettled, open and undecided (the invariants).
 */
import { createHmac } from 'node:crypto';
import { stockedSku, unique } from '../helpers/fixtures';
import { deliveredOrder, getOrder, recordHistories, remember, shipAll, waitFor } from '../helpers/orders';
import { eventually, startStack, type Stack } from '../helpers/stack';
import { checkInvariants } from '../../db/invariants';
import { marginAccountTotals } from '../../db/margins';
import {
  captureFee,
  cutSandboxPayouts,
  openSandboxChargeback,
  SANDBOX_FEES,
  type PayoutAnomalies,
} from '../../db/sandbox-payouts';
import { disputeWorkflowId, settlementWorkflowId } from '../../contracts/workflow-ids';
import { startSandboxMarketplace } from '../../scripts/sandbox-marketplace';

process.env.SANDBOX_MARKET_KEY = 'marketplace-secret-for-the-settlements'; // the channel's credentialsRef

let s: Stack;
let started: Date;
const seen: {
  paid?: { orderId: string; amount: number };
  lost?: { orderId: string; amount: number };
  market?: { orderId: string; commission: number; fee: number };
} = {};
beforeAll(async () => {
  started = new Date();
  s = await startStack({ SETTLEMENT_RECHECK: '2s' });
});
afterAll(async () => {
  try {
    await recordHistories(s, 'settlements');
  } finally {
    await s?.stop();
  }
});

let events = 0;
/** The provider's signed webhook, as it sends it. */
async function providerSays(body: Record<string, unknown>) {
  const raw = JSON.stringify({
    eventId: `evt-settle-${Date.now()}-${events++}`,
    sentAt: new Date().toISOString(),
    ...body,
  });
  const sig = `sha256=${createHmac('sha256', s.config.WEBHOOK_SECRET).update(raw).digest('hex')}`;
  return s.call('POST', '/v1/webhooks/payments', { key: null, raw, headers: { 'x-signature': sig } });
}

async function soldOrder(unitPrice: number) {
  const sku = await stockedSku(s.db, { EAST: 5 });
  const o = await deliveredOrder(s, [{ sku, quantity: 1, unitPrice }]);
  const capture = await s.db('payments').where({ order_id: o.orderId, kind: 'capture' }).first();
  return { orderId: o.orderId as string, captureRef: capture.provider_ref as string, amount: Number(capture.amount) };
}

/** Cuts the sandbox's payouts and answers the one holding `ref`. */
async function payoutWith(ref: string, anomalies: PayoutAnomalies = {}) {
  const ids = await cutSandboxPayouts(s.db, anomalies);
  const rows = await s.db('sandbox_payouts').whereIn('id', ids);
  const p = rows.find((r) => r.lines.some((l: { ref: string }) => l.ref === ref));
  expect(p).toBeDefined();
  return {
    payoutId: p.id as string,
    net: Number(p.net),
    lines: p.lines as { ref: string; amount: number; fee: number }[],
  };
}

/** What the settlement schedule runs, run now. */
async function importNow(): Promise<{ started: string[] }> {
  const workflowId = `settlement-import-test-${Date.now()}`;
  remember(workflowId);
  return s.client.workflow.execute('settlementImport', {
    taskQueue: s.taskQueue,
    workflowId,
    args: [{ recheckAfter: '2s' }],
  });
}

const settlementOf = (payoutId: string) =>
  eventually(() => s.db('settlements').where({ external_id: payoutId }).first(), 30_000, `payout ${payoutId} imported`);

/** The entry's net per account (debit − credit). */
async function entry(key: string): Promise<Record<string, number>> {
  const rows = await s
    .db('journal_entries as e')
    .join('journal_lines as l', 'l.entry_id', 'e.id')
    .where('e.idempotency_key', key)
    .groupBy('l.account_code')
    .select('l.account_code', s.db.raw('SUM(l.debit - l.credit)::bigint AS net'));
  return Object.fromEntries(rows.map((r) => [r.account_code, Number(r.net)]));
}

/** The open case of this type about this subject, once its process has opened it. */
const openCase = (type: string, detail: string, value: string) =>
  eventually(
    () =>
      s
        .db('exceptions')
        .where({ type, status: 'open' })
        .whereRaw(`details->>? = ?`, [detail, value])
        .orderBy('opened_at', 'desc')
        .first(),
    30_000,
    `an open ${type} case`,
  );

const resolve = (exceptionId: string, action: string, note = 'checked against the provider dashboard') =>
  s.call('POST', `/v1/exceptions/${exceptionId}/resolution`, { key: s.keys.ops, body: { action, note } });

async function invariantsHold() {
  const broken = (await checkInvariants(s.db)).filter((r) => !r.ok);
  expect(broken).toEqual([]);
}

test('a payout that matches is booked once: net to the bank, fees to expense, captures out of clearing', async () => {
  const a = await soldOrder(2000);
  const b = await soldOrder(3500);
  seen.paid = a;
  const p = await payoutWith(a.captureRef);
  expect(p.lines).toEqual(
    expect.arrayContaining([
      { kind: 'capture', ref: a.captureRef, amount: a.amount, fee: captureFee(a.amount) },
      { kind: 'capture', ref: b.captureRef, amount: b.amount, fee: captureFee(b.amount) },
    ]),
  );
  const told = await providerSays({ type: 'payout.paid', payoutId: p.payoutId });
  expect(told.body).toMatchObject({ duplicate: false, applied: true });
  remember(settlementWorkflowId(p.payoutId));
  const result = await s.client.workflow.getHandle(settlementWorkflowId(p.payoutId)).result();
  expect(result).toMatchObject({ imported: true, mismatches: [] });

  const fees = p.lines.reduce((x, l) => x + l.fee, 0);
  const gross = p.lines.reduce((x, l) => x + l.amount, 0);
  expect(p.net).toBe(gross - fees);
  expect(await entry(`settlement:sandbox:${p.payoutId}`)).toEqual({ '1000': p.net, '6100': fees, '1100': -gross });
  const settled = await s
    .db('settlement_matches as m')
    .join('payments as pay', 'pay.id', 'm.payment_id')
    .whereIn('pay.provider_ref', [a.captureRef, b.captureRef])
    .select('pay.order_id');
  expect(settled.map((x) => x.order_id).sort()).toEqual([a.orderId, b.orderId].sort());

  // The same payout again, by a new event and by the schedule's import: nothing is imported twice.
  expect((await providerSays({ type: 'payout.paid', payoutId: p.payoutId })).body).toMatchObject({ duplicate: false });
  expect((await importNow()).started).not.toContain(p.payoutId);
  expect(await s.db('settlements').where({ external_id: p.payoutId })).toHaveLength(1);

  const api = await s.call('GET', '/v1/settlements', { key: s.keys.finance });
  expect(api.status).toBe(200);
  const mine = api.body.settlements.find((x: { payoutId: string }) => x.payoutId === p.payoutId);
  expect(mine).toMatchObject({ net: p.net, fees, matched: gross, suspense: 0, openMismatches: 0 });
  const one = await s.call('GET', `/v1/settlements/${mine.settlementId}`, { key: s.keys.finance });
  expect(one.body.lines.find((l: { ref: string }) => l.ref === a.captureRef)).toMatchObject({ orderId: a.orderId });
  expect((await s.call('GET', '/v1/settlements', { key: s.keys.storefront })).status).toBe(403);
  expect((await s.call('GET', '/v1/settlements/not-a-uuid', { key: s.keys.finance })).status).toBe(400);
  expect((await s.call('GET', `/v1/settlements/${a.orderId}`, { key: s.keys.finance })).status).toBe(404);
  await invariantsHold();
});

test('an unknown capture waits in suspense, is matched again, and is written off; a payout short by a fee is accepted as a fee', async () => {
  const c = await soldOrder(1500);
  const unknown = `sbx_capt_unknown${Date.now()}`;
  const p = await payoutWith(c.captureRef, {
    extraLines: [{ kind: 'capture', ref: unknown, amount: 1234, fee: 42 }],
    shortBy: 50,
  });
  // This one comes through the schedule's import, not the webhook.
  expect((await importNow()).started).toContain(p.payoutId);
  remember(settlementWorkflowId(p.payoutId));
  const settlement = await settlementOf(p.payoutId);
  const fees = p.lines.reduce((x, l) => x + l.fee, 0);
  const known = p.lines.filter((l) => l.ref !== unknown).reduce((x, l) => x + l.amount, 0);
  // Suspense holds the unknown line (received, unexplained: a credit) and the shortfall (a debit).
  expect(await entry(`settlement:sandbox:${p.payoutId}`)).toEqual({
    '1000': p.net,
    '6100': fees,
    '1150': -1234 + 50,
    '1100': -known,
  });
  expect(Number(settlement.suspense)).toBe(-1184);
  await invariantsHold();

  const short = await openCase('settlement_mismatch', 'kind', 'net_differs');
  expect(short.summary).toMatch(/0\.50 short/);
  const first = await openCase('settlement_mismatch', 'ref', unknown);
  expect(first.summary).toContain(unknown);
  expect((await resolve(first.id, 'refund_customer')).status).toBe(409); // not an action of this case
  expect((await resolve(first.id, 'wait')).status).toBe(200);
  // Held, matched again after 2 s, still unknown: a new case for the same difference.
  const second = await eventually(
    async () => {
      const x = await openCase('settlement_mismatch', 'ref', unknown);
      return x.id !== first.id && x;
    },
    30_000,
    'the difference to come back as a new case',
  );
  expect((await resolve(second.id, 'write_off')).status).toBe(200);
  expect((await resolve(short.id, 'accept')).status).toBe(200);
  const result = await s.client.workflow.getHandle(settlementWorkflowId(p.payoutId)).result();
  expect(result.mismatches.map((m: { outcome: string }) => m.outcome).sort()).toEqual(['accepted', 'written_off']);
  const [unknownGap, shortGap] = await Promise.all([
    s.db('settlement_mismatches').where({ settlement_id: settlement.id, kind: 'unknown_reference' }).first(),
    s.db('settlement_mismatches').where({ settlement_id: settlement.id, kind: 'net_differs' }).first(),
  ]);
  expect(await entry(`settlement_mismatch:${unknownGap.id}`)).toEqual({ '6400': -1234, '1150': 1234 });
  expect(await entry(`settlement_mismatch:${shortGap.id}`)).toEqual({ '6100': 50, '1150': -50 });
  await invariantsHold();
});

test('chargebacks: won with evidence, lost by accepting, lost at the deadline; the payouts take and give back', async () => {
  const won = await soldOrder(2500);
  const dispute = await openSandboxChargeback(s.db, { captureRef: won.captureRef, reason: 'fraudulent' });
  expect(
    (await providerSays({ type: 'dispute.created', disputeId: dispute.disputeId, captureRef: 'sbx_capt_nobody' }))
      .status,
  ).toBe(404);
  expect((await providerSays({ type: 'dispute.closed', disputeId: dispute.disputeId, outcome: 'won' })).status).toBe(
    404,
  );
  expect(
    (await providerSays({ type: 'dispute.created', disputeId: 'bad ref!', captureRef: won.captureRef })).status,
  ).toBe(400);
  const told = await providerSays({
    type: 'dispute.created',
    disputeId: dispute.disputeId,
    captureRef: won.captureRef,
  });
  expect(told.body).toMatchObject({ duplicate: false, applied: true });
  remember(disputeWorkflowId(dispute.disputeId));
  const record = await eventually(() => s.db('disputes').where({ provider_dispute_id: dispute.disputeId }).first());
  expect(await entry(`dispute:${record.id}:withdrawn`)).toEqual({ '1170': won.amount, '1100': -won.amount });
  expect((await getOrder(s, won.orderId)).disputes).toEqual([
    expect.objectContaining({ providerDisputeId: dispute.disputeId, status: 'needs_response', amount: won.amount }),
  ]);

  // The next payout takes the disputed amount back, with the dispute fee: matched to our withdrawal.
  const out = await payoutWith(dispute.disputeId);
  expect(out.lines.find((l) => l.ref === dispute.disputeId)).toEqual({
    kind: 'dispute',
    ref: dispute.disputeId,
    amount: -won.amount,
    fee: SANDBOX_FEES.dispute,
  });
  await providerSays({ type: 'payout.paid', payoutId: out.payoutId });
  expect((await s.client.workflow.getHandle(settlementWorkflowId(out.payoutId)).result()).mismatches).toEqual([]);

  const evidence = await openCase('payment_dispute', 'disputeId', record.id);
  expect(
    (await resolve(evidence.id, 'submit_evidence', 'Delivered to the cardholder, tracking 1Z999 signed')).status,
  ).toBe(200);
  expect(await s.client.workflow.getHandle(disputeWorkflowId(dispute.disputeId)).result()).toMatchObject({
    outcome: 'won',
    how: 'evidence',
  });
  expect(await entry(`dispute:${record.id}:won`)).toEqual({ '1100': won.amount, '1170': -won.amount });
  expect((await getOrder(s, won.orderId)).disputes[0]).toMatchObject({ status: 'won' });
  // Decided already: the provider's late word changes nothing.
  expect(
    (await providerSays({ type: 'dispute.closed', disputeId: dispute.disputeId, outcome: 'lost' })).body,
  ).toMatchObject({
    applied: false,
  });
  const back = await payoutWith(dispute.disputeId);
  expect(back.lines.find((l) => l.ref === dispute.disputeId)).toMatchObject({
    kind: 'dispute_reversal',
    amount: won.amount,
  });
  await providerSays({ type: 'payout.paid', payoutId: back.payoutId });
  expect((await s.client.workflow.getHandle(settlementWorkflowId(back.payoutId)).result()).mismatches).toEqual([]);

  // Accepted by finance: lost, booked as a chargeback loss.
  const accepted = await soldOrder(1800);
  const d2 = await openSandboxChargeback(s.db, { captureRef: accepted.captureRef, reason: 'product_not_received' });
  await providerSays({ type: 'dispute.created', disputeId: d2.disputeId, captureRef: accepted.captureRef });
  remember(disputeWorkflowId(d2.disputeId));
  const r2 = await eventually(() => s.db('disputes').where({ provider_dispute_id: d2.disputeId }).first());
  expect((await resolve((await openCase('payment_dispute', 'disputeId', r2.id)).id, 'accept')).status).toBe(200);
  expect(await s.client.workflow.getHandle(disputeWorkflowId(d2.disputeId)).result()).toMatchObject({
    outcome: 'lost',
    how: 'accepted',
  });
  expect(await entry(`dispute:${r2.id}:lost`)).toEqual({ '6200': accepted.amount, '1170': -accepted.amount });
  seen.lost = accepted;

  // Nobody answers before the evidence deadline: the case closes itself and the chargeback stands.
  const late = await soldOrder(900);
  const d3 = await openSandboxChargeback(s.db, {
    captureRef: late.captureRef,
    reason: 'fraudulent',
    evidenceDays: 3 / 86_400,
  });
  await providerSays({ type: 'dispute.created', disputeId: d3.disputeId, captureRef: late.captureRef });
  remember(disputeWorkflowId(d3.disputeId));
  expect(await s.client.workflow.getHandle(disputeWorkflowId(d3.disputeId)).result()).toMatchObject({
    outcome: 'lost',
    how: 'deadline',
  });
  const r3 = await s.db('disputes').where({ provider_dispute_id: d3.disputeId }).first();
  const closed = await s
    .db('exceptions')
    .where({ type: 'payment_dispute' })
    .whereRaw(`details->>'disputeId' = ?`, [r3.id])
    .first();
  expect(closed.status).toBe('closed');
  expect(await entry(`dispute:${r3.id}:lost`)).toEqual({ '6200': late.amount, '1170': -late.amount });
  await invariantsHold();
});

test('a payout that takes a chargeback we have not heard of yet: held, then matched once the dispute arrives', async () => {
  const o = await soldOrder(1100);
  const d = await openSandboxChargeback(s.db, { captureRef: o.captureRef, reason: 'duplicate' });
  const p = await payoutWith(d.disputeId);
  await providerSays({ type: 'payout.paid', payoutId: p.payoutId });
  remember(settlementWorkflowId(p.payoutId));
  const gap = await openCase('settlement_mismatch', 'ref', d.disputeId);
  expect(gap.summary).toContain('matches nothing of ours');
  await providerSays({ type: 'dispute.created', disputeId: d.disputeId, captureRef: o.captureRef });
  remember(disputeWorkflowId(d.disputeId));
  const record = await eventually(() => s.db('disputes').where({ provider_dispute_id: d.disputeId }).first());
  expect((await resolve(gap.id, 'wait')).status).toBe(200);
  const result = await s.client.workflow.getHandle(settlementWorkflowId(p.payoutId)).result();
  expect(result.mismatches.map((m: { outcome: string }) => m.outcome)).toEqual(['matched']);
  const mismatch = await s.db('settlement_mismatches').where({ id: result.mismatches[0].mismatchId }).first();
  expect(mismatch.status).toBe('matched');
  expect(await entry(`settlement_rematch:${mismatch.id}`)).toEqual({ '1150': -o.amount, '1100': o.amount });
  expect((await resolve((await openCase('payment_dispute', 'disputeId', record.id)).id, 'accept')).status).toBe(200);
  await s.client.workflow.getHandle(disputeWorkflowId(d.disputeId)).result();
  await invariantsHold();
});

test("a marketplace's statement: each shipped order at what the buyer paid, less commission and fee; an order not ours is a case", async () => {
  const de = await s.db('tax_rates').where({ country: 'DE', region: '' }).first('rate_bp');
  const market = await startSandboxMarketplace({ ratePerSecond: 100, taxRates: { DE: de?.rate_bp ?? 0 } });
  const code = unique('mks').toLowerCase();
  const channel = (connection?: object) =>
    s.call('POST', '/v1/channels', {
      key: s.keys.ops,
      body: {
        channels: [{ code, name: 'Statement market', kind: connection ? 'marketplace' : 'webshop', connection }],
      },
    });
  try {
    const sku = await stockedSku(s.db, { EAST: 5 });
    expect(
      (
        await channel({
          endpoint: market.url,
          credentialsRef: 'SANDBOX_MARKET_KEY',
          ratePerSecond: 100,
          pollSeconds: 1,
        })
      ).status,
    ).toBe(200);
    const mo = market.placeOrder({
      buyer: { email: 'statement@example.com', name: 'Stella' },
      shipTo: { name: 'Stella', line1: 'Hauptstr. 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
      lines: [{ sku, quantity: 2, unitPrice: 1500 }],
      shippingPrice: 490,
    });
    const here = await eventually<{ id: string }>(
      () =>
        s
          .db('sales_orders as o')
          .join('channels as c', 'c.id', 'o.channel_id')
          .where({ 'c.code': code, 'o.external_ref': mo.orderId })
          .first('o.id'),
      30_000,
      'the marketplace order to come in',
    );
    await shipAll(s, await waitFor(s, here.id, 'fulfilling'), 'shipped');
    await eventually(async () => market.orders.get(mo.orderId)!.status === 'shipped', 30_000, 'the parcel confirmed');
    // The warehouse is answered before the invoice and the capture: wait for the capture, not for the answer.
    const captured = await eventually(
      async () =>
        Number(
          (
            await s
              .db('payments')
              .where({ order_id: here.id, kind: 'capture', status: 'succeeded' })
              .sum({ t: 'amount' })
          )[0].t,
        ) || undefined,
      30_000,
      'the capture',
    );

    const statement = market.payOut({
      extraLines: [{ kind: 'order', ref: 'MO-999999', amount: 777, fee: 30, commission: 0 }],
    })!;
    const line = statement.lines.find((l) => l.ref === mo.orderId)!;
    expect(line.amount).toBe(captured); // the marketplace charged what we invoiced, tax included
    expect((await importNow()).started).toContain(statement.payoutId);
    remember(settlementWorkflowId(statement.payoutId, code));
    const settled = await settlementOf(statement.payoutId);
    expect(settled.source).toBe(`marketplace:${code}`);
    expect(await entry(`settlement:marketplace:${code}:${statement.payoutId}`)).toEqual({
      '1000': statement.net,
      '6100': line.fee + 30,
      '6300': line.commission,
      '1150': -777,
      '1100': -captured,
    });
    const gap = await openCase('settlement_mismatch', 'ref', 'MO-999999');
    expect((await resolve(gap.id, 'write_off')).status).toBe(200);
    const result = await s.client.workflow.getHandle(settlementWorkflowId(statement.payoutId, code)).result();
    expect(result.mismatches.map((m: { outcome: string }) => m.outcome)).toEqual(['written_off']);
    seen.market = { orderId: here.id, commission: line.commission!, fee: line.fee };
    await invariantsHold();
  } finally {
    await channel(); // disconnected: its sync ends
    await s.client.workflow.getHandle(`channel-sync-${code}`).result();
    await market.stop();
  }
});

test('the margin report carries payout fees and chargeback losses to their orders, and agrees with the ledger', async () => {
  const until = new Date();
  await new Promise((r) => setTimeout(r, 1500)); // entries of other files posted before `until` have committed
  const ledger = await marginAccountTotals(s.db, started, until);
  const r = await s.call(
    'GET',
    `/v1/reports/margins?by=order&from=${started.toISOString()}&to=${until.toISOString()}`,
    {
      key: s.keys.finance,
    },
  );
  expect(r.status).toBe(200);
  expect(r.body.totals.fees).toBe((ledger['6100'] ?? 0) + (ledger['6200'] ?? 0));
  expect(r.body.rows.reduce((x: number, row: { fees: number }) => x + row.fees, 0)).toBe(r.body.totals.fees);
  const row = (orderId: string) => r.body.rows.find((x: { key: string }) => x.key === orderId);
  expect(row(seen.paid!.orderId).fees).toBe(captureFee(seen.paid!.amount));
  // The order lost to a chargeback: its capture fee (if paid out meanwhile) and the loss.
  expect(row(seen.lost!.orderId).fees).toBeGreaterThanOrEqual(seen.lost!.amount);
  expect(row(seen.market!.orderId)).toMatchObject({ commission: seen.market!.commission, fees: seen.market!.fee });
  expect(r.body.totals.commission).toBe(ledger['6300'] ?? 0);
  expect(row(seen.paid!.orderId).margin).toBe(
    row(seen.paid!.orderId).revenue - row(seen.paid!.orderId).costOfGoods - captureFee(seen.paid!.amount),
  );
});
