/** Every branch of order-to-cash, on the real Temporal dev server and Postgres. */
import { createHmac } from 'node:crypto';
import { kitSku, stockedSku } from '../helpers/fixtures';
import { event, getOrder, place, recordHistories, setCount, shipAll, waitFor } from '../helpers/orders';
import { eventually, startStack, Stack } from '../helpers/stack';

let s: Stack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(async () => {
  try {
    await recordHistories(s, 'branches');
  } finally {
    await s?.stop();
  }
});

const stockOf = async (sku: string) => (await s.call('GET', `/v1/inventory/${sku}`, { key: s.keys.ops })).body.total;
const kinds = (o: any) => o.payments.map((p: any) => `${p.kind}:${p.status}:${p.amount}`);

describe('payment', () => {
  test('a declined card cancels the order and gives the stock back', async () => {
    const sku = await stockedSku(s.db, { EAST: 5 });
    const { orderId } = await place(s, [{ sku, quantity: 2 }], { payment: { method: 'card', token: 'tok_decline' } });
    const o = await waitFor(s, orderId, 'cancelled');
    expect(o.cancelReason).toMatch(/payment declined: card declined/);
    expect(kinds(o)).toEqual(['authorization:failed:2975']); // (2 x 1000 + 500 shipping) + 19 % VAT
    expect(o.reservations.every((r: any) => r.state === 'released')).toBe(true);
    expect(await stockOf(sku)).toMatchObject({ onHand: 5, reserved: 0, available: 5 });
  });

  test('a provider that times out is retried with the same key and charges once', async () => {
    const sku = await stockedSku(s.db, { EAST: 5 });
    const { orderId } = await place(s, [{ sku, quantity: 1 }], { payment: { method: 'card', token: 'tok_flaky' } });
    const o = await waitFor(s, orderId, 'fulfilling', undefined, 60000);
    expect(kinds(o)).toEqual(['authorization:succeeded:1785']);
    const provider = await s.db('sandbox_payment_ledger').where({ idempotency_key: `${orderId}:authorize` });
    expect(provider).toHaveLength(1);
    const attempts = await s
      .db('sandbox_payment_attempts')
      .where({ idempotency_key: `${orderId}:authorize` })
      .first();
    expect(attempts.attempts).toBe(3);
  });
});

describe('fraud review', () => {
  test('held, then released by ops, then fulfilled', async () => {
    const sku = await stockedSku(s.db, { EAST: 5 });
    const { orderId } = await place(s, [{ sku, quantity: 1 }], { payment: { method: 'card', token: 'tok_review' } });
    const held = await waitFor(s, orderId, 'on_hold', (o) => o.process.waitingFor !== null);
    expect(held.process.waitingFor).toMatch(/payment review/);
    expect((await stockOf(sku)).reserved).toBe(0); // nothing is held for an order under review
    const r = await s.call('POST', `/v1/orders/${orderId}/review`, {
      key: s.keys.ops,
      body: { decision: 'release', note: 'known customer' },
    });
    expect(r.status).toBe(200);
    const o = await waitFor(s, orderId, 'fulfilling');
    expect(o.process.timeline.map((t: any) => t.step)).toContain('released from payment review');
    const again = await s.call('POST', `/v1/orders/${orderId}/review`, {
      key: s.keys.ops,
      body: { decision: 'release' },
    });
    expect(again.status).toBe(409);
  });

  test('held and never decided: cancelled when the review times out', async () => {
    const sku = await stockedSku(s.db, { EAST: 5 });
    const { orderId } = await place(s, [{ sku, quantity: 1 }], { payment: { method: 'card', token: 'tok_review' } });
    await waitFor(s, orderId, 'on_hold');
    const o = await waitFor(s, orderId, 'cancelled', undefined, 20000);
    expect(o.cancelReason).toBe('payment review was not decided in time');
    expect(o.payments).toEqual([]);
  });

  test('the provider rejects the review through its signed webhook', async () => {
    const sku = await stockedSku(s.db, { EAST: 5 });
    const { orderId } = await place(s, [{ sku, quantity: 1 }], { payment: { method: 'card', token: 'tok_review' } });
    await waitFor(s, orderId, 'on_hold');
    const raw = JSON.stringify({
      eventId: `evt-${orderId}`,
      sentAt: new Date().toISOString(),
      type: 'review.rejected',
      orderId,
    });
    const sig = `sha256=${createHmac('sha256', s.config.WEBHOOK_SECRET).update(raw).digest('hex')}`;
    const bad = await s.call('POST', '/v1/webhooks/payments', {
      key: null,
      raw,
      headers: { 'x-signature': 'sha256=00' },
    });
    expect(bad.status).toBe(401);
    const ok = await s.call('POST', '/v1/webhooks/payments', { key: null, raw, headers: { 'x-signature': sig } });
    expect(ok.body).toMatchObject({ duplicate: false, applied: true });
    const repeat = await s.call('POST', '/v1/webhooks/payments', { key: null, raw, headers: { 'x-signature': sig } });
    expect(repeat.body).toMatchObject({ duplicate: true });
    const o = await waitFor(s, orderId, 'cancelled');
    expect(o.cancelReason).toBe('rejected in payment review');
  });
});

