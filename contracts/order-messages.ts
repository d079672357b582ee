/** The messages the order workflow understands. Shared by the workflow and its callers (API, tests, simulator). */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { OrderProcessState, ShipmentEvent, ShipmentEventAnswer, ShippingAddress } from './order-types';

export const processQuery = defineQuery<OrderProcessState>('process');
export const shipmentEventSignal = defineSignal<[ShipmentEvent]>('shipmentEvent'); // histories from before the update
export const shipmentEventUpdate = defineUpdate<ShipmentEventAnswer, [ShipmentEvent]>('reportShipmentEvent');
export const stockAvailableSignal = defineSignal('stockAvailable');
export const stockLostSignal = defineSignal('stockLost'); // reserved units were released (a count found less): re-plan
export const cancelUpdate = defineUpdate<
  { accepted: true; status?: 'cancelling' | 'cancel_requested' },
  [{ reason: string }]
>('cancel');
export const changeAddressUpdate = defineUpdate<ShippingAddress, [ShippingAddress]>('changeShippingAddress');
export const reviewUpdate = defineUpdate<
  { decision: 'release' | 'cancel' },
  [{ decision: 'release' | 'cancel'; note?: string }]
>('reviewPayment');
