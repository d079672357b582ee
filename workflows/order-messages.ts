/** The messages the order workflow understands. Shared by the workflow and its callers (API, tests, simulator). */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { OrderProcessState, ShipmentEvent, ShippingAddress } from './order-types';

export const processQuery = defineQuery<OrderProcessState>('process');
export const shipmentEventSignal = defineSignal<[ShipmentEvent]>('shipmentEvent');
export const stockAvailableSignal = defineSignal('stockAvailable');
export const cancelUpdate = defineUpdate<{ accepted: true }, [{ reason: string }]>('cancel');
export const changeAddressUpdate = defineUpdate<ShippingAddress, [ShippingAddress]>('changeShippingAddress');
export const reviewUpdate = defineUpdate<{ decision: 'release' | 'cancel' }, [{ decision: 'release' | 'cancel'; note?: string }]>('reviewPayment');
