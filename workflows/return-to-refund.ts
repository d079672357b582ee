/**
 * Return-to-refund: one workflow per return, id `return-<returnId>`.
 *
 *   authorise (RMA, label) ─► receipt (partial allowed; nothing in time → expired)
 *     ─► inspection (quality rules route each unit) ─► refund decision (auto, or an
 *        approver with an SLA that escalates) ─► credit note + refund
 *     or ─► replacement order (a child order-to-cash at zero price; no stock → refund if the approver agrees)
 *
 * A refund cannot be undone, so it is never compensation: it runs once, last,
 * after a decision, capped by what the order captured.
 */
import { condition, executeChild, proxyActivities, setHandler, uuid4, allHandlersFinished } from '@temporalio/workflow';
import { unprocessable } from '../contracts/refusals';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { Activities } from '../activities';
import { orderToCash } from './order-to-cash';
import { decideUpdate, inspectUpdate, receiveUpdate, returnProcessQuery } from '../contracts/return-messages';
import type { InspectionLine, RefundDecision, ReturnInput, ReturnStatus } from '../contracts/return-types';
import { ChannelKey, CustomerEmailKey, OrderIdKey, OrderStageKey } from '../contracts/search-attributes';
import { orderWorkflowId, returnWorkflowId } from '../contracts/workflow-ids';

