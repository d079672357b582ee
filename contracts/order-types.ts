/** Plain types shared by the order workflow, its activities and the API. No runtime code: workflows stay light. */
import type { Duration } from '@temporalio/common';

export type OrderStatus =
  | 'received'
  | 'on_hold'
  | 'reserved'
  | 'backordered'
  | 'fulfilling'
  | 'cancel_requested'
  | 'shipped'
  | 'completed'
  | 'cancelled';
export type BackorderPolicy = 'ship_available' | 'wait' | 'cancel';
// stopped: the warehouse confirms it stopped a parcel it was picking, after a cancel request.
export type ShipmentEventType = 'picked' | 'packed' | 'shipped' | 'delivered' | 'failed' | 'stopped';

export interface ShippingAddress {
  name: string;
  line1: string;
  line2?: string;
  city: string;
  postalCode: string;
  country: string;
  region?: string;
}

/** Durations as Temporal accepts them ("48h", "30s"); from configuration, so tests run the same code in seconds. */
export interface OrderTimings {
  riskReviewTimeout: Duration;
  backorderWaitTimeout: Duration;
  backorderRecheckInterval: Duration;
  fulfilmentTimeout: Duration;
  exceptionSla?: Duration; // overrides the catalogue's thresholds for cases this order opens
  exceptionSecondSla?: Duration;
}

export interface OrderToCashInput {
  orderId: string;
  channel: string;
  externalRef: string;
  customerEmail: string;
  customerId?: string; // the CustomerId search attribute (the e-mail stays in the encrypted input only)
  backorderPolicy: BackorderPolicy;
  // A provider token, never card data; it is single-use at a real provider.
  payment: { method: string; token: string };
  timings: OrderTimings;
}

export interface ShipmentEvent {
  shipmentId: string;
  type: ShipmentEventType;
  carrier?: string;
  trackingNumber?: string;
  note?: string;
  lines?: { sku: string; quantity: number }[]; // picked: what was actually picked, when short
}

/** The warehouse's definite answer to each event it reports: applied, or refused with the reason. */
export interface ShipmentEventAnswer {
  shipmentId: string;
  applied: boolean;
  queued?: boolean; // the process was busy: it applies the report when it gets there
  shipmentStatus: string;
  orderStage: OrderStatus;
  reason?: string;
}

export interface TimelineStep {
  step: string;
  at: string;
}

export interface OrderProcessState {
  stage: OrderStatus;
  waitingFor: string | null;
  timeline: TimelineStep[];
  shipments: { shipmentId: string; warehouse: string; status: string }[];
}

export interface OrderOutcome {
  status: OrderStatus;
  reason?: string;
}
