/**
 * Starting a record's process, from the API (a storefront's order) or from an activity (a marketplace's order
 * imported by the channel's sync): the same start, the same search attributes, started once however often asked.
 */
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowStartOptions } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import type { OrderToCashInput } from '../contracts/order-types';
import { dispatchWakeSignal, type WebhookDispatchInput } from '../contracts/events';
import { webhookDispatchWorkflowId } from '../contracts/workflow-ids';
import { dispatchPolicy, type Config } from './config';
import { ChannelKey, CustomerIdKey, OrderIdKey, OrderStageKey } from '../contracts/search-attributes';

/**
 * Starts the process of a record once, whatever the number of calls: a running one is kept, a finished
 * one is not started again. Called on every request, also a retry, so a record written by an attempt
 * that died before starting its process gets its process from the retry.
 */
export async function startOnce<W extends Workflow>(
  temporal: Client,
  workflowType: string,
  options: Omit<WorkflowStartOptions<W>, 'workflowIdConflictPolicy' | 'workflowIdReusePolicy'>,
  // true: may run again once ended (a channel's sync after a reconnect); 'if-failed': only a run that failed
  again: boolean | 'if-failed' = false,
): Promise<void> {
  try {
    await temporal.workflow.start<W>(workflowType, {
      ...options,
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy:
        again === 'if-failed' ? 'ALLOW_DUPLICATE_FAILED_ONLY' : again ? 'ALLOW_DUPLICATE' : 'REJECT_DUPLICATE',
    } as WorkflowStartOptions<W>);
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err; // finished already: the record's process is done
  }
}

/** An order recorded in Postgres gets its order-to-cash process (once), searchable by order, channel and customer. */
export async function startOrderToCash(
  temporal: Client,
  taskQueue: string,
  workflowId: string,
  input: OrderToCashInput,
  requestId?: string, // the API request that placed it: kept in the memo, so the Temporal UI leads back to the request log
): Promise<void> {
  await startOnce(temporal, 'orderToCash', {
    taskQueue,
    workflowId,
    args: [input],
    ...(requestId ? { memo: { requestId } } : {}),
    typedSearchAttributes: [
      { key: OrderIdKey, value: input.orderId },
      { key: ChannelKey, value: input.channel },
      ...(input.customerId ? [{ key: CustomerIdKey, value: input.customerId }] : []),
      { key: OrderStageKey, value: 'received' },
    ],
  });
}

/** The webhook dispatcher of this installation's task queue: started once, it ends with the last subscription. */
export async function startWebhookDispatch(temporal: Client, config: Config): Promise<void> {
  const input: WebhookDispatchInput = { policy: dispatchPolicy(config) };
  // Signal-with-start: a running dispatcher is woken (so it cannot end in the instant a subscription is made),
  // an ended one is started again.
  await temporal.workflow.signalWithStart('webhookDispatch', {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowId: webhookDispatchWorkflowId(config.TEMPORAL_TASK_QUEUE),
    args: [input],
    signal: dispatchWakeSignal,
  });
}
