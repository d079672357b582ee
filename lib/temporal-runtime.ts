/**
 * The Temporal SDK's runtime for this process: its logs (the TypeScript side and, forwarded, the native core's)
 * go into our pino logger as JSON lines with their context (workflow id, run id, activity type, task queue),
 * following LOG_LEVEL; and with a metrics port the worker's own metrics (task latencies, slots, polls, cache)
 * are served in Prometheus format at http://<host>:<port>/metrics.
 */
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { logger } from './logger';

const LEVELS = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'ERROR',
  silent: 'ERROR',
} as const;
const TO_PINO: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

let installed = false;
export function installRuntime(level: keyof typeof LEVELS = 'info', o: { metricsPort?: number } = {}): void {
  if (installed) return;
  installed = true;
  const sdk = logger.child({ source: 'temporal-sdk' });
  Runtime.install({
    logger: new DefaultLogger(LEVELS[level], ({ level: l, message, meta }) => sdk[TO_PINO[l]](meta ?? {}, message)),
    telemetryOptions: {
      logging: { filter: { core: LEVELS[level] === 'TRACE' ? 'TRACE' : 'WARN', other: 'ERROR' }, forward: {} },
      ...(o.metricsPort ? { metrics: { prometheus: { bindAddress: `0.0.0.0:${o.metricsPort}` } } } : {}),
    },
  });
}
