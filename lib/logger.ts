/** Structured JSON logs (pino): cheap enough for the hot path and readable with `pino-pretty` when wanted. */
import pino from 'pino';
import { config } from './config';

export const logger = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  base: { service: process.env.ERP_SERVICE ?? 'erp' },
  // API keys and payment tokens must never reach a log line.
  redact: {
    paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'key', 'token', 'payment.token', '*.token'],
    censor: '[redacted]',
  },
});

export function childLogger(service: string) {
  return logger.child({ service, level: config().LOG_LEVEL });
}
