/** Sales activities: the order's status, cancellation and address changes, as the workflow decides them. */
import { ApplicationFailure } from '@temporalio/activity';
import { inTransaction } from '../../db';
import { queueNotification } from '../../db/outbox';
import type { ActivityDeps } from '../deps';
import { releaseActive } from '../inventory';
import type { OrderStatus, ShippingAddress } from '../../contracts/order-types';

export function salesActivities({ db }: ActivityDeps) {
  return {
    async setOrderStatus(input: { orderId: string; status: OrderStatus }): Promise<void> {
      await inTransaction(db, async (tx) => {
        await tx('sales_orders').where({ id: input.orderId }).whereNot('status', 'cancelled').update({ status: input.status, updated_at: tx.fn.now() });
        if (input.status === 'cancel_requested') {
          // The warehouse learns the cancel now; its answer (stopped, or shipped) decides it.
          const o = await tx('sales_orders').where({ id: input.orderId }).first('external_ref');
          const picking = await tx('shipments as s').join('warehouses as w', 'w.id', 's.warehouse_id').where('s.order_id', input.orderId).whereIn('s.status', ['picked', 'packed']).select('s.id', 'w.code');
          for (const sh of picking) {
            await queueNotification(tx, { key: `shipment:${sh.id}:stop`, recipient: `warehouse-${sh.code.toLowerCase()}@ops`, template: 'parcel_stop_requested', subjectType: 'shipment', subjectId: sh.id, payload: { externalRef: o.external_ref, shipmentId: sh.id } });
          }
          return;
        }
        if (input.status !== 'backordered') return;
        const o = await tx('sales_orders as o').join('customers as c', 'c.id', 'o.customer_id').where('o.id', input.orderId).first('o.external_ref', 'c.email');
        await queueNotification(tx, { key: `order:${input.orderId}:delayed`, recipient: o.email, template: 'order_delayed', subjectType: 'order', subjectId: input.orderId, payload: { externalRef: o.external_ref, reason: 'waiting for stock' } });
      });
    },

    /** Cancels what has not shipped: releases reservations, cancels pending shipments and the open line quantities. */
    async cancelOrder(input: { orderId: string; reason: string }): Promise<{ status: OrderStatus }> {
      return inTransaction(db, async (tx) => {
        await tx('sales_orders').where({ id: input.orderId }).forUpdate().first('id');
        await releaseActive(tx, input.orderId);
        await tx('shipments').where({ order_id: input.orderId }).whereIn('status', ['pending', 'picked', 'packed']).update({ status: 'cancelled' });
        await tx('sales_order_lines').where({ order_id: input.orderId }).update({ quantity_cancelled: tx.raw('quantity - quantity_shipped') });
        const anyShipped = await tx('sales_order_lines').where({ order_id: input.orderId }).where('quantity_shipped', '>', 0).first('id');
        const status: OrderStatus = anyShipped ? 'completed' : 'cancelled';
        await tx('sales_orders').where({ id: input.orderId }).update({ status, cancel_reason: input.reason, updated_at: tx.fn.now() });
        return { status };
      });
    },

    /** Gives up on the units that never got stock (backorder wait ran out); what is reserved still ships. Answers the order's cancelled units. */
    async cancelUnallocated(input: { orderId: string }): Promise<{ cancelledUnits: number }> {
      return inTransaction(db, async (tx) => {
        await tx('sales_orders').where({ id: input.orderId }).forUpdate().first('id');
        await tx.raw(
          `UPDATE sales_order_lines l SET quantity_cancelled = l.quantity - COALESCE(a.units, 0)
             FROM (SELECT sol.id, (SELECT SUM(x.line_units) FROM (SELECT DISTINCT allocation_id, line_units FROM reservations r
                     WHERE r.order_line_id = sol.id AND r.state <> 'released') x) AS units
                   FROM sales_order_lines sol WHERE sol.order_id = ?) a
            WHERE l.id = a.id AND l.quantity - COALESCE(a.units, 0) <> l.quantity_cancelled`,
          [input.orderId],
        );
        const total = await tx('sales_order_lines').where({ order_id: input.orderId }).sum({ n: 'quantity_cancelled' }).first();
        return { cancelledUnits: Number(total?.n ?? 0) };
      });
    },

    /** The parcel left before the warehouse could stop it: the cancel is refused and the customer is offered a return. */
    async refuseCancel(input: { orderId: string; reason: string }): Promise<void> {
      await inTransaction(db, async (tx) => {
        const o = await tx('sales_orders as o').join('customers as c', 'c.id', 'o.customer_id').where('o.id', input.orderId).first('o.external_ref', 'c.email');
        await queueNotification(tx, { key: `order:${input.orderId}:cancel_refused`, recipient: o.email, template: 'cancel_refused', subjectType: 'order', subjectId: input.orderId, payload: { externalRef: o.external_ref, reason: input.reason, returnsAt: '/v1/returns' } });
      });
    },

    async changeShippingAddress(input: { orderId: string; address: ShippingAddress }): Promise<ShippingAddress> {
      return inTransaction(db, async (tx) => {
        await tx('sales_orders').where({ id: input.orderId }).forUpdate().first('id');
        const left = await tx('shipments').where({ order_id: input.orderId }).whereIn('status', ['shipped', 'delivered']).first('id');
        if (left) throw ApplicationFailure.nonRetryable('a shipment has already left; the address can no longer change', 'AddressLocked');
        await tx('sales_orders').where({ id: input.orderId }).update({ shipping_address: JSON.stringify(input.address), updated_at: tx.fn.now() });
        return input.address;
      });
    },
  };
}
