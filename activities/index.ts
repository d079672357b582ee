/** Every activity the workers run, grouped by domain; `Activities` is the type workflows import. */
import type { ActivityDeps } from './deps';
import { accountingActivities } from './accounting';
import { approvalActivities } from './approvals';
import { exceptionActivities } from './exceptions';
import { inventoryActivities } from './inventory';
import { paymentActivities } from './payments';
import { refundActivities } from './payments/refund';
import { returnActivities } from './returns';
import { salesActivities } from './sales';
import { shippingActivities } from './shipping';

export function createActivities(deps: ActivityDeps) {
  return {
    ...salesActivities(deps),
    ...inventoryActivities(deps),
    ...paymentActivities(deps),
    ...shippingActivities(deps),
    ...accountingActivities(deps),
    ...returnActivities(deps),
    ...approvalActivities(deps),
    ...refundActivities(deps),
    ...exceptionActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps };
