/** `npm run start:worker`: one worker process against existing Temporal and Postgres (how the platform scales out). */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { config } from '../lib/config';
import { logger } from '../lib/logger';
import { clientTracing, startTracing } from '../lib/tracing';
import { dataConverter } from '../lib/payload-codec';
import { closeDb, db } from '../db';
import { installRuntime } from '../lib/temporal-runtime';
import { ensureSchedules } from './schedules';
import { startWebhookDispatch } from '../lib/start-process';
import { bundleWorkflows, createWorker } from './worker';

export async function runWorker(): Promise<void> {
  const c = config();
  installRuntime(c.LOG_LEVEL, { metricsPort: c.WORKER_METRICS_PORT });
  startTracing('erp-worker', undefined, c);
  const connection = await NativeConnection.connect({ address: c.TEMPORAL_ADDRESS }).catch((err) => {
    throw new Error(
      `Cannot reach Temporal at ${c.TEMPORAL_ADDRESS} (${err.message}). Start it with \`npm start\` or set TEMPORAL_ADDRESS.`,
    );
  });
  const clientConnection = await Connection.connect({ address: c.TEMPORAL_ADDRESS });
  const client = new Client({
    connection: clientConnection,
    namespace: c.TEMPORAL_NAMESPACE,
    interceptors: clientTracing(),
    dataConverter: dataConverter(c),
  });
  await ensureSchedules(client, c);
  // The webhook dispatcher runs while there are subscriptions; started here too so an upgrade that brings
  // new events (or a dispatcher that ended) picks up what is pending without waiting for an API call.
  await startWebhookDispatch(client, c);
  await clientConnection.close();
  const worker = await createWorker({
    connection,
    namespace: c.TEMPORAL_NAMESPACE,
    taskQueue: c.TEMPORAL_TASK_QUEUE,
    db: db(),
    // A prebuilt bundle when given (production); otherwise bundled here, which costs seconds and memory at start.
    workflowBundle: c.WORKFLOW_BUNDLE ? { codePath: c.WORKFLOW_BUNDLE } : await bundleWorkflows(),
    faultRate: c.SANDBOX_FAULT_RATE,
  });
  logger.info({ taskQueue: c.TEMPORAL_TASK_QUEUE, temporal: c.TEMPORAL_ADDRESS }, 'worker started');
  // Worker.run() installs SIGINT/SIGTERM handlers that drain in-flight tasks before it resolves.
  await worker.run();
  await connection.close();
  await closeDb();
  logger.info('worker stopped');
}

if (require.main === module) {
  runWorker().catch((err) => {
    logger.error({ err: err.message }, 'worker failed');
    process.exit(1);
  });
}
