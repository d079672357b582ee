/**
 * What every process is made of besides its business steps: the activities it calls (with their retry
 * profile), its timeline, what it waits for (shown to people by its query) and waits that escalate when
 * a person does not act within an SLA. Workflow code only: deterministic, no I/O.
 */
import {
  condition,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  type ActivityInterfaceFor,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type { Duration, RetryPolicy } from '@temporalio/common';
import type { Activities } from '../activities';
import type { TimelineStep } from '../contracts/order-types';

const BACKOFF: RetryPolicy = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' };

/**
 * How long an activity may take and how it is retried: with backoff until it succeeds (activities are
 * idempotent). `step`: one business step. `batch`: a sweep or a whole catalogue in one transaction.
 * `delivery`: sending a batch of notifications to a provider.
 */
export const ACTIVITY_PROFILES = {
  step: { startToCloseTimeout: '30 seconds', retry: BACKOFF },
  batch: { startToCloseTimeout: '5 minutes', retry: BACKOFF },
  delivery: { startToCloseTimeout: '1 minute', retry: BACKOFF },
  reconciliation: { startToCloseTimeout: '10 minutes', retry: BACKOFF }, // every quant in the catalogue
  // Pushing to a channel: an outage is retried soon after it ends, not a minute later.
  push: {
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 seconds' },
  },
} satisfies Record<string, ActivityOptions>;

/**
 * A short database step run as a local activity: in the worker that runs the process, recorded as a marker
 * with the workflow task that asked for it, so it costs no round trip through the server. Only for steps that
 * are one transaction on our own database and idempotent. The timeout stays under the 10 s workflow task
 * timeout, so a local step never outlives the task it belongs to; a slow one (a lock wait) is retried with
 * backoff, and past `localRetryThreshold` the retry waits on a durable timer instead of in memory.
 */
export const LOCAL_STEP = {
  startToCloseTimeout: '8 seconds',
  retry: BACKOFF,
  localRetryThreshold: '10 seconds',
} satisfies LocalActivityOptions;

/** Patch: steps that ran as local activities ran as activities again (see activitiesOf). */
export const REMOTE_STEPS_AGAIN = 'remote-steps-again';

/**
 * A typed view of only the activities a process calls: `activitiesOf<'reserveStock' | 'capturePayment'>()`.
 * With `local`, those names run as local activities (LOCAL_STEP) when `when()` says so, asked at each call:
 * a history recorded before they were local replays them as the activities they were then.
 *
 * A local step must not resolve a wait whose timer it started in the same workflow task: on replay it
 * resolves at once, the timer is then started and cancelled in one activation and never reaches the history
 * (the worker-kill drill found that with an update handler's answer timer; order-to-cash's handlers have none
 * since ORDER_PROCESS_2026_12, and its executions between REMOTE_STEPS_AGAIN and then ran every step remotely).
 */
export function activitiesOf<Name extends keyof Activities>(
  options: ActivityOptions = ACTIVITY_PROFILES.step,
  localSteps?: { local: readonly Name[]; when: () => boolean },
): ActivityInterfaceFor<Pick<Activities, Name>> {
  const remote = proxyActivities<Pick<Activities, Name>>(options);
  if (!localSteps) return remote;
  const local = proxyLocalActivities<Pick<Activities, Name>>(LOCAL_STEP);
  const isLocal = new Set<string>(localSteps.local);
  return new Proxy(remote, {
    get(_target, name: string) {
      return isLocal.has(name) && localSteps.when() ? local[name as Name] : remote[name as Name];
    },
  });
}

/** The steps a process went through, for people (its query answers them). */
export class Timeline {
  readonly steps: TimelineStep[] = [];
  mark(step: string): void {
    this.steps.push({ step, at: new Date().toISOString() });
  }
}

/**
 * "Nothing for `ms` since the wait began", for a process that waits again and again (after each report) with
 * one timer instead of one started and cancelled per wait: a new wait moves the time the alarm is due, and the
 * timer, when it fires early, re-arms itself for the rest. Ends with the process, never cancelled.
 */
export class QuietAlarm {
  private since = Date.now();
  private armed = false;
  private rang = false;

  constructor(private readonly ms: number) {}

  /** Waits for `ready`, or `ms` of quiet; false when the quiet lapsed. */
  async wait(ready: () => boolean): Promise<boolean> {
    this.since = Date.now();
    this.rang = false;
    this.arm();
    await condition(() => ready() || this.rang);
    return ready();
  }

  private arm(): void {
    if (this.armed) return;
    this.armed = true;
    sleep(Math.max(1, this.since + this.ms - Date.now())).then(
      () => {
        this.armed = false;
        if (Date.now() - this.since >= this.ms) this.rang = true;
        else this.arm();
      },
      () => void (this.armed = false), // the process was cancelled: nothing to ring for
    );
  }
}

/**
 * What the process waits for, by name: what its query shows as waiting for someone. Several waits can run
 * at once (a purchase order waits on goods, bills and cases side by side).
 */
export class Waits {
  private readonly open = new Set<string>();

  /** Waits until `ready`, or until `timeout` (or the quiet alarm) when given; false on timeout. */
  async for(what: string, ready: () => boolean, timeout?: Duration | QuietAlarm): Promise<boolean> {
    this.open.add(what);
    try {
      if (timeout === undefined) {
        await condition(ready);
        return true;
      }
      if (timeout instanceof QuietAlarm) return await timeout.wait(ready);
      return await condition(ready, timeout);
    } finally {
      this.open.delete(what);
    }
  }

  /**
   * Waiting on people always has a timer: when the SLA lapses, `escalate` runs once and the wait goes on
   * without a timer. `lapsed` is the timeline's note of it.
   */
  async withSla(
    what: string,
    ready: () => boolean,
    sla: Duration,
    escalate: () => Promise<unknown>,
    lapsed: (note: string) => void,
  ): Promise<void> {
    if (await this.for(what, ready, sla)) return;
    await escalate();
    lapsed(`${what}: SLA lapsed, escalated`);
    await this.for(`${what} (escalated)`, ready);
  }

  /** Shown beside a wait that is not a `for` (a process that tells people what it needs while it works). */
  add(what: string): void {
    this.open.add(what);
  }
  remove(what: string): void {
    this.open.delete(what);
  }
  clear(): void {
    this.open.clear();
  }
  /** The first thing waited for, or null. */
  get current(): string | null {
    return this.open.values().next().value ?? null;
  }
  get all(): string[] {
    return [...this.open];
  }
}
