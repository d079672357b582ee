/**
 * The one configuration module. Every process (API, worker, scripts) reads its
 * settings here, validated with zod at start-up, so a typo in an environment
 * variable stops the process with a message instead of surfacing as odd behaviour.
 */
import { join } from 'node:path';
import { isIP } from 'node:net';
import { z } from 'zod';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { OrderTimings } from '../contracts/order-types';
import type { ReturnPolicy } from '../contracts/return-types';
import type { PurchasePolicy } from '../contracts/purchase-types';
import type { DispatchPolicy } from '../contracts/events';

const duration = z.string().refine((v) => {
  try {
    return msToNumber(v as Duration) > 0;
  } catch {
    return false;
  }
}, 'must be a duration such as "30s", "15m", "48h" or "7d"');

/**
 * Webhook secrets, comma separated, each 16+ characters: the first signs what we send, any of them verifies
 * what we receive, so a secret is rotated without downtime (add the new one first, give it to the sender,
 * then drop the old one).
 */
const secretList = z
  .string()
  .transform((v) => v.split(',').map((x) => x.trim()))
  .refine((xs) => xs.length > 0 && xs.every((x) => x.length >= 16), 'each secret must be at least 16 characters');

/** CIDRs, comma separated (`10.1.0.0/16,127.0.0.1/32`); empty: none. */
const cidrList = z
  .string()
  .default('')
  .transform((v) =>
    v
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .refine(
    (xs) =>
      xs.every((x) => {
        const [net, prefix, ...rest] = x.split('/');
        const family = isIP(net);
        const bits = prefix === undefined ? 0 : Number(prefix);
        return (
          family > 0 && rest.length === 0 && Number.isInteger(bits) && bits >= 0 && bits <= (family === 6 ? 128 : 32)
        );
      }),
    'each entry must be a network such as 10.0.0.0/8 or fd00::/8',
  );

/** Seconds, comma separated, each positive (`5,300,1800`). */
const secondsList = (byDefault: string) =>
  z
    .string()
    .default(byDefault)
    .transform((v) => v.split(',').map((x) => Number(x.trim())))
    .refine(
      (xs) => xs.length > 0 && xs.every((x) => Number.isFinite(x) && x > 0),
      'a list of positive seconds such as 5,300,1800',
    );

/** `id:base64key,…`: 32-byte AES keys for the payload codec; the first encrypts, any decrypts. */
const payloadKeys = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)
      .map((pair) => {
        const [id, b64] = pair.split(':');
        return { id, key: Buffer.from(b64 ?? '', 'base64') };
      }),
  )
  .refine(
    (ks) => ks.length > 0 && ks.every((k) => /^[A-Za-z0-9_-]{1,40}$/.test(k.id) && k.key.length === 32),
    'a list of id:key pairs, each key 32 bytes in base64 (make one with: openssl rand -base64 32)',
  )
  .refine((ks) => new Set(ks.map((k) => k.id)).size === ks.length, 'each key id once (the id says which key decrypts)');

