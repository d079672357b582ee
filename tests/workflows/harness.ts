/**
 * Fast workflow tests: the real workflow code on the real dev server (global set-up), with activities
 * replaced by stubs a test scripts, and durations of a second or less. No Postgres, no API: each branch of
 * a process runs in well under a second of work plus its timers. One worker per test file, on its own task
 * queue; each test sets the stubs it needs (tests in a file run one after the other).
 */
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { caseQuery, resolveCaseUpdate } from '../../contracts/exception-messages';
import { caseWorkflowId } from '../../contracts/workflow-ids';
import type { Activities } from '../../activities';
import { installRuntime } from '../../lib/temporal-runtime';

type Stub = (...args: any[]) => any;
export type Stubs = Partial<Record<keyof Activities, Stub>>;

/** Every activity call a workflow made, in order: what a test asserts on. */
export interface Call {
  name: string;
  input: any;
}

/** Exception cases: opened with the actions a person may take; thresholds far away unless a test says so. */
export const caseStubs = (
  actions: string[] = [
    'cancel',
    'release',
    'reship',
    'refund',
    'cancel_rest',
    'correct_address',
    'wait',
    'accept',
    'accept_bill',
    'cancel_rest',
  ],
): Stubs => ({
  openCase: (input: { exceptionId: string; sla?: string; secondSla?: string }) => ({
    exceptionId: input.exceptionId,
    queue: 'ops',
    actions,
    sla: input.sla ?? '1h',
    secondSla: input.secondSla ?? '2h',
  }),
  escalateCase: () => undefined,
  resolveCase: () => undefined,
  closeCase: () => undefined,
});

export interface Harness {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  calls: Call[];
  /** Replaces the stubs for the next test; unknown activities fail the test loudly. */
  use(stubs: Stubs): void;
  called(name: string): any[];
  /** The id of the first open case of `type` this test's workflows opened (waits until one is). */
  caseOf(type: string): Promise<string>;
  resolveCase(type: string, action: string, data?: Record<string, unknown>): Promise<void>;
  start<A extends unknown[], R>(
    workflow: (...args: A) => Promise<R>,
    args: A,
    workflowId?: string,
  ): Promise<WorkflowHandle<(...args: A) => Promise<R>>>;
  stop(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  installRuntime('warn');
  const env = await TestWorkflowEnvironment.createFromExistingServer({ address: process.env.TEMPORAL_ADDRESS! });
  const taskQueue = `wf-${randomUUID().slice(0, 8)}`;
  const calls: Call[] = [];
  let stubs: Stubs = {};
  const cases: { type: string; exceptionId: string }[] = [];
  // One proxy object: every activity name resolves to the current stub, recording the call.
  const activities = new Proxy(
    {},
    {
      get: (_t, name: string) => async (input: any) => {
        calls.push({ name, input });
        if (name === 'openCase') cases.push({ type: input.type, exceptionId: input.exceptionId });
        const stub = (stubs as Record<string, Stub | undefined>)[name];
        if (!stub) throw new Error(`the test did not stub activity ${name}`);
        return stub(input);
      },
    },
  );
  const names = Object.keys(await import('../../activities').then((m) => m.createActivities(stubDeps())));
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! },
    activities: Object.fromEntries(names.map((n) => [n, (activities as Record<string, Stub>)[n]])),
  });
  const running = worker.run();
  const h: Harness = {
    env,
    taskQueue,
    calls,
    use(next) {
      stubs = next;
      calls.length = 0;
      cases.length = 0;
    },
    called: (name) => calls.filter((c) => c.name === name).map((c) => c.input),
    caseOf: async (type) =>
      (await queryUntil(
        async () => cases.find((c) => c.type === type)?.exceptionId,
        (id) => id !== undefined,
      ))!,
    async resolveCase(type, action, data) {
      const id = await h.caseOf(type);
      const handle = env.client.workflow.getHandle(caseWorkflowId(id));
      // The case validates its action once its record exists.
      await queryUntil(
        () => handle.query(caseQuery).catch(() => undefined),
        (state) => !!state?.allowedActions.length,
      );
      await handle.executeUpdate(resolveCaseUpdate, {
        args: [{ action, note: `test: ${action}`, ...(data ? { data } : {}) }],
      });
    },
    start: (workflow, args, workflowId = `wf-test-${randomUUID()}`) =>
      env.client.workflow.start(workflow, { taskQueue, workflowId, args }),
    async stop() {
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
  return h;
}

/** createActivities only needs deps to name its activities; nothing here is called. */
function stubDeps(): any {
  return new Proxy({}, { get: () => () => undefined });
}

/** Polls a query until `ready` holds; answers the last state. */
export async function queryUntil<S>(read: () => Promise<S>, ready: (s: S) => boolean, ms = 10_000): Promise<S> {
  let last: S | undefined;
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
    last = await read();
    if (ready(last)) return last;
  }
  throw new Error(`condition not reached; last state: ${JSON.stringify(last)}`);
}
