/**
 * Records that wait on a process: a pending approval, an open case with its own process, an unfinished
 * return or purchase order. When that process has ended, the record is an orphan: nothing will ever move
 * it. Finding them needs Temporal (activities/exceptions/orphans.ts); this module owns the SQL on both sides.
 */
import { randomUUID } from 'node:crypto';
import { inTransaction, type Db } from './index';

export type OrphanKind = 'approval' | 'case' | 'return' | 'purchase_order';

export interface WaitingRecord {
  kind: OrphanKind;
  id: string;
  label: string; // what a person calls it: the return id, the PO number, the approval's subject
  status: string;
  workflowId: string;
  ageSeconds: number;
}

export interface Orphan extends WaitingRecord {
  process: string; // COMPLETED, FAILED, TERMINATED... or NOT_FOUND (never started)
}

const RETURN_DONE = ['refunded', 'rejected', 'replaced', 'expired', 'closed'];
const PURCHASE_DONE = ['rejected', 'closed', 'cancelled'];
const list = (xs: string[]) => xs.map((x) => `'${x}'`).join(', ');

/** Every record that waits on a process, with the process it waits on. */
export async function waitingRecords(db: Db): Promise<WaitingRecord[]> {
  const age = (col: string) => `EXTRACT(EPOCH FROM now() - ${col})::int AS age_seconds`;
  const { rows } = await db.raw(`
    SELECT 'approval' AS kind, id::text, kind || ' ' || subject_type || ' ' || subject_id AS label, status, workflow_id, ${age('requested_at')} FROM approvals WHERE status = 'pending'
    UNION ALL
    SELECT 'case', id::text, type || ' ' || subject_type || ' ' || subject_id, status, case_workflow_id, ${age('opened_at')} FROM exceptions WHERE status = 'open' AND case_workflow_id IS NOT NULL
    UNION ALL
    SELECT 'return', id::text, 'return ' || COALESCE(rma_number, id::text), status, workflow_id, ${age('requested_at')} FROM returns WHERE status NOT IN (${list(RETURN_DONE)})
    UNION ALL
    SELECT 'purchase_order', id::text, number, status, workflow_id, ${age('created_at')} FROM purchase_orders WHERE status NOT IN (${list(PURCHASE_DONE)})`);
  return (
    rows as { kind: OrphanKind; id: string; label: string; status: string; workflow_id: string; age_seconds: number }[]
  ).map((r) => ({
    kind: r.kind,
    id: r.id,
    label: r.label,
    status: r.status,
    workflowId: r.workflow_id,
    ageSeconds: r.age_seconds,
  }));
}

/**
 * Closes an orphan with the reason and opens an engineering case about it, in one transaction. Only a record
 * still in the state it was found in is closed: one its process moved meanwhile is left alone.
 */
export async function closeOrphan(db: Db, o: Orphan): Promise<boolean> {
  const reason = `its process ${o.workflowId} ${o.process === 'NOT_FOUND' ? 'never started' : `ended (${o.process})`} while it was ${o.status}`;
  return inTransaction(db, async (tx) => {
    const still = { id: o.id, status: o.status };
    let closed = 0;
    if (o.kind === 'approval')
      closed = await tx('approvals')
        .where(still)
        .update({ status: 'withdrawn', note: `Withdrawn by the sweep: ${reason}`, decided_at: tx.fn.now() });
    if (o.kind === 'case')
      closed = await tx('exceptions')
        .where(still)
        .update({
          status: 'closed',
          resolution: 'process_ended',
          resolved_by: 'sweep',
          resolved_at: tx.fn.now(),
          resolution_data: JSON.stringify({ reason }),
        });
    if (o.kind === 'return')
      closed = await tx('returns')
        .where(still)
        .update({ status: 'closed', outcome_reason: `closed by the sweep: ${reason}`, updated_at: tx.fn.now() });
    if (o.kind === 'purchase_order') {
      const ended = ['partially_received', 'received'].includes(o.status) ? 'closed' : 'cancelled'; // goods already in stock stay booked
      closed = await tx('purchase_orders')
        .where(still)
        .update({ status: ended, note: `${ended} by the sweep: ${reason}`, closed_at: tx.fn.now() });
    }
    if (!closed) return false;
    await tx('exceptions')
      .insert({
        id: randomUUID(),
        type: 'orphaned_record',
        queue: 'engineering',
        severity: 'high',
        subject_type: o.kind,
        subject_id: o.id,
        workflow_id: o.workflowId,
        summary: `${o.label} was closed: ${reason}`,
        details: JSON.stringify({ previousStatus: o.status, process: o.process }),
        idempotency_key: `orphaned_record:${o.kind}:${o.id}`,
        sla_due_at: tx.raw(`now() + interval '4 hours'`),
      })
      .onConflict('idempotency_key')
      .ignore();
    return true;
  });
}
