/**
 * Writing the order's status people see, with what each status tells others: a cancel request tells the
 * warehouse to stop the parcels it picks, a backorder tells the customer the order is delayed. One writer for
 * `setOrderStatus` and for the steps that write the status they lead to (patch `status-with-step`).
 */
import type { Tx } from '../../db';
import { queueNotification } from '../../db/notifications';
import { advanceOrderStatus, orderContact, orderExternalRef, updateOrderStatus } from '../../db/sales';
import { shipmentsBeingPicked } from '../../db/shipping';
import type { OrderStatus } from '../../contracts/order-types';

/**
 * Writes the status and queues what it tells. `forwardOnly`: a step that writes the status it leads to only
 * moves the order forward (a late attempt of a slow step, still running after its retry moved the order on,
 * must not move it back).
 */
export async function writeOrderStatus(
  tx: Tx,
  orderId: string,
  status: OrderStatus,
  { forwardOnly = false } = {},
): Promise<void> {
  if (forwardOnly) {
    if (!(await advanceOrderStatus(tx, orderId, status))) return;
  } else await updateOrderStatus(tx, orderId, status);
  if (status === 'cancel_requested') {
    // The warehouse learns the cancel now; its answer (stopped, or shipped) decides it.
    const o = await orderExternalRef(tx, orderId);
    for (const sh of await shipmentsBeingPicked(tx, orderId)) {
      await queueNotification(tx, {
        key: `shipment:${sh.id}:stop`,
        recipient: `warehouse-${sh.code.toLowerCase()}@ops`,
        template: 'parcel_stop_requested',
        subjectType: 'shipment',
        subjectId: sh.id,
        payload: { externalRef: o.external_ref, shipmentId: sh.id },
      });
    }
  }
  if (status === 'backordered') {
    const o = await orderContact(tx, orderId);
    await queueNotification(tx, {
      key: `order:${orderId}:delayed`,
      recipient: o.email,
      template: 'order_delayed',
      subjectType: 'order',
      subjectId: orderId,
      payload: { externalRef: o.external_ref, reason: 'waiting for stock' },
    });
  }
}