const schema = z.object({
  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/erp'),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('erp'),
  TEMPORAL_BINARY: z.string().optional(),
  // Where `npm start` keeps its state: the embedded Postgres cluster, the dev server's store, demo keys, pids.
  ERP_DATA_DIR: z.string().default(join(__dirname, '..', '.data')),
  // `npm start` runs an embedded Postgres even where a local one listens (also: `npm start -- --embedded-postgres`).
  EMBEDDED_POSTGRES: z
    .enum(['0', '1', 'true', 'false'])
    .default('0')
    .transform((v) => v === '1' || v === 'true'),
  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  ERP_ADMIN_API_KEY: z.string().min(16, 'ERP_ADMIN_API_KEY must be at least 16 characters').optional(),
  WEBHOOK_SECRET: z.string().min(16).default('sandbox-webhook-secret-change-me'),
  WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().positive().default(300),
  // Each provider its own secrets (default: WEBHOOK_SECRET), so one leaked secret does not open the others.
  CARRIER_WEBHOOK_SECRETS: secretList.optional(),
  PAYMENT_WEBHOOK_SECRETS: secretList.optional(),
  BASE_CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .default('EUR'),
  BODY_LIMIT: z.string().default('1mb'),
  // How long a read waits for a process's live view before answering from Postgres alone (no worker, a deploy).
  LIVE_VIEW_TIMEOUT_MS: z.coerce.number().int().min(50).max(10000).default(500),
  // How long a warehouse or carrier report waits for its process to apply it before the answer says "queued".
  REPORT_ANSWER_TIMEOUT_MS: z.coerce.number().int().min(100).max(60000).default(10000),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(6000), // per API key, per API process
  CHANNEL_SYNC_ALERT_SECONDS: z.coerce.number().int().positive().default(300), // a channel this far behind opens a case
  SESSION_TTL_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 30)
    .default(12), // a console sign-in lasts this long
  MARKETPLACE_POLL_SECONDS: z.coerce.number().positive().max(3600).default(30), // a marketplace's order feed is read this often (webhooks are faster)
  SANDBOX_FAULT_RATE: z.coerce.number().min(0).max(1).default(0), // drills only: sandbox provider calls time out or answer slowly at this rate
  // Outbound webhooks: the waits between attempts (the last repeats), how long a delivery is retried before it
  // is dead (3 days), one attempt's limit, and the private networks a subscriber may name (none: public only).
  WEBHOOK_RETRY_SECONDS: secondsList('5,300,1800,7200,18000,36000'),
  WEBHOOK_GIVE_UP_AFTER: duration.default('3d'),
  WEBHOOK_RETENTION: duration.default('30d'), // delivered events are forgotten after this (dead ones are kept)
  WEBHOOK_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(60).default(10),
  WEBHOOK_ALLOWED_NETWORKS: cidrList,
  // Payload encryption (lib/payload-codec.ts): unset, payloads are in clear in Temporal (npm start sets one).
  PAYLOAD_KEYS: z.preprocess((v) => (v === '' ? undefined : v), payloadKeys.optional()), // '' as unset (compose)
  // Browser origins allowed to call the codec endpoint (the Temporal UI), comma separated.
  CODEC_CORS_ORIGINS: z
    .string()
    .default('http://127.0.0.1:8233,http://localhost:8233')
    .transform((v) =>
      v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    ),
  // Traces (lib/tracing.ts): OTLP/HTTP to this collector when set (the exporter also reads the other standard
  // OTEL_EXPORTER_OTLP_* variables); off when unset. OTEL_SERVICE_NAME overrides erp-api / erp-worker.
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).max(100).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // The worker's capacity (README, Configuration and Benchmarks): concurrent workflow tasks, activities and local steps,
  // pollers, how many processes it keeps in memory between tasks (the rest replay when they next move), and
  // a prebuilt workflow bundle (`npm run build:workflows`) so a production worker does not run webpack at start.
  WORKER_WORKFLOW_SLOTS: z.coerce.number().int().min(2).max(1000).default(50),
  WORKER_ACTIVITY_SLOTS: z.coerce.number().int().min(1).max(1000).default(50),
  WORKER_LOCAL_ACTIVITY_SLOTS: z.coerce.number().int().min(1).max(1000).default(50),
  WORKER_WORKFLOW_POLLERS: z.coerce.number().int().min(2).max(100).optional(),
  WORKER_ACTIVITY_POLLERS: z.coerce.number().int().min(1).max(100).optional(),
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).optional(),
  // On SIGTERM the worker stops polling and lets running activities finish for this long (a container's stop
  // grace period should be longer), then cancels them; their retries run elsewhere.
  // The worker's own metrics (Temporal runtime telemetry) in Prometheus format on this port; unset: off.
  WORKER_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  WORKER_SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).max(3600).default(20),
  WORKFLOW_BUNDLE: z.string().optional(),
  // Process timings. Production values are days; tests and demos use seconds.
  RISK_REVIEW_TIMEOUT: duration.default('48h'),
  BACKORDER_WAIT_TIMEOUT: duration.default('7d'),
  BACKORDER_RECHECK_INTERVAL: duration.default('1h'),
  FULFILMENT_TIMEOUT: duration.default('30d'),
  RETURN_RECEIPT_TIMEOUT: duration.default('21d'),
  RETURN_INSPECTION_SLA: duration.default('3d'),
  REFUND_APPROVAL_SLA: duration.default('48h'),
  REFUND_AUTO_APPROVE_LIMIT: z.coerce.number().int().nonnegative().default(5000), // minor units
  RETURN_SCAN_INTERVAL: duration.default('1d'),
  OUTBOX_INTERVAL: duration.default('10s'),
  RECONCILIATION_INTERVAL: duration.default('1d'),
  EXCEPTION_SWEEP_INTERVAL: duration.default('5m'),
  // Procure-to-pay. A supplier day is one day of lead time or payment terms (tests: seconds).
  PO_AUTO_APPROVE_LIMIT: z.coerce.number().int().nonnegative().default(100000), // minor units, net
  PO_APPROVAL_SLA: duration.default('48h'),
  SUPPLIER_DAY: duration.default('1d'),
  SUPPLIER_LATE_GRACE: duration.default('2d'),
  RECEIPT_TOLERANCE_PCT: z.coerce.number().min(0).max(100).default(5),
  MATCH_QTY_TOLERANCE_PCT: z.coerce.number().min(0).max(100).default(0),
  MATCH_PRICE_TOLERANCE_PCT: z.coerce.number().min(0).max(100).default(2),
  REPLENISHMENT_INTERVAL: duration.default('1d'),
  // Money after the sale: how often the provider is asked for payouts, and how long "wait" holds a difference.
  SETTLEMENT_INTERVAL: duration.default('1h'),
  SETTLEMENT_RECHECK: duration.default('1d'),
  // Unset: each exception type's own SLA from the catalogue (exception_types).
  EXCEPTION_SLA: duration.optional(),
  EXCEPTION_SECOND_SLA: duration.optional(),
});

