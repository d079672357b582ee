/** What the warehouse and approvers tell a return: receipts, inspections and the refund decision. */
import { condition, setHandler, uuid4 } from '@temporalio/workflow';
import { unprocessable } from '../../contracts/refusals';
import { decideUpdate, inspectUpdate, receiveUpdate, returnProcessQuery } from '../../contracts/return-messages';
import type { InspectionLine } from '../../contracts/return-types';
import { act, type ReturnProcess } from './state';

export function listen(r: ReturnProcess): void {
  setHandler(returnProcessQuery, () => ({ stage: r.stage, waitingFor: r.waits.current, timeline: r.timeline.steps }));
  setHandler(
    receiveUpdate,
    async (lines) => {
      // A parcel can arrive before the label e-mail: the receipt waits for the authorisation, then applies.
      if (r.stage === 'requested') await condition(() => r.stage !== 'requested');
      const totals = await act.receiveReturn({ returnId: r.returnId, receiptId: uuid4(), lines });
      r.received = totals.received;
      if (r.stage === 'authorised' || r.stage === 'partially_received')
        r.stage = r.received >= r.expected ? 'received' : 'partially_received';
      r.mark(`received ${totals.received} of ${totals.expected}`);
      return totals;
    },
    {
      validator: (lines) => {
        if (r.stage !== 'requested' && r.stage !== 'authorised' && r.stage !== 'partially_received')
          throw new Error(`the return is ${r.stage}; it takes no more goods`);
        if (lines.length === 0) throw new Error('a receipt needs at least one line');
      },
    },
  );
  setHandler(
    inspectUpdate,
    async (lines) => {
      const result = await act.inspectReturn({ returnId: r.returnId, inspectionId: uuid4(), lines });
      r.inspected += lines.reduce((s, l) => s + l.quantity, 0);
      r.mark(
        `inspected: ${result.lines.map((l) => `${l.quantity} ${l.sku} ${l.condition} → ${l.disposition}`).join(', ')}`,
      );
      return result;
    },
    {
      validator: (lines: InspectionLine[]) => {
        const asked = lines.reduce((s, l) => s + l.quantity, 0);
        if (asked > r.received - r.inspected)
          throw new Error(`only ${r.received - r.inspected} received unit(s) await inspection`);
      },
    },
  );
  setHandler(
    decideUpdate,
    (d) => {
      r.decision = d;
      r.mark(
        `decision: ${d.decision}${d.amount !== undefined ? ` ${d.amount}` : ''}${d.decidedBy ? ` by ${d.decidedBy}` : ''}`,
      );
      return { accepted: true };
    },
    {
      validator: (d) => {
        if (!r.awaited || r.decision) throw new Error(`no decision is awaited (the return is ${r.stage})`);
        if (d.decision === 'partial' && !(d.amount && d.amount > 0))
          throw unprocessable('a partial refund needs a positive amount');
        if (d.decision === 'partial' && d.amount! > r.awaited.amount) {
          throw unprocessable(
            `a partial refund of ${d.amount} is more than the refund quote: at most ${r.awaited.amount} (${r.awaited.currency} minor units) can be refunded`,
          );
        }
      },
    },
  );
}
