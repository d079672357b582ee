/**
 * Return-to-refund: one workflow per return, id `return-<returnId>`.
 *
 *   authorise (RMA, label) ─► receipt (partial allowed; nothing in time → expired)
 *     ─► inspection (quality rules route each unit) ─► refund decision (auto, or an
 *        approver with an SLA that escalates) ─► credit note + refund (refund.ts)
 *     or ─► replacement order (a child order-to-cash at zero price; no stock → refund if the approver agrees)
 */
import { executeChild, patched } from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common/lib/time';
import type { ReturnInput } from '../../contracts/return-types';
import {
  ChannelKey,
  CustomerEmailKey,
  CustomerIdKey,
  OrderIdKey,
  OrderStageKey,
} from '../../contracts/search-attributes';

const CUSTOMER_ID_PATCH = 'customer-id-search-attribute';
import { orderWorkflowId, returnWorkflowId } from '../../contracts/workflow-ids';
import { orderToCash } from '../order-to-cash';
import { listen } from './handlers';
import { decideAndRefund } from './refund';
import { act, ReturnProcess, type ReturnOutcome } from './state';

export async function returnToRefund(input: ReturnInput): Promise<ReturnOutcome> {
  const r = new ReturnProcess(input);
  listen(r);
  r.mark('requested');
  const auth = await act.authorizeReturn({ returnId: r.returnId });
  r.expected = auth.expected;
  r.stage = 'authorised';
  r.mark(`authorised ${auth.rmaNumber} (label ${auth.carrier} ${auth.trackingNumber})`);

  if (!(await receive(r))) {
    await r.enter('expired', 'nothing arrived within the return window');
    return r.finish('expired');
  }
  await r.waits.withSla(
    'inspection of the received goods (warehouse)',
    () => r.inspected >= r.received,
    input.policy.inspectionSla,
    () =>
      act.openException({
        key: `inspection_overdue:${r.returnId}`,
        type: 'inspection_overdue',
        subjectType: 'return',
        subjectId: r.returnId,
        workflowId: returnWorkflowId(r.returnId),
        summary: `Return ${auth.rmaNumber}: ${r.received - r.inspected} received unit(s) not inspected within the SLA`,
      }),
    (note) => r.mark(note),
  );
  await r.enter('inspected');

  if (input.resolution === 'refund') return decideAndRefund(r);
  return replace(r);
}

/** Nothing in time → false (expired); part of it by the deadline → go on with what arrived. */
async function receive(r: ReturnProcess): Promise<boolean> {
  const { policy } = r.input;
  const receiptDeadline = Date.now() + msToNumber(policy.receiptTimeout);
  if (!(await r.waits.for('the goods to arrive (warehouse receipt)', () => r.received > 0, policy.receiptTimeout)))
    return false;
  const rest = receiptDeadline - Date.now();
  if (r.received < r.expected && rest > 0)
    await r.waits.for('the rest of the goods', () => r.received >= r.expected, rest);
  if (r.received < r.expected) r.mark(`going on with ${r.received} of ${r.expected} received`);
  await r.enter(r.received >= r.expected ? 'received' : 'partially_received');
  return true;
}

/** A replacement is a child order at zero price; when it cannot be filled, an approver is asked to refund instead. */
async function replace(r: ReturnProcess): Promise<ReturnOutcome> {
  const replacement = await act.createReplacementOrder({
    returnId: r.returnId,
    baseCurrency: r.input.policy.baseCurrency,
  });
  r.stage = 'replacement_ordered';
  r.mark(`replacement order ${replacement.externalRef}`);
  const outcome = await executeChild(orderToCash, {
    workflowId: orderWorkflowId(replacement.channel, replacement.externalRef),
    args: [{ ...replacement, timings: r.input.policy.orderTimings }],
    typedSearchAttributes: [
      { key: OrderIdKey, value: replacement.orderId },
      { key: ChannelKey, value: replacement.channel },
      // The customer id instead of the e-mail once this runs the new code (a search attribute is not encrypted).
      patched(CUSTOMER_ID_PATCH) && replacement.customerId
        ? { key: CustomerIdKey, value: replacement.customerId }
        : { key: CustomerEmailKey, value: replacement.customerEmail },
      { key: OrderStageKey, value: 'received' },
    ],
  });
  if (outcome.status === 'completed') {
    await r.enter('replaced');
    return r.finish('replaced');
  }
  r.mark(`replacement could not be filled (${outcome.reason ?? outcome.status})`);
  return decideAndRefund(
    r,
    `the replacement could not be filled (${outcome.reason ?? outcome.status}); refund instead?`,
  );
}
