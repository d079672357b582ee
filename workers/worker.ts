/**
 * Builds a Temporal worker that runs every workflow and activity. Workers are
 * stateless: start as many as you like, on as many machines, on one task queue.
 */
import { bundleWorkflowCode, NativeConnection, Worker, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities, sandboxDeps } from '../activities';
import type { Db } from '../db';
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
}

export async function createWorker(o: WorkerOptions): Promise<Worker> {
  const activities = createActivities(
    sandboxDeps(
      o.db,
      { ...(o.payments ? { payments: o.payments } : {}), ...(o.mailer ? { mailer: o.mailer } : {}) },
      o.faultRate,
    ),
  );
  return Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: o.taskQueue,
    activities,
    ...(o.workflowBundle
      ? { workflowBundle: o.workflowBundle }
      : { workflowsPath: WORKFLOWS_PATH, interceptors: { workflowModules: WORKFLOW_INTERCEPTORS } }),
    ...(o.identity ? { identity: o.identity } : {}),
    maxConcurrentActivityTaskExecutions: 50,
    maxConcurrentWorkflowTaskExecutions: 50,
  });
}
