/** Structured JSON logs (pino): cheap enough for the hot path and readable with `pino-pretty` when wanted. */
import pino from 'pino';
import { config } from './config';

export const logger = pino({
  level: config().LOG_LEVEL,
  // API keys and payment tokens must never reach a log line.
  redact: {
    paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'key', 'token', 'payment.token', '*.token'],
    censor: '[redacted]',
  },
});
