/**
 * Every branch of order-to-cash with stubbed activities (fast layer; the end-to-end tests in tests/e2e run
 * the real activities against Postgres). Asserts the outcome and the side effects the process asked for.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { orderToCash } from '../../workflows/order-to-cash';
import {
  cancelUpdate,
  processQuery,
  reviewUpdate,
  shipmentEventSignal,
  shipmentEventUpdate,
  stockAvailableSignal,
} from '../../contracts/order-messages';
import { reportToProcess } from '../../api/process';
import type { BackorderPolicy, OrderToCashInput, ShipmentEvent, ShipmentEventType } from '../../contracts/order-types';
import { caseStubs, queryUntil, startHarness, type Harness, type Stubs } from './harness';

let h: Harness;
beforeAll(async () => (h = await startHarness()));
afterAll(async () => h?.stop());

const input = (backorderPolicy: BackorderPolicy = 'ship_available'): OrderToCashInput => ({
  orderId: randomUUID(),
  channel: 'web',
  externalRef: `T-${randomUUID().slice(0, 6)}`,
  customerEmail: 'a@example.com',
  backorderPolicy,
  payment: { method: 'card', token: 'tok_ok' },
  timings: {
    riskReviewTimeout: '2s',
    backorderWaitTimeout: '1s',
    backorderRecheckInterval: '200ms',
    fulfilmentTimeout: '1h',
  },
});

/** The happy path's activities; a test overrides what its branch needs. */
function happy(over: Stubs = {}): Stubs {
  let shipmentNo = 0;
  return {
    ...caseStubs(),
    assessRisk: () => 'ok',
    validateAddress: () => ({ valid: true }),
    setOrderStatus: () => undefined,
    reserveStock: () => ({ readyToShip: 2, shortUnits: 0 }),
    authorizePayment: () => ({ approved: true }),
    createShipments: () => [{ shipmentId: `S-${++shipmentNo}`, warehouse: 'MAIN' }],
    recordShipmentProgress: () => undefined,
    dispatchShipment: () => undefined,
    invoiceShipment: () => ({ number: 'INV-1', invoiceId: 'inv-1' }),
    capturePayment: () => ({ captured: 100, authorisationLeft: 20 }), // a shipping fee not invoiced, say
    voidAuthorization: () => undefined,
    cancelOrder: () => undefined,
    refuseCancel: () => undefined,
    cancelUnallocated: () => undefined,
    ...over,
  };
}

const report = (
  handle: WorkflowHandle,
  shipmentId: string,
  type: ShipmentEventType,
  extra: Partial<ShipmentEvent> = {},
) => handle.executeUpdate(shipmentEventUpdate, { args: [{ shipmentId, type, ...extra }] });

test('happy path: reserved, authorised, shipped, invoiced, captured, delivered: completed', async () => {
  h.use(happy());
  const handle = await h.start(orderToCash, [input()]);
  await queryUntil(
    () => handle.query(processQuery),
    (s) => s.stage === 'fulfilling',
  );
  const shipped = await report(handle, 'S-1', 'shipped', { carrier: 'DHL', trackingNumber: 'T1' });
  expect(shipped).toMatchObject({ applied: true, shipmentStatus: 'shipped' });
  await report(handle, 'S-1', 'delivered');
  expect(await handle.result()).toEqual({ status: 'completed' });
  expect(h.called('cancelOrder')).toEqual([]); // everything shipped: nothing to close
  expect(h.called('voidAuthorization')).toHaveLength(1); // the rest of the authorisation is released
  // Each stage people see is written by the step that leads to it, not by a step of its own.
  expect(h.called('setOrderStatus')).toEqual([]);
  expect(h.called('reserveStock')).toEqual([
    expect.objectContaining({ status: { whenReserved: 'reserved', whenShort: 'backordered' } }),
  ]);
  expect(h.called('createShipments')).toEqual([expect.objectContaining({ wave: 1, status: 'fulfilling' })]);
  expect(h.called('capturePayment')).toEqual([{ orderId: expect.any(String), invoiceId: 'inv-1', status: 'shipped' }]);
  expect(h.called('voidAuthorization')).toEqual([{ orderId: expect.any(String), status: 'completed' }]);
});

