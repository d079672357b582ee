/**
 * A checkout hold's deadline, kept by Temporal: one workflow per hold, id `hold-<holdId>`. At `expiresAt`
 * the hold's units go back to stock, exactly once, whatever crashed meanwhile. A hold released or taken by
 * an order before then has already ended; the expiry then changes nothing.
 */
import { sleep } from '@temporalio/workflow';
import { activitiesOf } from './process-kit';

const act = activitiesOf<'expireHold'>();

export async function checkoutHold(input: { holdId: string; expiresAt: string }): Promise<{ expired: boolean }> {
  const left = Date.parse(input.expiresAt) - Date.now();
  if (left > 0) await sleep(left);
  return act.expireHold({ holdId: input.holdId });
}
