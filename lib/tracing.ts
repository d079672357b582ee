/**
 * OpenTelemetry traces: one trace from an HTTP request through the process it starts to every activity and
 * SQL statement. Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set (then spans go there over OTLP/HTTP) or a test
 * hands in its own exporter. While off, the API's, the client's and the activities' instrumentation talk to
 * OpenTelemetry's no-op tracer and cost next to nothing.
 *
 * The pieces: a Koa middleware opens the request's span (api/app.ts); the Temporal client interceptor carries
 * the active context into the headers of each workflow start, signal and update; the workflow hands that header
 * to every activity it schedules (workflows/trace-context.ts); the activity interceptor runs the activity in a
 * span under it; and knex's query events open a span per SQL statement under whatever span is active
 * (db/index.ts).
 */
import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { OpenTelemetryActivityInboundInterceptor } from '@temporalio/interceptors-opentelemetry/lib/worker';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client';
import type { Knex } from 'knex';
import { config, type Config } from './config';

let active: { provider: NodeTracerProvider; exporter: SpanExporter; resource: Resource } | undefined;

/**
 * Starts tracing for this process (once): with the given exporter (tests), else OTLP when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set, else not at all.
 */
export function startTracing(service: string, exporter?: SpanExporter, c: Config = config()): boolean {
  if (active) return true;
  // The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT (and the other OTLP variables) itself, as the spec has it.
  const chosen = exporter ?? (c.OTEL_EXPORTER_OTLP_ENDPOINT ? new OTLPTraceExporter() : undefined);
  if (!chosen) return false;
  const resource = new Resource({ [ATTR_SERVICE_NAME]: c.OTEL_SERVICE_NAME ?? service });
  const provider = new NodeTracerProvider({
    resource,
    // A test reads its spans at once; a real collector gets them in batches.
    spanProcessors: [exporter ? new SimpleSpanProcessor(chosen) : new BatchSpanProcessor(chosen)],
  });
  provider.register(); // the global tracer, W3C propagation and an AsyncLocalStorage context manager
  active = { provider, exporter: chosen, resource };
  return true;
}

export async function stopTracing(): Promise<void> {
  await active?.provider.shutdown();
  active = undefined;
}

const tracer = () => trace.getTracer('erp-platform');

/** What a worker adds: each activity runs in a span under the trace context its process handed it. */
export function workerTracing() {
  return {
    activityInterceptors: [
      (ctx: ConstructorParameters<typeof OpenTelemetryActivityInboundInterceptor>[0]) => ({
        inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
      }),
    ],
  };
}

/** The Temporal client's interceptors: a workflow started, signalled or updated carries the active trace. */
export function clientTracing() {
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}

/** Runs an HTTP request inside its server span; `name` is read after the handler (the matched route). */
export async function inRequestSpan(
  method: string,
  attributes: Record<string, string>,
  run: () => Promise<void>,
  outcome: () => { route: string; status: number },
): Promise<void> {
  const span = tracer().startSpan(`${method} request`, { kind: SpanKind.SERVER, attributes });
  try {
    await context.with(trace.setSpan(context.active(), span), run);
  } finally {
    const { route, status } = outcome();
    span.updateName(`${method} ${route}`);
    span.setAttributes({ 'http.route': route, 'http.response.status_code': status });
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }
}

/** A span for one SQL statement (`SQL SELECT`, `SQL INSERT`, `SQL WITH`…), under the active span. */
function statementSpan(sql: string, method?: string): Span {
  const verb = (sql.trim().split(/\s+/, 1)[0] || method || 'query').toUpperCase();
  return tracer().startSpan(`SQL ${verb}`, {
    kind: SpanKind.CLIENT,
    attributes: { 'db.system': 'postgresql', 'db.statement': sql.slice(0, 2000) },
  });
}

/** One span per SQL statement, under the span active when knex sent it. */
export function traceQueries(db: Knex): void {
  const open = new Map<string, Span>();
  db.on('query', (q: { __knexQueryUid: string; sql: string; method?: string }) => {
    // No trace to belong to, or a transaction's BEGIN/COMMIT (knex sends those without an id or an answer event).
    if (!q.__knexQueryUid || !trace.getSpan(context.active())) return;
    open.set(q.__knexQueryUid, statementSpan(q.sql, q.method));
  });
  const end = (q: { __knexQueryUid: string }, err?: Error) => {
    const span = open.get(q.__knexQueryUid);
    if (!span) return;
    open.delete(q.__knexQueryUid);
    if (err) span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
    span.end();
  };
  db.on('query-response', (_rows: unknown, q: { __knexQueryUid: string }) => end(q));
  db.on('query-error', (err: Error, q: { __knexQueryUid: string }) => end(q, err));
}

/** A statement sent around knex (a named prepared statement, db/index.ts `preparedRows`), traced as knex's are. */
export async function traceStatement<T>(sql: string, run: () => Promise<T>): Promise<T> {
  if (!trace.getSpan(context.active())) return run();
  const span = statementSpan(sql);
  try {
    return await run();
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    throw err;
  } finally {
    span.end();
  }
}
