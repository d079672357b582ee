/** Worker for the ceiling workflow, run as its own process like the real worker so both are measured alike. */
import { NativeConnection, Worker } from '@temporalio/worker';
import { installRuntime } from '../lib/temporal-runtime';

(async () => {
  installRuntime('warn');
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const worker = await Worker.create({
    connection,
    taskQueue: process.env.TEMPORAL_TASK_QUEUE!,
    workflowsPath: require.resolve('./ceiling-workflow'),
    activities: { nothing: async () => undefined },
    maxConcurrentActivityTaskExecutions: 50,
    maxConcurrentWorkflowTaskExecutions: 50,
  });
  await worker.run();
  await connection.close();
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
