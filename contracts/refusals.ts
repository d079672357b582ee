/**
 * How an update validator refuses what a person sent. A plain Error is a state conflict (409: not now);
 * `unprocessable` is a request that can never be taken as it is (422: the amount is above the quote).
 * Either way the update is rejected before it enters the history, and the process keeps waiting.
 */
import { ApplicationFailure } from '@temporalio/common';

export const UNPROCESSABLE = 'Unprocessable';

export function unprocessable(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: UNPROCESSABLE, message, nonRetryable: true });
}
