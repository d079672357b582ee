/**
 * One trace per request, as an engineer follows it in a tracing UI: `POST /v1/orders` is the root; the
 * Temporal client's start of the order's process, every activity the process ran and every SQL statement
 * those ran hang under it (the process hands the trace to its activities: workflows/trace-context.ts). Spans are collected in memory here (in production they go over OTLP when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set).
 */
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SpanKind } from '@opentelemetry/api';
import { startTracing, stopTracing } from '../../lib/tracing';
import { loadConfig } from '../../lib/config';
import { stockedSku, orderBody } from '../helpers/fixtures';
import { shipAll, waitFor } from '../helpers/orders';
import { eventually, startStack, type Stack } from '../helpers/stack';

const exporter = new InMemorySpanExporter();
let s: Stack;
beforeAll(async () => {
  expect(startTracing('erp-test', undefined, loadConfig({}))).toBe(false); // no collector configured: off
  expect(startTracing('erp-test', exporter)).toBe(true);
  s = await startStack();
});
afterAll(async () => {
  await s?.stop();
  await stopTracing();
});

/** The span's ancestors up to the root, by parent span id, among the spans of its trace. */
function ancestry(span: ReadableSpan, all: ReadableSpan[]): ReadableSpan[] {
  const byId = new Map(all.map((x) => [x.spanContext().spanId, x]));
  const chain: ReadableSpan[] = [];
  for (let p = span.parentSpanId && byId.get(span.parentSpanId); p; p = p.parentSpanId && byId.get(p.parentSpanId))
    chain.push(p);
  return chain;
}

test('POST /v1/orders → workflow start → each activity of the process → its SQL, in one trace', async () => {
  const sku = await stockedSku(s.db, { EAST: 3 });
  const placed = await s.call('POST', '/v1/orders', {
    key: s.keys.storefront,
    body: orderBody([{ sku, quantity: 1 }]),
    headers: { 'x-request-id': 'trace-test-1' },
  });
  expect(placed.status).toBe(201);
  const orderId = placed.body.orderId as string;
  await shipAll(s, await waitFor(s, orderId, 'fulfilling'));
  await waitFor(s, orderId, 'completed');

  const request = await eventually(
    async () =>
      exporter
        .getFinishedSpans()
        .find((x) => x.kind === SpanKind.SERVER && x.attributes['erp.request_id'] === 'trace-test-1'),
    10_000,
    'the request span',
  );
  expect(request.name).toBe('POST /v1/orders');
  expect(request.parentSpanId).toBeUndefined(); // the root
  const traceId = request.spanContext().traceId;
  const inTrace = () => exporter.getFinishedSpans().filter((x) => x.spanContext().traceId === traceId);

  const start = inTrace().find((x) => x.name === 'StartWorkflow:orderToCash')!;
  expect(ancestry(start, inTrace()).map((x) => x.name)).toEqual(['POST /v1/orders']);

  const activities = inTrace().filter((x) => x.name.startsWith('RunActivity:'));
  expect(activities.map((x) => x.name)).toEqual(expect.arrayContaining(['RunActivity:reserveStock']));
  for (const a of activities) {
    const chain = ancestry(a, inTrace()).map((x) => x.name);
    expect(chain).toEqual(['StartWorkflow:orderToCash', 'POST /v1/orders']);
  }
  const reserve = activities.find((x) => x.name === 'RunActivity:reserveStock')!;
  const sql = inTrace().filter((x) => x.name.startsWith('SQL ') && ancestry(x, inTrace()).includes(reserve));
  // Reserving is one statement (a named prepared one, sent around knex, traced all the same), then the status.
  expect(sql.map((x) => x.attributes['db.statement'])).toEqual([
    'SELECT reserve_order($1::uuid, $2::boolean) AS r',
    expect.stringMatching(/^update "sales_orders" set "status"/),
  ]);
  expect(sql.every((x) => x.attributes['db.system'] === 'postgresql')).toBe(true);

  // The request id also reaches the process: it is in the workflow's memo, which the Temporal UI shows.
  const desc = await s.client.workflow.getHandle(placed.body.workflowId).describe();
  expect(desc.memo).toEqual({ requestId: 'trace-test-1' });
});

test("the header the process hands on is the one OpenTelemetry's Temporal interceptors read", async () => {
  const { TRACE_HEADER } = await import('@temporalio/interceptors-opentelemetry/lib/instrumentation');
  const ours = await import('../../workflows/trace-context');
  expect(ours.TRACE_HEADER).toBe(TRACE_HEADER);
});
