/** Scheduled: flags customers and SKUs whose return rate is far above the norm, as exception records for ops. */
import { activitiesOf, ACTIVITY_PROFILES } from './process-kit';

const { scanReturnRates } = activitiesOf<'scanReturnRates'>(ACTIVITY_PROFILES.batch);

export async function returnRateScan(input: {
  windowDays: number;
  factor: number;
  minVolume: number;
}): Promise<{ flagged: string[] }> {
  return scanReturnRates(input);
}
