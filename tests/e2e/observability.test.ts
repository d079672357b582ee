/**
 * What an engineer sees of a worker process: every line it logs is JSON from pino, the SDK's own lines
 * included, with their context; its Temporal metrics are served in Prometheus format on WORKER_METRICS_PORT;
 * and SIGTERM drains it to a clean exit. The API's /metrics carries the gauges of work waiting on people.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { freePort, waitForPort } from '../../lib/temporal-dev-server';
import { eventually, startStack, type Stack } from '../helpers/stack';

let s: Stack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(async () => s?.stop());

test('a worker process: JSON logs with their context, Prometheus metrics on its port, a clean stop on SIGTERM', async () => {
  const port = await freePort();
  const worker = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', '..', 'workers', 'main.ts')], {
    env: {
      ...process.env,
      TEMPORAL_TASK_QUEUE: `observe-${randomUUID().slice(0, 8)}`,
      WORKFLOW_BUNDLE: process.env.TEST_WORKFLOW_BUNDLE,
      WORKER_METRICS_PORT: String(port),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  worker.stdout!.on('data', (d) => (out += d));
  worker.stderr!.on('data', (d) => (out += d));
  try {
    await waitForPort('127.0.0.1', port, 60_000);
    // The worker's own gauges appear once it polls: slots free and pollers, per task queue.
    const metrics = await eventually(
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return /^temporal_num_pollers\{/m.test(text) && text;
      },
      20_000,
      'worker metrics',
    );
    expect(metrics).toMatch(/^# TYPE temporal_\w+ /m);
    expect(metrics).toMatch(/^temporal_worker_task_slots_available\{.*task_queue="observe-/m);
  } finally {
    worker.kill('SIGTERM');
  }
  const code = await new Promise<number | null>((resolve) => worker.once('exit', resolve));
  expect(code).toBe(0);
  const lines = out.split('\n').filter((l) => l.trim());
  const parsed = lines.map((l) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      return { notJson: l };
    }
  });
  expect(parsed.filter((p) => 'notJson' in p)).toEqual([]);
  const sdk = parsed.filter((p) => p.source === 'temporal-sdk');
  expect(sdk.length).toBeGreaterThan(0);
  expect(sdk.some((p) => p.msg === 'Worker state changed' && p.state === 'RUNNING' && p.taskQueue)).toBe(true);
  expect(parsed.some((p) => p.msg === 'worker stopped')).toBe(true);
});

test("the API's /metrics: cases, approvals and the outbox waiting, read at scrape time", async () => {
  const text = (await s.call('GET', '/metrics', { key: null })).body as string;
  for (const name of [
    'erp_exception_cases_open',
    'erp_exception_cases_breached',
    'erp_approvals_pending',
    'erp_approvals_oldest_age_seconds',
    'erp_webhook_oldest_pending_age_seconds',
  ])
    expect(text).toContain(`# TYPE ${name} gauge`);
  const dead = Number((await s.db('webhook_deliveries').where({ status: 'dead' }).count({ n: '*' }).first())!.n);
  expect(
    Math.abs(Number(/^erp_webhook_deliveries\{status="dead"\} (\d+)$/m.exec(text)![1]) - dead),
  ).toBeLessThanOrEqual(5);
  const pending = Number((await s.db('notifications').where({ status: 'pending' }).count({ n: '*' }).first())!.n);
  expect(Math.abs(Number(/^erp_outbox_pending (\d+)$/m.exec(text)![1]) - pending)).toBeLessThanOrEqual(5); // others write meanwhile
});
