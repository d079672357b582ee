/** Scheduled (daily): events told to subscribers longer ago than WEBHOOK_RETENTION are forgotten. */
import { msToNumber } from '@temporalio/common/lib/time';
import type { Duration } from '@temporalio/common';
import { activitiesOf, ACTIVITY_PROFILES } from './process-kit';

const { pruneWebhookHistory } = activitiesOf<'pruneWebhookHistory'>(ACTIVITY_PROFILES.batch);

export async function webhookRetention(input: { keepFor: Duration }): Promise<{ deliveries: number; events: number }> {
  return pruneWebhookHistory({ keepForMs: msToNumber(input.keepFor) });
}