describe('stock shortage', () => {
  test('ship_available: ships what is there, backorders the rest, and ships it when stock arrives', async () => {
    const sku = await stockedSku(s.db, { EAST: 3 });
    const { orderId } = await place(s, [{ sku, quantity: 5, unitPrice: 999 }], { backorderPolicy: 'ship_available' });
    const first = await waitFor(s, orderId, 'backordered', (o) => o.shipments.length === 1);
    expect(first.shipments[0].lines).toEqual([{ sku, quantity: 3 }]);
    await shipAll(s, first, 'shipped');
    await waitFor(s, orderId, 'backordered', (o) => o.invoices.length === 1);
    const counted = await setCount(s, 'EAST', sku, 4); // 0 left after shipping 3; a count finds 4
    expect(counted.status).toBe(201);
    expect(counted.body).toMatchObject({ previousQuantity: 0, difference: 4, ordersNotified: 1 });
    const second = await waitFor(s, orderId, 'fulfilling', (o) => o.shipments.length === 2);
    await shipAll(s, second);
    expect((await event(s, first.shipments[0].shipmentId, 'delivered')).status).toBe(200);
    const done = await waitFor(s, orderId, 'completed');
    const captured = done.payments
      .filter((p: any) => p.kind === 'capture')
      .reduce((t: number, p: any) => t + p.amount, 0);
    const authorised = done.payments.find((p: any) => p.kind === 'authorization').amount;
    expect(done.invoices).toHaveLength(2);
    expect(captured).toBe(authorised); // partial invoices add up exactly, tax included
    expect(await stockOf(sku)).toMatchObject({ onHand: 2, reserved: 0 });
  });

  test('ship_available: the backorder is cancelled when stock never arrives, and the rest of the authorisation is voided', async () => {
    const sku = await stockedSku(s.db, { EAST: 1 });
    const { orderId } = await place(s, [{ sku, quantity: 3, unitPrice: 1000 }], {
      backorderPolicy: 'ship_available',
      shippingPrice: 0,
    });
    const o = await waitFor(s, orderId, 'backordered', (x) => x.shipments.length === 1);
    await shipAll(s, o);
    const done = await waitFor(s, orderId, 'completed', undefined, 30000);
    expect(done.lines[0]).toMatchObject({ quantity: 3, quantityShipped: 1, quantityCancelled: 2 });
    expect(kinds(done)).toEqual(['authorization:succeeded:3570', 'capture:succeeded:1190', 'void:succeeded:2380']);
  });

  test('wait: holds the whole order until stock arrives, then ships it in one go', async () => {
    const sku = await stockedSku(s.db, { EAST: 1 });
    const { orderId } = await place(s, [{ sku, quantity: 2 }], { backorderPolicy: 'wait' });
    const waiting = await waitFor(s, orderId, 'backordered');
    expect(waiting.reservations).toEqual([]); // all or nothing: nothing held meanwhile
    expect(waiting.process.waitingFor).toBe('stock for every line');
    await setCount(s, 'EAST', sku, 2);
    const o = await waitFor(s, orderId, 'fulfilling');
    expect(o.shipments).toHaveLength(1);
    expect(o.shipments[0].lines).toEqual([{ sku, quantity: 2 }]);
  });

  test('wait: past its wait the shortage becomes a case; ops cancel it', async () => {
    const sku = await stockedSku(s.db, { EAST: 1 });
    const { orderId } = await place(s, [{ sku, quantity: 2 }], { backorderPolicy: 'wait' });
    const held = await waitFor(
      s,
      orderId,
      'backordered',
      (o) => o.exceptions.some((e: any) => e.type === 'stock_shortage'),
      30000,
    );
    expect(held.process.waitingFor).toBe('a decision on the stock shortage (exception case), or stock');
    const caseId = held.exceptions[0].exceptionId;
    expect(
      (
        await s.call('POST', `/v1/exceptions/${caseId}/resolution`, {
          key: s.keys.ops,
          body: { action: 'cancel', note: 'supplier has none' },
        })
      ).status,
    ).toBe(200);
    const o = await waitFor(s, orderId, 'cancelled', undefined, 30000);
    expect(o.cancelReason).toBe('stock did not arrive in time: supplier has none');
    expect(await stockOf(sku)).toMatchObject({ onHand: 1, reserved: 0 });
  });

  test('wait: ops choose to keep waiting; past the next wait a new case asks again', async () => {
    const sku = await stockedSku(s.db, { EAST: 1 });
    const { orderId } = await place(s, [{ sku, quantity: 2 }], { backorderPolicy: 'wait' });
    const held = await waitFor(s, orderId, 'backordered', (o) => o.exceptions.length === 1, 30000);
    expect(
      (
        await s.call('POST', `/v1/exceptions/${held.exceptions[0].exceptionId}/resolution`, {
          key: s.keys.ops,
          body: { action: 'keep_waiting', note: 'stock due next week' },
        })
      ).status,
    ).toBe(200);
    const again = await waitFor(
      s,
      orderId,
      'backordered',
      (o) => o.exceptions.length === 1 && o.exceptions[0].exceptionId !== held.exceptions[0].exceptionId,
      30000,
    );
    expect(again.process.timeline.map((t: any) => t.step)).toContain('waiting longer for stock');
    expect(
      (await s.call('POST', `/v1/orders/${orderId}/cancel`, { key: s.keys.ops, body: { reason: 'test over' } })).status,
    ).toBe(202);
    await waitFor(s, orderId, 'cancelled');
  });

  test('wait: the stock arrives while the shortage case is open, and the case closes itself', async () => {
    const sku = await stockedSku(s.db, { EAST: 1 });
    const { orderId } = await place(s, [{ sku, quantity: 2 }], { backorderPolicy: 'wait' });
    const held = await waitFor(
      s,
      orderId,
      'backordered',
      (o) => o.exceptions.some((e: any) => e.type === 'stock_shortage'),
      30000,
    );
    expect((await setCount(s, 'EAST', sku, 2)).status).toBe(201);
    await waitFor(s, orderId, 'fulfilling');
    const closed = await eventually(
      async () => {
        const c = (await s.call('GET', `/v1/exceptions/${held.exceptions[0].exceptionId}`, { key: s.keys.ops })).body;
        return c.status === 'closed' ? c : undefined;
      },
      10000,
      'self-closing',
    );
    expect(closed.resolution).toBe('closed by itself: the stock arrived');
  });

  test('cancel: an order that cannot be filled completely is cancelled at once', async () => {
    const sku = await stockedSku(s.db, { EAST: 1, WEST: 1 });
    const { orderId } = await place(s, [{ sku, quantity: 3 }], { backorderPolicy: 'cancel' });
    const o = await waitFor(s, orderId, 'cancelled');
    expect(o.cancelReason).toBe('out of stock');
    expect(o.payments).toEqual([]);
  });

  test('kits: demand for a shared component is summed over all lines before reserving', async () => {
    const a = await stockedSku(s.db, { EAST: 2 });
    const b = await stockedSku(s.db, { EAST: 5 });
    const kit = await kitSku(s.db, [
      { sku: a, quantity: 1 },
      { sku: b, quantity: 1 },
    ]);
    // 2 kits need 2 of A; the single A on line 2 makes 3: more than the 2 in stock.
    const short = await place(
      s,
      [
        { sku: kit, quantity: 2 },
        { sku: a, quantity: 1 },
      ],
      { backorderPolicy: 'cancel' },
    );
    expect((await waitFor(s, short.orderId, 'cancelled')).cancelReason).toBe('out of stock');
    const fits = await place(
      s,
      [
        { sku: kit, quantity: 1 },
        { sku: a, quantity: 1 },
      ],
      { backorderPolicy: 'cancel' },
    );
    const o = await waitFor(s, fits.orderId, 'fulfilling');
    expect(o.reservations.map((r: any) => `${r.sku}:${r.quantity}`).sort()).toEqual(
      [`${a}:1`, `${a}:1`, `${b}:1`].sort(),
    );
    await shipAll(s, o);
    await waitFor(s, fits.orderId, 'completed');
    expect(await stockOf(a)).toMatchObject({ onHand: 0, reserved: 0 });
    expect(await stockOf(kit)).toMatchObject({ onHand: 0, available: 0 });
  });
});

