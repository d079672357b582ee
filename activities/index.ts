/** Every activity the workers run, grouped by domain; `Activities` is the type workflows import. */
import type { Db } from '../db';
import type { ActivityDeps } from './deps';
import { sandboxMailer } from './notifications/mailer';
import { sandboxPaymentProvider } from './payments/sandbox';
import { sandboxBank, sandboxSupplier } from './purchasing/supplier';
import { purchasingActivities } from './purchasing';
import { planningActivities } from './purchasing/planner';
import { accountingActivities } from './accounting';
import { approvalActivities } from './approvals';
import { exceptionActivities } from './exceptions';
import { notificationActivities } from './notifications';
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
    ...notificationActivities(deps),
    ...purchasingActivities(deps),
    ...planningActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps };

/** The built-in sandbox providers (payments, mail, supplier, bank); real ones are passed in their place. */
export function sandboxDeps(db: Db, over: Partial<ActivityDeps> = {}): ActivityDeps {
  return { db, payments: sandboxPaymentProvider(db), mailer: sandboxMailer(db), suppliers: sandboxSupplier(db), bank: sandboxBank(db), ...over };
}