test('an order whose capture used the whole authorisation closes without a void: completed is its only step', async () => {
  h.use(happy({ capturePayment: () => ({ captured: 120, authorisationLeft: 0 }) }));
  const handle = await h.start(orderToCash, [input()]);
  await queryUntil(
    () => handle.query(processQuery),
    (s) => s.stage === 'fulfilling',
  );
  await report(handle, 'S-1', 'shipped', { carrier: 'DHL', trackingNumber: 'T1' });
  await report(handle, 'S-1', 'delivered');
  expect(await handle.result()).toEqual({ status: 'completed' });
  expect(h.called('voidAuthorization')).toEqual([]);
  expect(h.called('setOrderStatus')).toEqual([{ orderId: expect.any(String), status: 'completed' }]);
});

test('a declined payment is compensated once: reservations back, authorisation voided, no shipment', async () => {
  h.use(happy({ authorizePayment: () => ({ approved: false, reason: 'insufficient funds' }) }));
  const handle = await h.start(orderToCash, [input()]);
  expect(await handle.result()).toEqual({ status: 'cancelled', reason: 'payment declined: insufficient funds' });
  expect(h.calls.map((c) => c.name).slice(-2)).toEqual(['voidAuthorization', 'cancelOrder']); // cancelled: nothing held
  expect(h.called('createShipments')).toEqual([]);
});

test("out of stock with policy 'cancel': cancelled before payment is touched", async () => {
  h.use(happy({ reserveStock: () => ({ readyToShip: 0, shortUnits: 3 }) }));
  const handle = await h.start(orderToCash, [input('cancel')]);
  expect(await handle.result()).toEqual({ status: 'cancelled', reason: 'out of stock' });
  expect(h.called('authorizePayment')).toEqual([]);
});

test('payment review released by ops: the order goes on, the review case closes itself', async () => {
  h.use(happy({ assessRisk: () => 'review' }));
  const handle = await h.start(orderToCash, [input()]);
  await queryUntil(
    () => handle.query(processQuery),
    (s) => s.waitingFor === 'payment review decision (ops)',
  );
  await handle.executeUpdate(reviewUpdate, { args: [{ decision: 'release' }] });
  await queryUntil(
    () => handle.query(processQuery),
    (s) => s.stage === 'fulfilling',
  );
  expect(h.called('closeCase')).toEqual([
    { exceptionId: expect.any(String), reason: 'decided through the review endpoint' },
  ]);
  await expect(handle.executeUpdate(reviewUpdate, { args: [{ decision: 'cancel' }] })).rejects.toThrow(
    WorkflowUpdateFailedError,
  );
  await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'test over' }] });
  expect(await handle.result()).toMatchObject({ status: 'cancelled' });
});

test('payment review nobody decides in time: cancelled', async () => {
  h.use(happy({ assessRisk: () => 'review' }));
  const handle = await h.start(orderToCash, [input()]);
  expect(await handle.result()).toEqual({ status: 'cancelled', reason: 'payment review was not decided in time' });
  expect(h.called('reserveStock')).toEqual([]);
});

test('payment review rejected through its exception case: cancelled', async () => {
  h.use(happy({ assessRisk: () => 'review' }));
  const handle = await h.start(orderToCash, [input()]);
  await h.resolveCase('payment_review', 'cancel');
  expect(await handle.result()).toEqual({ status: 'cancelled', reason: 'rejected in payment review' });
});

test('an undeliverable address waits on a case; ops correct it and the order goes on', async () => {
  let checks = 0;
  h.use(
    happy({
      validateAddress: () => (++checks === 1 ? { valid: false, reason: 'no such street' } : { valid: true }),
      changeShippingAddress: (i: { address: unknown }) => i.address,
    }),
  );
  const handle = await h.start(orderToCash, [input()]);
  await queryUntil(
    () => handle.query(processQuery),
    (s) => s.stage === 'on_hold',
  );
  await h.resolveCase('invalid_address', 'correct_address', {
    address: { name: 'A', line1: '1 Road', city: 'X', postalCode: '1', country: 'GB' },
  });
  await queryUntil(
    () => handle.query(processQuery),
    (s) => s.stage === 'fulfilling',
  );
  expect(h.called('changeShippingAddress')).toHaveLength(1);
  await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'test over' }] });
  await handle.result();
});

