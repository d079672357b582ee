/** The workflows a worker registers. One business process per file. */
export { orderToCash } from './order-to-cash';
export { returnToRefund } from './return-to-refund';
export { returnRateScan } from './return-rate-scan';
export { exceptionCase } from './exception-case';
export { notificationDispatch } from './notification-dispatch';
export { stockReconciliation } from './stock-reconciliation';
export { exceptionSweep } from './exception-sweep';
export { procureToPay } from './procure-to-pay';
export { replenishmentPlanning } from './replenishment-planning';
export { shippedAfterCancel } from './shipped-after-cancel';
export { checkoutHold } from './checkout-hold';
export { channelSync } from './channel-sync';
export { webhookDispatch } from './webhook-dispatch';
export { settlement } from './settlement';
export { settlementImport } from './settlement-import';
export { paymentDispute } from './payment-dispute';
export { webhookRetention } from './webhook-retention';
