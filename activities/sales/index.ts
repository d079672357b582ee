/** Sales activities: the order's status, cancellation and address changes, as the workflow decides them. */
import { ApplicationFailure } from '@temporalio/activity';
import { releaseClaimedHold } from '../../db/holds';
import { inTransaction } from '../../db';
import { releaseReservations } from '../../db/inventory';
import { queueNotification } from '../../db/notifications';
import {
  anyLineShipped,
  cancelOpenLineQuantities,
  cancelUnallocatedUnits,
  lockOrder,
  orderContact,
  recordCancellation,
  setShippingAddress,
} from '../../db/sales';
import { anyShipmentLeft, cancelOpenShipments } from '../../db/shipping';
import { CANCELLED_ON_MARKETPLACE, queueMarketplaceUpdate } from '../../db/marketplace';
import type { ActivityDeps } from '../deps';
import { writeOrderStatus } from './status';
import type { OrderStatus, ShippingAddress } from '../../contracts/order-types';

export function salesActivities({ db }: ActivityDeps) {
  return {
    async setOrderStatus(input: { orderId: string; status: OrderStatus }): Promise<void> {
      await inTransaction(db, (tx) => writeOrderStatus(tx, input.orderId, input.status));
    },

    /** Cancels what has not shipped: releases reservations, cancels pending shipments and the open line quantities. */
    async cancelOrder(input: { orderId: string; reason: string }): Promise<{ status: OrderStatus }> {
      return inTransaction(db, async (tx) => {
        await lockOrder(tx, input.orderId);
        await releaseReservations(tx, { orderId: input.orderId });
        await releaseClaimedHold(tx, input.orderId); // cancelled before its stock was reserved
        await cancelOpenShipments(tx, input.orderId);
        await cancelOpenLineQuantities(tx, input.orderId);
        const anyShipped = await anyLineShipped(tx, input.orderId);
        const status: OrderStatus = anyShipped ? 'completed' : 'cancelled';
        await recordCancellation(tx, input.orderId, status, input.reason);
        if (status === 'cancelled' && input.reason !== CANCELLED_ON_MARKETPLACE) {
          const update = { key: `cancelled:${input.orderId}`, orderId: input.orderId, kind: 'cancelled' as const };
          await queueMarketplaceUpdate(tx, { ...update, payload: { reason: input.reason } });
        }
        return { status };
      });
    },

    /** Gives up on the units that never got stock (backorder wait ran out); what is reserved still ships. Answers the order's cancelled units. */
    async cancelUnallocated(input: { orderId: string }): Promise<{ cancelledUnits: number }> {
      return inTransaction(db, async (tx) => {
        await lockOrder(tx, input.orderId);
        return { cancelledUnits: await cancelUnallocatedUnits(tx, input.orderId) };
      });
    },

    /** The parcel left before the warehouse could stop it: the cancel is refused and the customer is offered a return. */
    async refuseCancel(input: { orderId: string; reason: string }): Promise<void> {
      await inTransaction(db, async (tx) => {
        const o = await orderContact(tx, input.orderId);
        await queueNotification(tx, {
          key: `order:${input.orderId}:cancel_refused`,
          recipient: o.email,
          template: 'cancel_refused',
          subjectType: 'order',
          subjectId: input.orderId,
          payload: { externalRef: o.external_ref, reason: input.reason, returnsAt: '/v1/returns' },
        });
      });
    },

    async changeShippingAddress(input: { orderId: string; address: ShippingAddress }): Promise<ShippingAddress> {
      return inTransaction(db, async (tx) => {
        await lockOrder(tx, input.orderId);
        if (await anyShipmentLeft(tx, input.orderId))
          throw ApplicationFailure.nonRetryable(
            'a shipment has already left; the address can no longer change',
            'AddressLocked',
          );
        await setShippingAddress(tx, input.orderId, input.address);
        return input.address;
      });
    },
  };
}
