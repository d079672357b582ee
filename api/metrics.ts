/** Prometheus metrics (prom-client): request counts and latencies per route, plus Node's own process metrics. */
import client from 'prom-client';

export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

export const httpRequests = new client.Counter({
  name: 'erp_http_requests_total',
  help: 'HTTP requests by route and status',
  labelNames: ['method', 'route', 'status'],
  registers: [registry],
});
export const httpDuration = new client.Histogram({
  name: 'erp_http_request_duration_seconds',
  help: 'HTTP request latency by route',
  labelNames: ['method', 'route'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});
export const ordersPlaced = new client.Counter({
  name: 'erp_orders_placed_total',
  help: 'Orders accepted, by channel',
  labelNames: ['channel'],
  registers: [registry],
});
export const channelSyncLag = new client.Gauge({
  name: 'erp_channel_sync_lag_seconds',
  help: 'How long the oldest change a connected channel has not taken has waited (0: up to date)',
  labelNames: ['channel'],
  registers: [registry],
});
export const channelSyncPending = new client.Gauge({
  name: 'erp_channel_sync_pending_skus',
  help: 'SKUs whose level a connected channel has not taken yet',
  labelNames: ['channel'],
  registers: [registry],
});

// What waits on people and on delivery (db/reports.ts workGauges), read at scrape time.
const gauge = (name: string, help: string, labelNames: string[] = []) =>
  new client.Gauge({ name, help, labelNames, registers: [registry] });
export const work = {
  casesOpen: gauge('erp_exception_cases_open', 'Open exception cases, by type', ['type']),
  casesBreached: gauge('erp_exception_cases_breached', 'Open exception cases past their SLA, by type', ['type']),
  approvalsPending: gauge('erp_approvals_pending', 'Approvals waiting for a person, by kind', ['kind']),
  approvalOldest: gauge(
    'erp_approvals_oldest_age_seconds',
    'How long the oldest pending approval has waited, by kind',
    ['kind'],
  ),
  outboxPending: gauge('erp_outbox_pending', 'Notifications queued and not sent yet'),
  outboxOldest: gauge('erp_outbox_oldest_age_seconds', 'How long the oldest unsent notification has waited'),
  webhooksWaiting: gauge('erp_webhook_deliveries', 'Outbound webhook deliveries not delivered, by status', ['status']),
  webhookOldest: gauge(
    'erp_webhook_oldest_pending_age_seconds',
    'How long the oldest pending webhook delivery has waited',
  ),
};
