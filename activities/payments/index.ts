/**
 * Payment activities. The provider call happens first, with an idempotency key
 * from the business key and step; our record of it is then written in one
 * transaction. A crash between the two is healed by the retry: the provider
 * answers the same key with the same result, and our insert is keyed too.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { inTransaction } from '../../db';
import { ACCOUNT, invoiceById, markInvoicePaid, postEntry } from '../../db/ledger';
import { queueNotification } from '../../db/notifications';
import { authorizationOf, capturedTotal, paymentByKey, recordCapture, recordPayment } from '../../db/payments';
import { orderForPayment } from '../../db/sales';
import { writeOrderStatus } from '../sales/status';
import type { OrderStatus } from '../../contracts/order-types';
import type { ActivityDeps } from '../deps';
import type { RiskVerdict } from './provider';

export function paymentActivities({ db, payments }: ActivityDeps) {
  async function orderMoney(orderId: string) {
    const o = await orderForPayment(db, orderId);
    if (!o) throw new Error(`Order ${orderId} not found`);
    return o;
  }

  return {
    async assessRisk(input: { orderId: string; token: string }): Promise<RiskVerdict> {
      const o = await orderMoney(input.orderId);
      return payments.assessRisk({ token: input.token, amount: o.total, currency: o.currency, email: o.email });
    },

    /** Authorises the order total. A decline is an answer, not an error: the workflow compensates. */
    async authorizePayment(input: { orderId: string; token: string }): Promise<{ approved: boolean; reason?: string }> {
      const key = `${input.orderId}:authorize`;
      const recorded = await paymentByKey(db, key);
      if (recorded) return { approved: recorded.status === 'succeeded', reason: recorded.failure_reason ?? undefined };
      const o = await orderMoney(input.orderId);
      const result = await payments.authorize({
        token: input.token,
        amount: o.total,
        currency: o.currency,
        idempotencyKey: key,
      });
      await inTransaction(db, async (tx) => {
        await recordPayment(tx, {
          orderId: input.orderId,
          kind: 'authorization',
          amount: o.total,
          currency: o.currency,
          status: result.approved ? 'succeeded' : 'failed',
          provider: payments.name,
          providerRef: result.providerRef,
          failureReason: result.reason,
          key,
        });
        if (result.approved) {
          await queueNotification(tx, {
            key: `order:${input.orderId}:confirmed`,
            recipient: o.email,
            template: 'order_confirmed',
            subjectType: 'order',
            subjectId: input.orderId,
            payload: { externalRef: o.external_ref, total: o.total, currency: o.currency },
          });
        }
      });
      return { approved: result.approved, reason: result.reason };
    },

    /**
     * Captures an invoice's total against the authorisation and books the receipt of money. With `status`, the
     * order's status people see becomes it once the money is captured (instead of a step of its own). Answers
     * what is left of the authorisation: nothing left, nothing to void when the order closes.
     */
    async capturePayment(input: {
      orderId: string;
      invoiceId: string;
      status?: OrderStatus;
    }): Promise<{ captured: number; authorisationLeft: number }> {
      const { captured } = await captureInvoice(input);
      await statusAfter(input);
      return { captured, authorisationLeft: (await authorisationLeft(input.orderId))?.left ?? 0 };
    },

    /** Voids what is left of the authorisation (all of it when nothing shipped); with `status`, as capture does. */
    async voidAuthorization(input: { orderId: string; status?: OrderStatus }): Promise<{ voided: number }> {
      const voided = await voidRest(input);
      await statusAfter(input);
      return voided;
    },
  };

  /** The status the step leads to, forward only (a late attempt of this slow step must not move it back). */
  async function statusAfter(input: { orderId: string; status?: OrderStatus }): Promise<void> {
    const { status } = input;
    if (status) await inTransaction(db, (tx) => writeOrderStatus(tx, input.orderId, status, { forwardOnly: true }));
  }

  async function captureInvoice(input: { orderId: string; invoiceId: string }): Promise<{ captured: number }> {
    const key = `${input.orderId}:capture:${input.invoiceId}`;
    const recorded = await paymentByKey(db, key);
    if (recorded) return { captured: recorded.amount };
    const invoice = await invoiceById(db, input.invoiceId);
    const auth = await authorizationOf(db, input.orderId);
    if (!invoice || !auth)
      throw new Error(`Cannot capture: invoice ${input.invoiceId} or authorisation of ${input.orderId} missing`);
    const result =
      invoice.total > 0
        ? await payments.capture({ authorizationRef: auth.provider_ref, amount: invoice.total, idempotencyKey: key })
        : { approved: true, providerRef: 'none' };
    if (!result.approved)
      throw ApplicationFailure.nonRetryable(`Capture refused by ${payments.name}: ${result.reason}`, 'CaptureRefused'); // retrying the same key gets the same answer: a person must look
    await inTransaction(db, async (tx) => {
      const captureId = await recordCapture(tx, {
        orderId: input.orderId,
        amount: invoice.total,
        currency: invoice.currency,
        provider: payments.name,
        providerRef: result.providerRef,
        invoiceId: invoice.id,
        key,
      });
      if (captureId === undefined) return;
      await markInvoicePaid(tx, invoice.id);
      await postEntry(tx, {
        key: `capture:${key}`,
        description: `Payment captured for invoice ${invoice.number}`,
        sourceType: 'payment',
        sourceId: captureId,
        currency: invoice.currency,
        lines: [
          { account: ACCOUNT.paymentClearing, debit: invoice.total },
          { account: ACCOUNT.receivables, credit: invoice.total },
        ],
      });
    });
    return { captured: invoice.total };
  }

  /** The order's authorisation and how much of it is not captured; undefined when nothing was authorised. */
  async function authorisationLeft(orderId: string) {
    const auth = await authorizationOf(db, orderId);
    return auth ? { auth, left: auth.amount - (await capturedTotal(db, orderId)) } : undefined;
  }

  async function voidRest(input: { orderId: string }): Promise<{ voided: number }> {
    const key = `${input.orderId}:void`;
    const recorded = await paymentByKey(db, key);
    if (recorded) return { voided: recorded.amount };
    const rest = await authorisationLeft(input.orderId);
    if (!rest || rest.left <= 0) return { voided: 0 };
    const { auth, left: amount } = rest;
    const result = await payments.void({ authorizationRef: auth.provider_ref, amount, idempotencyKey: key });
    await recordPayment(db, {
      orderId: input.orderId,
      kind: 'void',
      amount,
      currency: auth.currency,
      status: result.approved ? 'succeeded' : 'failed',
      provider: payments.name,
      providerRef: result.providerRef,
      failureReason: result.reason,
      key,
    });
    return { voided: result.approved ? amount : 0 };
  }
}
