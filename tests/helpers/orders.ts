/** Order-level helpers for tests: place, wait for a state, drive shipments, and record histories for replay fixtures. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { findTemporalBinary } from '../../lib/temporal-dev-server';
import { orderBody } from './fixtures';
import { eventually, Stack } from './stack';

export type Line = { sku: string; quantity: number; unitPrice?: number };

export async function place(s: Stack, lines: Line[], over: Record<string, unknown> = {}) {
  const r = await s.call('POST', '/v1/orders', { key: s.keys.storefront, body: orderBody(lines, over) });
  if (r.status !== 201) throw new Error(`order not placed: ${r.status} ${JSON.stringify(r.body)}`);
  recorded.push(r.body.workflowId);
  return r.body as { orderId: string; workflowId: string; status: string };
}

export async function getOrder(s: Stack, orderId: string) {
  return (await s.call('GET', `/v1/orders/${orderId}`, { key: s.keys.ops })).body;
}

/** Waits until the order satisfies `ok` (by default: reaches `status`). */
export async function waitFor(s: Stack, orderId: string, status: string, ok?: (o: any) => boolean, timeoutMs = 30000) {
  return eventually(
    async () => {
      const o = await getOrder(s, orderId);
      return o.status === status && (!ok || ok(o)) ? o : undefined;
    },
    timeoutMs,
    `order ${orderId} to be ${status}`,
  );
}

export async function event(s: Stack, shipmentId: string, type: string, extra: Record<string, unknown> = {}) {
  return s.call('POST', `/v1/shipments/${shipmentId}/events`, { key: s.keys.warehouse, body: { type, ...extra } });
}

export async function shipAll(
  s: Stack,
  order: { shipments: { shipmentId: string; status: string }[] },
  through: 'shipped' | 'delivered' = 'delivered',
) {
  for (const sh of order.shipments.filter((x) => x.status === 'pending')) {
    for (const type of ['picked', 'packed', 'shipped', ...(through === 'delivered' ? ['delivered'] : [])]) {
      const r = await event(
        s,
        sh.shipmentId,
        type,
        type === 'shipped' ? { carrier: 'UPS', trackingNumber: `1Z${sh.shipmentId.slice(0, 8)}` } : {},
      );
      if (![200, 202].includes(r.status))
        throw new Error(`event ${type} refused: ${r.status} ${JSON.stringify(r.body)}`);
    }
  }
}

export async function setCount(s: Stack, warehouse: string, sku: string, countedQuantity: number) {
  return s.call('POST', '/v1/inventory/adjustments', {
    key: s.keys.warehouse,
    body: { warehouse, sku, countedQuantity, reason: 'cycle count' },
  });
}

/** An order placed, shipped and delivered: what a return starts from. */
export async function deliveredOrder(s: Stack, lines: Line[], over: Record<string, unknown> = {}) {
  const { orderId } = await place(s, lines, over);
  const o = await waitFor(s, orderId, 'fulfilling');
  await shipAll(s, o);
  return waitFor(s, orderId, 'completed');
}

/** Remembers a workflow id whose history should become a replay fixture. */
export function remember(workflowId: string): void {
  recorded.push(workflowId);
}

const recorded: string[] = [];
const SCHEDULED_TYPES = [
  'returnRateScan',
  'notificationDispatch',
  'stockReconciliation',
  'exceptionSweep',
  'replenishmentPlanning',
];

/**
 * With RECORD_HISTORIES=1, saves the histories of every workflow this test file
 * ran as replay fixtures (tests/fixtures/histories). Commit them before changing
 * workflow code: the replay test then proves the change is compatible.
 */
export async function recordHistories(s: Stack, name: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const dir = join(__dirname, '..', 'fixtures', 'histories');
  mkdirSync(dir, { recursive: true });
  // Dated names keep every generation: histories from before a patch must stay to prove it replays.
  const generation = new Date().toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
  let i = 0;
  const cases = await s
    .db('exceptions')
    .whereIn('workflow_id', recorded)
    .whereNotNull('case_workflow_id')
    .pluck('case_workflow_id');
  // The scheduled processes this file triggered (their ids carry the schedule's timestamp).
  const scheduled: string[] = [];
  for await (const w of s.client.workflow.list({
    query: `TaskQueue = "${s.taskQueue}" AND ExecutionStatus != "Running"`,
  })) {
    if (SCHEDULED_TYPES.includes(w.type)) scheduled.push(w.workflowId);
  }
  for (const id of [...recorded.splice(0), ...cases, ...scheduled.slice(0, 3)]) {
    const handle = s.client.workflow.getHandle(id);
    const desc = await handle.describe();
    if (desc.status.name === 'RUNNING') continue;
    // The CLI's JSON is the canonical history format (the same `temporal workflow show` gives engineers).
    const json = execFileSync(findTemporalBinary({ build: false })!, [
      'workflow',
      'show',
      '--address',
      s.config.TEMPORAL_ADDRESS,
      '-w',
      id,
      '--output',
      'json',
    ]);
    writeFileSync(join(dir, `${desc.type}-${name}-${generation}-${++i}.json`), json);
  }
}