test("backorder with policy 'wait': stock arrives by signal, the order is reserved and ships", async () => {
  let tries = 0;
  h.use(
    happy({
      reserveStock: () => (++tries < 2 ? { readyToShip: 0, shortUnits: 2 } : { readyToShip: 2, shortUnits: 0 }),
    }),
  );
  const handle = await h.start(orderToCash, [
    { ...input('wait'), timings: { ...input().timings, backorderWaitTimeout: '1h', backorderRecheckInterval: '1h' } },
  ]);
  await queryUntil(
    () => handle.query(processQuery),
    (s) => s.stage === 'backordered',
  );
  await handle.signal(stockAvailableSignal);
  await queryUntil(
    () => handle.query(processQuery),
    (s) => s.stage === 'fulfilling',
  );
  expect(tries).toBe(2); // woken by the signal, not by a timer (the recheck is an hour away)
  await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'test over' }] });
  expect(await handle.result()).toMatchObject({ status: 'cancelled', reason: 'test over' });
});

test('a stock wait past its deadline opens a shortage case; cancel there ends the order', async () => {
  h.use(happy({ reserveStock: () => ({ readyToShip: 0, shortUnits: 2 }) }));
  const handle = await h.start(orderToCash, [input('wait')]);
  await h.resolveCase('stock_shortage', 'cancel');
  expect(await handle.result()).toEqual({ status: 'cancelled', reason: 'stock did not arrive in time: test: cancel' });
});

test('cancel before anything is picked: cancelled at once; after a parcel left: refused, the process goes on', async () => {
  h.use(happy());
  const first = await h.start(orderToCash, [input()]);
  await queryUntil(
    () => first.query(processQuery),
    (s) => s.stage === 'fulfilling',
  );
  await first.executeUpdate(cancelUpdate, { args: [{ reason: 'customer changed their mind' }] });
  expect(await first.result()).toEqual({ status: 'cancelled', reason: 'customer changed their mind' });

  h.use(happy());
  const second = await h.start(orderToCash, [input()]);
  await queryUntil(
    () => second.query(processQuery),
    (s) => s.stage === 'fulfilling',
  );
  await report(second, 'S-1', 'shipped');
  await expect(second.executeUpdate(cancelUpdate, { args: [{ reason: 'too late' }] })).rejects.toThrow(
    WorkflowUpdateFailedError,
  );
  await report(second, 'S-1', 'delivered');
  expect(await second.result()).toEqual({ status: 'completed' });
});

test('cancel while the warehouse picks is a request: the warehouse stops the parcel, then the order is cancelled', async () => {
  h.use(happy());
  const handle = await h.start(orderToCash, [input()]);
  await queryUntil(
    () => handle.query(processQuery),
    (s) => s.stage === 'fulfilling',
  );
  await report(handle, 'S-1', 'picked');
  await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'customer asked' }] });
  await queryUntil(
    () => handle.query(processQuery),
    (s) => s.stage === 'cancel_requested',
  );
  expect(await report(handle, 'S-1', 'stopped')).toMatchObject({ applied: true, shipmentStatus: 'cancelled' });
  expect(await handle.result()).toEqual({ status: 'cancelled', reason: 'customer asked' });
});

test('cancel while picking, but the parcel ships: the cancel is refused and the order completes', async () => {
  h.use(happy());
  const handle = await h.start(orderToCash, [input()]);
  await queryUntil(
    () => handle.query(processQuery),
    (s) => s.stage === 'fulfilling',
  );
  await report(handle, 'S-1', 'packed');
  await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'customer asked' }] });
  await queryUntil(
    () => handle.query(processQuery),
    (s) => s.stage === 'cancel_requested',
  );
  await report(handle, 'S-1', 'shipped');
  await queryUntil(
    () => handle.query(processQuery),
    (s) => s.stage === 'shipped',
  );
  expect(h.called('refuseCancel')).toEqual([
    { orderId: expect.any(String), reason: 'a parcel had already left before the warehouse could stop it' },
  ]);
  await report(handle, 'S-1', 'delivered');
  expect(await handle.result()).toEqual({ status: 'completed' });
});

