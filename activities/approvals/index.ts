/** Approval activities: ask a person, escalate when the SLA lapses (never decide by ourselves), record the answer. */
import { randomUUID } from 'node:crypto';
import { inTransaction } from '../../db';
import { raiseException } from '../../db/outbox';
import type { ActivityDeps } from '../deps';

export interface ApprovalRequest {
  key: string; // business key of this request, e.g. return:<id>:refund
  kind: 'refund' | 'purchase_order';
  subjectType: string;
  subjectId: string;
  workflowId: string;
  amount: number;
  currency: string;
  reason: string;
  slaMs: number;
}

export function approvalActivities({ db }: ActivityDeps) {
  return {
    async requestApproval(a: ApprovalRequest): Promise<{ approvalId: string }> {
      await db('approvals')
        .insert({
          id: randomUUID(), idempotency_key: a.key, kind: a.kind, subject_type: a.subjectType, subject_id: a.subjectId, workflow_id: a.workflowId,
          amount: a.amount, currency: a.currency, reason: a.reason, sla_due_at: new Date(Date.now() + a.slaMs),
        })
        .onConflict('idempotency_key')
        .ignore();
      return { approvalId: (await db('approvals').where({ idempotency_key: a.key }).first('id')).id };
    },

    /** The SLA lapsed: higher priority in the inbox and an exception for the supervisors. The process keeps waiting. */
    async escalateApproval(input: { approvalId: string }): Promise<{ exceptionId: string }> {
      return inTransaction(db, async (tx) => {
        const a = await tx('approvals').where({ id: input.approvalId }).forUpdate().first();
        if (a.status === 'pending' && !a.escalated_at) await tx('approvals').where({ id: a.id }).update({ priority: 'high', escalated_at: tx.fn.now() });
        const exceptionId = await raiseException(tx, {
          key: `approval_overdue:${a.id}`, type: 'approval_overdue', severity: 'high', queue: 'supervisors', subjectType: 'approval', subjectId: a.id, workflowId: a.workflow_id,
          summary: `${a.kind} decision of ${a.amount} ${a.currency} for ${a.subject_type} ${a.subject_id} is past its SLA (${new Date(a.sla_due_at).toISOString()})`,
          details: { kind: a.kind, subjectType: a.subject_type, subjectId: a.subject_id, reason: a.reason },
        });
        return { exceptionId };
      });
    },

    async recordDecision(input: { approvalId: string; decision: 'approve' | 'reject' | 'partial'; amount?: number; decidedBy?: string; note: string }): Promise<void> {
      const status = { approve: 'approved', reject: 'rejected', partial: 'partial' }[input.decision];
      await db('approvals').where({ id: input.approvalId, status: 'pending' }).update({
        status, decision: input.decision, decided_amount: input.amount ?? null, decided_by: input.decidedBy ?? null, note: input.note, decided_at: db.fn.now(),
      });
    },
  };
}
