/** Every activity the workers run, grouped by domain; `Activities` is the type workflows import. */
import type { Db } from '../db';
import type { ActivityDeps } from './deps';
import { withFaults } from './faults';
import { sandboxMailer } from './notifications/mailer';
import { sandboxPaymentProvider } from './payments/sandbox';
import { sandboxBank, sandboxSupplier } from './purchasing/supplier';
import { purchasingActivities } from './purchasing';
import { planningActivities } from './purchasing/planner';
import { accountingActivities } from './accounting';
import { channelActivities } from './channels';
import { approvalActivities } from './approvals';
import { exceptionActivities } from './exceptions';
import { notificationActivities } from './notifications';
import { inventoryActivities } from './inventory';
import { paymentActivities } from './payments';
import { refundActivities } from './payments/refund';
import { settlementActivities } from './payments/settlements';
import { returnActivities } from './returns';
import { salesActivities } from './sales';
import { shippingActivities } from './shipping';
import { webhookActivities } from './webhooks';

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
    ...settlementActivities(deps),
    ...exceptionActivities(deps),
    ...notificationActivities(deps),
    ...purchasingActivities(deps),
    ...planningActivities(deps),
    ...channelActivities(deps),
    ...webhookActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps };

/** The built-in sandbox providers (payments, mail, supplier, bank); real ones are passed in their place. */
export function sandboxDeps(db: Db, over: Partial<ActivityDeps> = {}, faultRate = 0): ActivityDeps {
  const f = <T extends object>(p: T, name: string) => withFaults(p, name, faultRate);
  return {
    db,
    payments: f(sandboxPaymentProvider(db), 'payments'),
    mailer: f(sandboxMailer(db), 'mailer'),
    suppliers: f(sandboxSupplier(db), 'supplier'),
    bank: f(sandboxBank(db), 'bank'),
    ...over,
  };
}