test('a carrier failure waits on a case; a reship creates a new shipment that completes the order', async () => {
  h.use(happy({ reshipShipment: () => [{ shipmentId: 'S-R', warehouse: 'MAIN', free: true }] }));
  const handle = await h.start(orderToCash, [input()]);
  await queryUntil(
    () => handle.query(processQuery),
    (s) => s.stage === 'fulfilling',
  );
  await report(handle, 'S-1', 'shipped');
  await report(handle, 'S-1', 'failed', { note: 'lost' });
  await h.resolveCase('carrier_failure', 'reship');
  await queryUntil(
    () => handle.query(processQuery),
    (s) => s.shipments.some((x) => x.shipmentId === 'S-R'),
  );
  await report(handle, 'S-R', 'shipped');
  await report(handle, 'S-R', 'delivered');
  expect(await handle.result()).toEqual({ status: 'completed' });
  expect(h.called('invoiceShipment')).toHaveLength(1); // the reship is free: invoiced once, for the first parcel
  expect(h.called('cancelOrder')).toEqual([{ orderId: expect.any(String), reason: 'some shipments failed' }]);
});

test('a short pick writes off the missing units and re-plans them', async () => {
  let tries = 0;
  h.use(
    happy({
      recordShortPick: () => ({ shipmentEmpty: false, missingUnits: 1 }),
      reserveStock: () => (++tries === 1 ? { readyToShip: 2, shortUnits: 0 } : { readyToShip: 1, shortUnits: 0 }),
    }),
  );
  const handle = await h.start(orderToCash, [input()]);
  await queryUntil(
    () => handle.query(processQuery),
    (s) => s.stage === 'fulfilling',
  );
  expect(await report(handle, 'S-1', 'picked', { lines: [{ sku: 'A', quantity: 1 }] })).toMatchObject({
    applied: true,
    shipmentStatus: 'picked',
  });
  await queryUntil(
    () => handle.query(processQuery),
    (s) => s.shipments.length === 2,
  );
  expect(tries).toBe(2);
  for (const id of ['S-1', 'S-2']) {
    await report(handle, id, 'shipped');
    await report(handle, id, 'delivered');
  }
  expect(await handle.result()).toEqual({ status: 'completed' });
});

test("a report for another order's shipment is refused with the reason, and the process keeps going", async () => {
  h.use(happy());
  const handle = await h.start(orderToCash, [input()]);
  await queryUntil(
    () => handle.query(processQuery),
    (s) => s.stage === 'fulfilling',
  );
  expect(await report(handle, 'S-404', 'packed')).toMatchObject({
    applied: false,
    reason: 'not a shipment of this order',
  });
  await expect(report(handle, 'S-1', 'stopped')).rejects.toThrow(WorkflowUpdateFailedError);
  await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'test over' }] });
  expect(await handle.result()).toMatchObject({ status: 'cancelled' });
});

test('a local step that fails for good opens an activity_failed case like an activity does; retry there completes the order', async () => {
  let invoiced = 0;
  h.use(
    happy({
      ...caseStubs(['retry', 'give_up']),
      invoiceShipment: () => {
        if (++invoiced === 1) throw ApplicationFailure.nonRetryable('tax rate missing for XX', 'TaxRateMissing');
        return { number: 'INV-1', invoiceId: 'inv-1' };
      },
    }),
  );
  const handle = await h.start(orderToCash, [input()]);
  await queryUntil(
    () => handle.query(processQuery),
    (s) => s.stage === 'fulfilling',
  );
  const shipped = report(handle, 'S-1', 'shipped', { carrier: 'DHL', trackingNumber: 'T1' });
  await h.resolveCase('activity_failed', 'retry');
  expect(h.called('openCase').find((c) => c.type === 'activity_failed')).toMatchObject({
    summary: expect.stringContaining('invoiceShipment failed for good'),
  });
  expect(await shipped).toMatchObject({ applied: true, shipmentStatus: 'shipped' });
  await report(handle, 'S-1', 'delivered');
  expect(await handle.result()).toEqual({ status: 'completed' });
  expect(invoiced).toBe(2);
  expect(h.called('capturePayment')).toHaveLength(1);
});

