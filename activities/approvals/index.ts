/** Approval activities: ask a person, escalate when the SLA lapses (never decide by ourselves), record the answer. */
import { inTransaction } from '../../db';
import {
  lockApproval,
  markApprovalEscalated,
  recordApprovalDecision,
  recordApprovalRequest,
  type NewApproval,
} from '../../db/approvals';
import { raiseException } from '../../db/exceptions';
import type { ActivityDeps } from '../deps';

/** What a process asks an approver: the request, and how long the approver has (the SLA). */
export type ApprovalRequest = Omit<NewApproval, 'slaDueAt' | 'kind'> & {
  kind: 'refund' | 'purchase_order';
  slaMs: number;
};

export function approvalActivities({ db }: ActivityDeps) {
  return {
    async requestApproval(a: ApprovalRequest): Promise<{ approvalId: string }> {
      const { slaMs, ...request } = a;
      const approvalId = await recordApprovalRequest(db, { ...request, slaDueAt: new Date(Date.now() + slaMs) });
      return { approvalId };
    },

    /** The SLA lapsed: higher priority in the inbox and an exception for the supervisors. The process keeps waiting. */
    async escalateApproval(input: { approvalId: string }): Promise<{ exceptionId: string }> {
      return inTransaction(db, async (tx) => {
        const a = await lockApproval(tx, input.approvalId);
        if (a.status === 'pending' && !a.escalated_at) await markApprovalEscalated(tx, a.id);
        const exceptionId = await raiseException(tx, {
          key: `approval_overdue:${a.id}`,
          type: 'approval_overdue',
          severity: 'high',
          queue: 'supervisors',
          subjectType: 'approval',
          subjectId: a.id,
          workflowId: a.workflow_id,
          summary: `${a.kind} decision of ${a.amount} ${a.currency} for ${a.subject_type} ${a.subject_id} is past its SLA (${new Date(a.sla_due_at).toISOString()})`,
          details: { kind: a.kind, subjectType: a.subject_type, subjectId: a.subject_id, reason: a.reason },
        });
        return { exceptionId };
      });
    },

    async recordDecision(input: {
      approvalId: string;
      decision: 'approve' | 'reject' | 'partial';
      amount?: number;
      decidedBy?: string;
      note: string;
    }): Promise<void> {
      const status = { approve: 'approved', reject: 'rejected', partial: 'partial' }[input.decision];
      await recordApprovalDecision(db, input.approvalId, {
        status,
        decision: input.decision,
        amount: input.amount ?? null,
        decidedBy: input.decidedBy ?? null,
        note: input.note,
      });
    },
  };
}