const act = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function returnToRefund(input: ReturnInput): Promise<{ status: ReturnStatus; refunded?: number }> {
  const { returnId, policy } = input;
  let stage: ReturnStatus = 'requested';
  let waitingFor: string | null = null;
  const timeline: { step: string; at: string }[] = [];
  let expected = 0;
  let received = 0;
  let inspected = 0;
  let decision = null as RefundDecision | null;
  // What an approver is asked, set before the approval becomes visible in the inbox, so that anyone who
  // sees it can decide at once; the quote bounds a partial refund.
  let awaited = null as { amount: number; currency: string } | null;

  const mark = (step: string) => timeline.push({ step, at: new Date().toISOString() });
  async function enter(next: ReturnStatus, reason?: string) {
    stage = next;
    await act.setReturnStatus({ returnId, status: next, reason });
  }
  async function waitFor(what: string, ready: () => boolean, timeout?: Duration): Promise<boolean> {
    waitingFor = what;
    const ok = timeout === undefined ? (await condition(ready), true) : await condition(ready, timeout);
    waitingFor = null;
    return ok;
  }
  /** Waiting on people always has a timer: when the SLA lapses we escalate once, then keep waiting. */
  async function waitWithSla(what: string, ready: () => boolean, sla: Duration, escalate: () => Promise<unknown>) {
    if (await waitFor(what, ready, sla)) return;
    await escalate();
    mark(`${what}: SLA lapsed, escalated`);
    await waitFor(`${what} (escalated)`, ready);
  }
  async function finish(status: ReturnStatus, refunded?: number) {
    waitingFor = null;
    mark(status);
    await condition(allHandlersFinished);
    return { status, refunded };
  }

  setHandler(returnProcessQuery, () => ({ stage, waitingFor, timeline }));
  setHandler(receiveUpdate, async (lines) => {
    // A parcel can arrive before the label e-mail: the receipt waits for the authorisation, then applies.
    if (stage === 'requested') await condition(() => stage !== 'requested');
    const totals = await act.receiveReturn({ returnId, receiptId: uuid4(), lines });
    received = totals.received;
    if (stage === 'authorised' || stage === 'partially_received') stage = received >= expected ? 'received' : 'partially_received';
    mark(`received ${totals.received} of ${totals.expected}`);
    return totals;
  }, {
    validator: (lines) => {
      if (stage !== 'requested' && stage !== 'authorised' && stage !== 'partially_received') throw new Error(`the return is ${stage}; it takes no more goods`);
      if (lines.length === 0) throw new Error('a receipt needs at least one line');
    },
  });
  setHandler(inspectUpdate, async (lines) => {
    const result = await act.inspectReturn({ returnId, inspectionId: uuid4(), lines });
    inspected += lines.reduce((s, l) => s + l.quantity, 0);
    mark(`inspected: ${result.lines.map((l) => `${l.quantity} ${l.sku} ${l.condition} → ${l.disposition}`).join(', ')}`);
    return result;
  }, {
    validator: (lines: InspectionLine[]) => {
      const asked = lines.reduce((s, l) => s + l.quantity, 0);
      if (asked > received - inspected) throw new Error(`only ${received - inspected} received unit(s) await inspection`);
    },
  });
  setHandler(decideUpdate, (d) => {
    decision = d;
    mark(`decision: ${d.decision}${d.amount !== undefined ? ` ${d.amount}` : ''}${d.decidedBy ? ` by ${d.decidedBy}` : ''}`);
    return { accepted: true };
  }, {
    validator: (d) => {
      if (!awaited || decision) throw new Error(`no decision is awaited (the return is ${stage})`);
      if (d.decision === 'partial' && !(d.amount && d.amount > 0)) throw unprocessable('a partial refund needs a positive amount');
      if (d.decision === 'partial' && d.amount! > awaited.amount) {
        throw unprocessable(`a partial refund of ${d.amount} is more than the refund quote: at most ${awaited.amount} (${awaited.currency} minor units) can be refunded`);
      }
    },
  });

  /** Asks an approver; returns the decision (the inbox shows the SLA; a lapse escalates). */
  async function askApprover(amount: number, currency: string, reason: string, round: string): Promise<RefundDecision> {
    decision = null;
    awaited = { amount, currency };
    const { approvalId } = await act.requestApproval({
      key: `return:${returnId}:${round}`, kind: 'refund', subjectType: 'return', subjectId: returnId, workflowId: returnWorkflowId(returnId),
      amount, currency, reason, slaMs: msToNumber(policy.approvalSla),
    });
    await enter('awaiting_decision');
    mark(`waiting for an approver: ${reason}`);
    await waitWithSla('refund decision (approver)', () => decision !== null, policy.approvalSla, () => act.escalateApproval({ approvalId }));
    awaited = null;
    const d = decision!; // the validator bounded a partial amount by the quote
    await act.recordDecision({ approvalId, ...d });
    return d;
  }

  async function refund(amount: number) {
    await enter('refunding');
    const r = await act.refundReturn({ returnId, amount });
    if (r.capped) mark(`refund capped at ${r.refunded}: the order's captures were already refunded`);
    await enter('refunded', r.capped ? 'capped by what the order captured' : undefined);
    mark(`refunded ${r.refunded}`);
    return finish('refunded', r.refunded);
  }

  async function decideAndRefund(reasonForPerson?: string) {
    const quote = await act.quoteRefund({ returnId });
    if (quote.amount === 0) {
      await enter('closed', 'nothing to refund');
      return finish('closed');
    }
    const automatic = !reasonForPerson && quote.ordinary && quote.amount <= policy.autoApproveLimit;
    if (automatic) {
      mark(`refund of ${quote.amount} approved automatically`);
      return refund(quote.amount);
    }
    const why = reasonForPerson ?? [...quote.why, ...(quote.amount > policy.autoApproveLimit ? [`amount ${quote.amount} is over ${policy.autoApproveLimit}`] : [])].join('; ');
    const d = await askApprover(quote.amount, quote.currency, why, reasonForPerson ? 'fallback-refund' : 'refund');
    if (d.decision === 'reject') {
      await enter('rejected', d.note);
      return finish('rejected');
    }
    return refund(d.decision === 'partial' ? d.amount! : quote.amount);
  }

  // 1. Authorise.
  mark('requested');
  const auth = await act.authorizeReturn({ returnId });
  expected = auth.expected;
  stage = 'authorised';
  mark(`authorised ${auth.rmaNumber} (label ${auth.carrier} ${auth.trackingNumber})`);

  // 2. Receipt: nothing in time → expired; part of it → go on with what arrived.
  const receiptDeadline = Date.now() + msToNumber(policy.receiptTimeout);
  if (!(await waitFor('the goods to arrive (warehouse receipt)', () => received > 0, policy.receiptTimeout))) {
    await enter('expired', 'nothing arrived within the return window');
    return finish('expired');
  }
  const rest = receiptDeadline - Date.now();
  if (received < expected && rest > 0) await waitFor('the rest of the goods', () => received >= expected, rest);
  if (received < expected) mark(`going on with ${received} of ${expected} received`);
  await enter(received >= expected ? 'received' : 'partially_received');

  // 3. Inspection of everything that arrived.
  await waitWithSla('inspection of the received goods (warehouse)', () => inspected >= received, policy.inspectionSla, () =>
    act.openException({ key: `inspection_overdue:${returnId}`, type: 'inspection_overdue', subjectType: 'return', subjectId: returnId, workflowId: returnWorkflowId(returnId), summary: `Return ${auth.rmaNumber}: ${received - inspected} received unit(s) not inspected within the SLA` }));
  await enter('inspected');

  // 4. Refund, or a replacement.
  if (input.resolution === 'refund') return decideAndRefund();
  const replacement = await act.createReplacementOrder({ returnId, baseCurrency: policy.baseCurrency });
  stage = 'replacement_ordered';
  mark(`replacement order ${replacement.externalRef}`);
  const outcome = await executeChild(orderToCash, {
    workflowId: orderWorkflowId(replacement.channel, replacement.externalRef),
    args: [{ ...replacement, timings: policy.orderTimings }],
    typedSearchAttributes: [
      { key: OrderIdKey, value: replacement.orderId }, { key: ChannelKey, value: replacement.channel },
      { key: CustomerEmailKey, value: replacement.customerEmail }, { key: OrderStageKey, value: 'received' },
    ],
  });
  if (outcome.status === 'completed') {
    await enter('replaced');
    return finish('replaced');
  }
  mark(`replacement could not be filled (${outcome.reason ?? outcome.status})`);
  return decideAndRefund(`the replacement could not be filled (${outcome.reason ?? outcome.status}); refund instead?`);
}
