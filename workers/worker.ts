/**
 * Builds a Temporal worker that runs every workflow and activity. Workers are
 * stateless: start as many as you like, on as many machines, on one task queue.
 */
import { bundleWorkflowCode, NativeConnection, Worker, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities, sandboxDeps } from '../activities';
import type { Db } from '../db';
import { config } from '../lib/config';
import { workerTracing } from '../lib/tracing';
import { dataConverter, FAILURE_CONVERTER_PATH } from '../lib/payload-codec';
import type { DataConverter } from '@temporalio/common';
import type { PaymentProvider } from '../activities/payments/provider';
import type { Mailer } from '../activities/notifications/mailer';

export const WORKFLOWS_PATH = require.resolve('../workflows');
/** Interceptors bundled with the workflows (an activity failing for good becomes a case). */
export const WORKFLOW_INTERCEPTORS = [require.resolve('../workflows/interceptors')];

/** Bundles the workflow code once (webpack); keep the result and hand it to every worker. */
export async function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: WORKFLOW_INTERCEPTORS,
    failureConverterPath: FAILURE_CONVERTER_PATH, // the same as every client's (lib/payload-codec.ts)
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
  });
}

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  db: Db;
  payments?: PaymentProvider;
  mailer?: Mailer;
  workflowBundle?: { code: string } | { codePath: string };
  identity?: string;
  faultRate?: number; // drills: sandbox providers fail at this rate
  capacity?: WorkerCapacity;
  dataConverter?: DataConverter; // default: the payload codec of PAYLOAD_KEYS (lib/payload-codec.ts)
}

/** How much a worker takes on at once (from the environment: WORKER_*; README, Configuration). */
export interface WorkerCapacity {
  WORKER_WORKFLOW_SLOTS: number;
  WORKER_ACTIVITY_SLOTS: number;
  WORKER_LOCAL_ACTIVITY_SLOTS: number;
  WORKER_WORKFLOW_POLLERS?: number;
  WORKER_ACTIVITY_POLLERS?: number;
  WORKER_MAX_CACHED_WORKFLOWS?: number;
}

export async function createWorker(o: WorkerOptions): Promise<Worker> {
  const activities = createActivities(
    sandboxDeps(
      o.db,
      { ...(o.payments ? { payments: o.payments } : {}), ...(o.mailer ? { mailer: o.mailer } : {}) },
      o.faultRate,
    ),
  );
  const tracing = workerTracing();
  return Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: o.taskQueue,
    activities,
    dataConverter: o.dataConverter ?? dataConverter(config()),
    // Traces (lib/tracing.ts): each activity runs in a span under the trace its process carries.
    ...(o.workflowBundle
      ? { workflowBundle: o.workflowBundle, interceptors: { activity: tracing.activityInterceptors } }
      : {
          workflowsPath: WORKFLOWS_PATH,
          interceptors: { workflowModules: WORKFLOW_INTERCEPTORS, activity: tracing.activityInterceptors },
        }),
    ...(o.identity ? { identity: o.identity } : {}),
    ...workerCapacity(o.capacity ?? config()), // the WORKER_* settings, validated with the rest
    shutdownGraceTime: `${config().WORKER_SHUTDOWN_GRACE_SECONDS} seconds`,
  });
}

function workerCapacity(c: WorkerCapacity) {
  return {
    maxConcurrentWorkflowTaskExecutions: c.WORKER_WORKFLOW_SLOTS,
    maxConcurrentActivityTaskExecutions: c.WORKER_ACTIVITY_SLOTS,
    maxConcurrentLocalActivityExecutions: c.WORKER_LOCAL_ACTIVITY_SLOTS,
    ...(c.WORKER_WORKFLOW_POLLERS ? { maxConcurrentWorkflowTaskPolls: c.WORKER_WORKFLOW_POLLERS } : {}),
    ...(c.WORKER_ACTIVITY_POLLERS ? { maxConcurrentActivityTaskPolls: c.WORKER_ACTIVITY_POLLERS } : {}),
    ...(c.WORKER_MAX_CACHED_WORKFLOWS !== undefined ? { maxCachedWorkflows: c.WORKER_MAX_CACHED_WORKFLOWS } : {}),
  };
}
