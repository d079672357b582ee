/** Structured JSON logs (pino): cheap enough for the hot path and readable with `pino-pretty` when wanted. */
import pino, { DestinationStream } from 'pino';
import { config } from './config';

/** API keys and payment tokens must never reach a log line. */
export const REDACTION = {
  paths: [
    'req.headers.authorization',
    'headers.authorization',
    'authorization',
    'key',
    'apiKey',
    'token',
    'payment.token',
    '*.token',
    '*.key',
  ],
  censor: '[redacted]',
};

export function createLogger(level: string, destination?: DestinationStream) {
  return destination ? pino({ level, redact: REDACTION }, destination) : pino({ level, redact: REDACTION });
}

export const logger = createLogger(config().LOG_LEVEL);