export type Config = z.infer<typeof schema>;

/** Parses an environment; throws one readable error listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration; fix these environment variables:\n${lines.join('\n')}`);
  }
  return Object.freeze(parsed.data);
}

let cached: Config | undefined;
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}

/** The settings a return workflow is started with. */
export function returnPolicy(c: Config): ReturnPolicy {
  return {
    receiptTimeout: c.RETURN_RECEIPT_TIMEOUT as Duration,
    inspectionSla: c.RETURN_INSPECTION_SLA as Duration,
    approvalSla: c.REFUND_APPROVAL_SLA as Duration,
    autoApproveLimit: c.REFUND_AUTO_APPROVE_LIMIT,
    baseCurrency: c.BASE_CURRENCY,
    orderTimings: orderTimings(c),
  };
}

/** The process timings an order workflow is started with (workflows cannot read the environment). */
export function orderTimings(c: Config): OrderTimings {
  return {
    riskReviewTimeout: c.RISK_REVIEW_TIMEOUT as Duration,
    backorderWaitTimeout: c.BACKORDER_WAIT_TIMEOUT as Duration,
    backorderRecheckInterval: c.BACKORDER_RECHECK_INTERVAL as Duration,
    fulfilmentTimeout: c.FULFILMENT_TIMEOUT as Duration,
    ...(c.EXCEPTION_SLA ? { exceptionSla: c.EXCEPTION_SLA as Duration } : {}),
    ...(c.EXCEPTION_SECOND_SLA ? { exceptionSecondSla: c.EXCEPTION_SECOND_SLA as Duration } : {}),
  };
}

/** The settings a purchase order's process (and the planner that creates them) is started with. */
/** How long "wait" on a payout difference holds it before matching it again. */
export const settlementRecheck = (c: Config) => c.SETTLEMENT_RECHECK as Duration;

export function purchasePolicy(c: Config): PurchasePolicy {
  return {
    autoApproveLimit: c.PO_AUTO_APPROVE_LIMIT,
    approvalSla: c.PO_APPROVAL_SLA as Duration,
    supplierDay: c.SUPPLIER_DAY as Duration,
    lateGrace: c.SUPPLIER_LATE_GRACE as Duration,
    receiptTolerancePct: c.RECEIPT_TOLERANCE_PCT,
    matchQtyTolerancePct: c.MATCH_QTY_TOLERANCE_PCT,
    matchPriceTolerancePct: c.MATCH_PRICE_TOLERANCE_PCT,
    ...(c.EXCEPTION_SLA ? { exceptionSla: c.EXCEPTION_SLA as Duration } : {}),
    ...(c.EXCEPTION_SECOND_SLA ? { exceptionSecondSla: c.EXCEPTION_SECOND_SLA as Duration } : {}),
  };
}

/**
 * A channel's secrets, named by its connection's `credentialsRef`: the environment variable of that name,
 * comma separated for rotation (the first signs, any verifies; 16+ characters each). Secrets never sit in the
 * database; undefined when this server was not given them.
 */
export function channelSecrets(credentialsRef: string, env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const value = /^[A-Z][A-Z0-9_]{0,99}$/.test(credentialsRef) ? env[credentialsRef] : undefined;
  const parsed = value === undefined ? undefined : secretList.safeParse(value);
  return parsed?.success ? parsed.data : undefined;
}

/** The secrets a provider's webhooks are verified with: its own, else the shared WEBHOOK_SECRET. */
export function webhookSecrets(c: Config, provider: 'carrier' | 'payment'): string[] {
  return (provider === 'carrier' ? c.CARRIER_WEBHOOK_SECRETS : c.PAYMENT_WEBHOOK_SECRETS) ?? [c.WEBHOOK_SECRET];
}

/** How the webhook dispatcher retries and where it may send. */
export function dispatchPolicy(c: Config): DispatchPolicy {
  return {
    retrySeconds: c.WEBHOOK_RETRY_SECONDS,
    giveUpAfterSeconds: msToNumber(c.WEBHOOK_GIVE_UP_AFTER as Duration) / 1000,
    timeoutSeconds: c.WEBHOOK_TIMEOUT_SECONDS,
    allowedNetworks: c.WEBHOOK_ALLOWED_NETWORKS,
  };
}
