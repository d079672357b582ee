/** Approvals: decisions asked of a person, with their SLA, escalation and answer. */
import { randomUUID } from 'node:crypto';
import type { Db, Tx } from './index';

export interface NewApproval {
  key: string; // business key of the request: asking again is a no-op
  kind: string;
  subjectType: string;
  subjectId: string;
  workflowId: string;
  amount: number;
  currency: string;
  reason: string;
  slaDueAt: Date;
}

/** Records the request once per key; answers its id either way. */
export async function recordApprovalRequest(db: Db | Tx, a: NewApproval): Promise<string> {
  await db('approvals')
    .insert({
      id: randomUUID(),
      idempotency_key: a.key,
      kind: a.kind,
      subject_type: a.subjectType,
      subject_id: a.subjectId,
      workflow_id: a.workflowId,
      amount: a.amount,
      currency: a.currency,
      reason: a.reason,
      sla_due_at: a.slaDueAt,
    })
    .onConflict('idempotency_key')
    .ignore();
  return (await db('approvals').where({ idempotency_key: a.key }).first('id')).id;
}

/** The approval row, locked. */
export async function lockApproval(tx: Tx, approvalId: string) {
  return tx('approvals').where({ id: approvalId }).forUpdate().first();
}

/** Higher priority in the inbox, and when it was escalated. */
export async function markApprovalEscalated(tx: Tx, approvalId: string): Promise<void> {
  await tx('approvals').where({ id: approvalId }).update({ priority: 'high', escalated_at: tx.fn.now() });
}

/** Records the decision on an approval still pending. */
export async function recordApprovalDecision(
  db: Db | Tx,
  approvalId: string,
  d: { status: string; decision: string; amount: number | null; decidedBy: string | null; note: string },
): Promise<void> {
  await db('approvals').where({ id: approvalId, status: 'pending' }).update({
    status: d.status,
    decision: d.decision,
    decided_amount: d.amount,
    decided_by: d.decidedBy,
    note: d.note,
    decided_at: db.fn.now(),
  });
}

/** The latest decision taken on the return's approvals, if any. */
export async function lastReturnDecision(
  db: Db | Tx,
  returnId: string,
): Promise<{ decision: string; decided_amount: number | null } | undefined> {
  return db('approvals')
    .where({ subject_type: 'return', subject_id: returnId })
    .whereNot('status', 'pending')
    .orderBy('decided_at', 'desc')
    .first('decision', 'decided_amount');
}

/** The approvals of one status, oldest request first. */
export async function approvalsInbox(db: Db | Tx, status: string, limit: number) {
  return db('approvals').where({ status }).orderBy('requested_at').limit(limit);
}
