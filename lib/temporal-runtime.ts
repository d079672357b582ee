/** The Temporal SDK's own logging follows LOG_LEVEL, so a quiet process is quiet in the SDK too. */
import { DefaultLogger, Runtime } from '@temporalio/worker';

const LEVELS = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'ERROR',
  silent: 'ERROR',
} as const;

let installed = false;
export function installRuntime(level: keyof typeof LEVELS = 'info'): void {
  if (installed) return;
  installed = true;
  Runtime.install({ logger: new DefaultLogger(LEVELS[level]) });
}
