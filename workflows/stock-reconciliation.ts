/** Scheduled: recomputes stock from the moves and reservations; any drift becomes an exception with the numbers. */
import { activitiesOf, ACTIVITY_PROFILES } from './process-kit';

const { reconcileStock } = activitiesOf<'reconcileStock'>(ACTIVITY_PROFILES.reconciliation);

export async function stockReconciliation(): Promise<{ checked: number; drifts: number }> {
  const r = await reconcileStock();
  return { checked: r.checked, drifts: r.drifts.length };
}