describe('allocation across warehouses', () => {
  test('one warehouse that has everything wins over a split, even with lower priority', async () => {
    const x = await stockedSku(s.db, { EAST: 1, WEST: 3 });
    const y = await stockedSku(s.db, { EAST: 2, WEST: 2 });
    const { orderId } = await place(s, [
      { sku: x, quantity: 2 },
      { sku: y, quantity: 2 },
    ]);
    const o = await waitFor(s, orderId, 'fulfilling');
    expect(o.shipments.map((sh: any) => sh.warehouse)).toEqual(['WEST']);
  });

  test('a split order ships from two warehouses with a partial capture for each', async () => {
    const sku = await stockedSku(s.db, { EAST: 2, WEST: 3 });
    const { orderId } = await place(s, [{ sku, quantity: 5, unitPrice: 333 }]);
    const o = await waitFor(s, orderId, 'fulfilling');
    expect(o.shipments.map((sh: any) => `${sh.warehouse}:${sh.lines[0].quantity}`)).toEqual(['EAST:2', 'WEST:3']);
    await shipAll(s, { shipments: [o.shipments[0]] });
    const partial = await waitFor(s, orderId, 'fulfilling', (x) => x.invoices.length === 1 && x.payments.length === 2);
    expect(partial.payments[1]).toMatchObject({ kind: 'capture', amount: partial.invoices[0].total });
    await shipAll(s, { shipments: [o.shipments[1]] });
    const done = await waitFor(s, orderId, 'completed');
    const captures = done.payments.filter((p: any) => p.kind === 'capture').map((p: any) => p.amount);
    expect(captures).toHaveLength(2);
    expect(captures[0] + captures[1]).toBe(done.totals.total);
  });
});