/** Resolves when `release()` is called: a step the test holds while reports arrive. */
function gate() {
  let release!: () => void;
  const opened = new Promise<void>((r) => (release = r));
  return { opened, release };
}

const shipmentReport = { update: shipmentEventUpdate, signal: shipmentEventSignal };

test('a report the process cannot apply at once is answered queued by the API and applied in turn', async () => {
  const held = gate(); // the capture is slow: the process applies nothing until it returns
  h.use(happy({ capturePayment: () => held.opened.then(() => ({ captured: 100, authorisationLeft: 0 })) }));
  const handle = await h.start(orderToCash, [input()]);
  try {
    await queryUntil(
      () => handle.query(processQuery),
      (s) => s.stage === 'fulfilling',
    );
    const client = h.env.client;
    const shipped = { shipmentId: 'S-1', type: 'shipped' as const, carrier: 'DHL', trackingNumber: 'T1' };
    expect(await reportToProcess(client, handle.workflowId, shipmentReport, shipped, 10_000)).toMatchObject({
      applied: true, // answered before the capture
      shipmentStatus: 'shipped',
    });
    const delivered = { shipmentId: 'S-1', type: 'delivered' as const };
    const asked = Date.now();
    expect(await reportToProcess(client, handle.workflowId, shipmentReport, delivered, 300)).toBe('queued');
    expect(Date.now() - asked).toBeLessThan(5_000); // answered at the deadline, not when the capture ends
    // Not even taken by the server within its deadline (here 1 ms): it goes in as a signal, queued the same way.
    expect(await reportToProcess(client, handle.workflowId, shipmentReport, delivered, 1)).toBe('queued');
    // A signal that arrives during a workflow task is written to the history when the task completes.
    const signals = async () =>
      (await handle.fetchHistory()).events!.filter((e) => e.workflowExecutionSignaledEventAttributes).length;
    expect(await queryUntil(signals, (n) => n > 0)).toBeGreaterThanOrEqual(1);
  } finally {
    held.release(); // a failed expectation must not leave the worker waiting on the capture at shutdown
  }
  expect(await handle.result()).toEqual({ status: 'completed' });
  expect(h.called('recordShipmentProgress')).toEqual([{ shipmentId: 'S-1', type: 'delivered' }]); // once
});

test('fulfilment is overdue after its timeout without news, on one timer however many reports came', async () => {
  h.use(happy());
  const quick = input();
  quick.timings.fulfilmentTimeout = '3s';
  const handle = await h.start(orderToCash, [quick]);
  await queryUntil(
    () => handle.query(processQuery),
    (s) => s.stage === 'fulfilling',
  );
  const overdue = async () =>
    (await handle.query(processQuery)).timeline.filter((t) => t.step === 'fulfilment is overdue').length;
  for (const type of ['picked', 'packed'] as const) {
    await new Promise((r) => setTimeout(r, 1500)); // news within the timeout each time
    await report(handle, 'S-1', type);
  }
  expect(await overdue()).toBe(0);
  const lastNews = Date.now();
  await queryUntil(overdue, (n) => n === 1);
  expect(Date.now() - lastNews).toBeGreaterThanOrEqual(2500);
  await report(handle, 'S-1', 'shipped', { carrier: 'DHL', trackingNumber: 'T1' });
  await report(handle, 'S-1', 'delivered');
  expect(await handle.result()).toEqual({ status: 'completed' });
  // One timer re-armed when it fires early, never cancelled (before: one per wait, cancelled by each report).
  const events = (await handle.fetchHistory()).events!;
  expect(events.filter((e) => e.timerCanceledEventAttributes)).toEqual([]);
  expect(events.filter((e) => e.timerStartedEventAttributes).length).toBeLessThanOrEqual(4);
});
