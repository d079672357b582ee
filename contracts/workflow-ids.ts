/**
 * Every process's workflow id, spelled once. The id is how the API, the activities, the sweep and an engineer
 * in the Temporal UI find the process of a record. The ground floor: imports nothing of ours.
 */
export const orderWorkflowId = (channel: string, externalRef: string) => `order-${channel}-${externalRef}`;
export const returnWorkflowId = (returnId: string) => `return-${returnId}`;
export const purchaseWorkflowId = (number: string) => `po-${number}`;
export const caseWorkflowId = (exceptionId: string) => `exception-${exceptionId}`;
export const shippedAfterCancelWorkflowId = (shipmentId: string) => `shipped-after-cancel-${shipmentId}`;
export const holdWorkflowId = (holdId: string) => `hold-${holdId}`;
export const channelSyncWorkflowId = (channel: string) => `channel-sync-${channel}`;
export const webhookDispatchWorkflowId = (taskQueue: string) => `webhook-dispatch-${taskQueue}`;
// The payment provider's payout id; a marketplace's statement id with its channel.
export const settlementWorkflowId = (payoutId: string, channel?: string) =>
  channel ? `settlement-${channel}-${payoutId}` : `settlement-${payoutId}`;
export const settlementImportWorkflowId = (taskQueue: string) => `settlement-import-${taskQueue}`;
export const disputeWorkflowId = (disputeId: string) => `dispute-${disputeId}`; // the provider's dispute id