describe('cancellation and address changes', () => {
  test('cancel before shipping releases stock and voids the authorisation', async () => {
    const sku = await stockedSku(s.db, { EAST: 4 });
    const { orderId } = await place(s, [{ sku, quantity: 4 }]);
    await waitFor(s, orderId, 'fulfilling');
    expect((await stockOf(sku)).reserved).toBe(4);
    const r = await s.call('POST', `/v1/orders/${orderId}/cancel`, {
      key: s.keys.storefront,
      body: { reason: 'customer changed their mind' },
    });
    expect(r.status).toBe(202);
    const o = await waitFor(s, orderId, 'cancelled');
    expect(o.shipments[0].status).toBe('cancelled');
    expect(kinds(o)).toEqual(['authorization:succeeded:5355', 'void:succeeded:5355']);
    expect(await stockOf(sku)).toMatchObject({ onHand: 4, reserved: 0 });
    const late = await event(s, o.shipments[0].shipmentId, 'picked');
    expect(late.status).toBe(409);
  });

  test('cancel and address change are refused once a shipment has left', async () => {
    const sku = await stockedSku(s.db, { EAST: 1, WEST: 1 });
    const { orderId } = await place(s, [{ sku, quantity: 2 }]);
    const o = await waitFor(s, orderId, 'fulfilling', (x) => x.shipments.length === 2);
    const moved = await s.call('PUT', `/v1/orders/${orderId}/shipping-address`, {
      key: s.keys.storefront,
      body: { name: 'Ada', line1: 'Neue Str. 5', city: 'Hamburg', postalCode: '20095', country: 'DE' },
    });
    expect(moved.status).toBe(200);
    expect(moved.body.city).toBe('Hamburg');
    expect((await getOrder(s, orderId)).shippingAddress.city).toBe('Hamburg');
    await shipAll(s, { shipments: [o.shipments[0]] }, 'shipped');
    await waitFor(s, orderId, 'fulfilling', (x) => x.invoices.length === 1);
    const cancel = await s.call('POST', `/v1/orders/${orderId}/cancel`, {
      key: s.keys.ops,
      body: { reason: 'too late' },
    });
    expect(cancel.status).toBe(409);
    expect(cancel.body.error.message).toMatch(/already left/);
    const address = await s.call('PUT', `/v1/orders/${orderId}/shipping-address`, {
      key: s.keys.storefront,
      body: { name: 'Ada', line1: 'X 1', city: 'Bonn', postalCode: '53111', country: 'DE' },
    });
    expect(address.status).toBe(409);
    expect((await getOrder(s, orderId)).shippingAddress.city).toBe('Hamburg');
  });

  test('a delivered event before shipped still dispatches, invoices and captures once', async () => {
    const sku = await stockedSku(s.db, { EAST: 1 });
    const { orderId } = await place(s, [{ sku, quantity: 1 }]);
    const o = await waitFor(s, orderId, 'fulfilling');
    await event(s, o.shipments[0].shipmentId, 'delivered');
    const done = await waitFor(s, orderId, 'completed');
    expect(done.invoices).toHaveLength(1);
    expect(done.payments.filter((p: any) => p.kind === 'capture')).toHaveLength(1);
    expect(done.shipments[0].status).toBe('delivered');
  });

  test('the signed carrier webhook drives a shipment by tracking number, once per event id', async () => {
    const sku = await stockedSku(s.db, { EAST: 1 });
    const { orderId } = await place(s, [{ sku, quantity: 1 }]);
    const o = await waitFor(s, orderId, 'fulfilling');
    await shipAll(s, o, 'shipped');
    const shipped = await waitFor(s, orderId, 'shipped');
    const send = (raw: string) =>
      s.call('POST', '/v1/webhooks/carriers', {
        key: null,
        raw,
        headers: { 'x-signature': `sha256=${createHmac('sha256', s.config.WEBHOOK_SECRET).update(raw).digest('hex')}` },
      });
    const stale = JSON.stringify({
      eventId: `c-${orderId}-0`,
      sentAt: new Date(Date.now() - 3600_000).toISOString(),
      type: 'delivered',
      trackingNumber: shipped.shipments[0].trackingNumber,
    });
    expect((await send(stale)).status).toBe(401);
    const raw = JSON.stringify({
      eventId: `c-${orderId}`,
      sentAt: new Date().toISOString(),
      type: 'delivered',
      trackingNumber: shipped.shipments[0].trackingNumber,
    });
    expect((await send(raw)).body).toMatchObject({ duplicate: false, applied: true });
    expect((await send(raw)).body).toMatchObject({ duplicate: true });
    await waitFor(s, orderId, 'completed');
    expect(
      await s.db('shipment_events').where({ shipment_id: o.shipments[0].shipmentId, type: 'delivered' }),
    ).toHaveLength(1);
  });
});

test('engineers can find an order by its search attributes', async () => {
  const sku = await stockedSku(s.db, { EAST: 1 });
  const { orderId, workflowId } = await place(s, [{ sku, quantity: 1 }]);
  await waitFor(s, orderId, 'fulfilling');
  const found = await eventually(
    async () => {
      const ids: string[] = [];
      for await (const w of s.client.workflow.list({ query: `OrderId = '${orderId}' AND OrderStage = 'fulfilling'` }))
        ids.push(w.workflowId);
      return ids.length ? ids : undefined;
    },
    20000,
    'visibility',
  );
  expect(found).toEqual([workflowId]);
});
