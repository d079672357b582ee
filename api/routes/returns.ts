/** Returns (return-to-refund) and the approvals inbox. */
import { approvalsInbox, lastReturnDecision } from '../../db/approvals';
import { returnRef, returnsMatching, returnView, requestReturn, ReturnRejected } from '../../db/returns';
import { orderExists } from '../../db/sales';
import { returnPolicy } from '../../lib/config';
import { decideUpdate, inspectUpdate, receiveUpdate, returnProcessQuery } from '../../contracts/return-messages';
import type { returnToRefund } from '../../workflows/return-to-refund';
import { OrderIdKey } from '../../contracts/search-attributes';
import type { ApiDeps } from '../deps';
import { notFound, refuseBadCursor, unprocessable } from '../errors';
import { pageOf } from '../../db/paging';
import { nudgeBackorders, queryProcess, recordedProcess, startOnce, updateIdOf, updateProcess } from '../process';
import type { Routes } from '../route';
import {
  ApprovalList,
  ApprovalsQuery,
  DecisionBody,
  InspectionBody,
  ReceiptBody,
  ReturnCreated,
  ReturnDecision,
  ReturnInspection,
  ReturnList,
  ReturnListQuery,
  ReturnParams,
  ReturnReceipt,
  ReturnRequest,
  ReturnView,
  isUuid,
} from '../schemas';

export function returnRoutes(routes: Routes, { db, temporal, config }: ApiDeps): void {
  async function findReturn(returnId: string) {
    const r = isUuid(returnId) ? await returnRef(db, returnId) : undefined;
    if (!r) throw notFound(`Return ${returnId}`);
    return r;
  }

  routes.add({
    method: 'post',
    path: '/v1/returns',
    errors: [404, 422],
    tag: 'Returns',
    summary: 'Request a return (starts its return-to-refund process)',
    roles: ['storefront', 'ops'],
    action: 'return.request',
    body: ReturnRequest,
    idempotent: true,
    response: {
      status: 201,
      schema: ReturnCreated,
      description: 'The return and its process; 422 when outside the window or more than shipped',
    },
    handler: async (_ctx, { body, requestKey }) => {
      if (!(await orderExists(db, body.orderId))) throw notFound(`Order ${body.orderId}`);
      let created;
      try {
        created = await requestReturn(db, body, new Date(), requestKey);
      } catch (err) {
        if (err instanceof ReturnRejected) throw unprocessable(err.message, err.details);
        throw err;
      }
      await startOnce<typeof returnToRefund>(temporal, 'returnToRefund', {
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        workflowId: created.workflowId,
        args: [
          {
            returnId: created.returnId,
            orderId: body.orderId,
            resolution: body.resolution,
            policy: returnPolicy(config),
          },
        ],
        typedSearchAttributes: [{ key: OrderIdKey, value: body.orderId }],
      });
      return {
        body: { returnId: created.returnId, workflowId: created.workflowId, status: 'requested' },
        audit: { target: created.returnId, workflowId: created.workflowId },
      };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/returns',
    tag: 'Returns',
    summary: 'Returns by status or order, newest first, a page at a time (the warehouse: authorised ones to receive)',
    roles: ['warehouse', 'ops', 'approver', 'finance'],
    query: ReturnListQuery,
    response: { status: 200, schema: ReturnList, description: 'A page of returns' },
    handler: async (_ctx, { query }) => {
      const page = await pageOf<{
        id: string;
        rma_number: string | null;
        order_id: string;
        status: string;
        resolution: string;
        requested_at: Date;
      }>(returnsMatching(db, query), {
        atColumn: 'requested_at',
        idColumn: 'id',
        cursor: query.cursor,
        limit: query.limit,
        at: (r) => r.requested_at,
      }).catch(refuseBadCursor);
      return {
        body: {
          returns: page.items.map((r) => ({
            returnId: r.id,
            rmaNumber: r.rma_number ?? undefined,
            orderId: r.order_id,
            status: r.status,
            resolution: r.resolution,
            requestedAt: r.requested_at,
          })),
          next: page.next,
        },
      };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/returns/:returnId',
    tag: 'Returns',
    summary: 'A return with its receipts, inspections, credit note, refunds and live process',
    roles: ['storefront', 'ops', 'warehouse', 'approver', 'finance'],
    params: ReturnParams,
    response: { status: 200, schema: ReturnView, description: 'The return' },
    handler: async (_ctx, { params }) => {
      const r = await findReturn(params.returnId);
      const view = (await returnView(db, r.id))!;
      const live = await queryProcess(temporal, r.workflow_id, returnProcessQuery, config);
      return {
        body: {
          ...view,
          process: live ? { ...live, live: true } : recordedProcess(view.status, null, config.LIVE_VIEW_TIMEOUT_MS),
        },
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/returns/:returnId/receipt',
    errors: [409, 422],
    tag: 'Returns',
    summary: 'Record what physically arrived (partial receipts allowed)',
    roles: ['warehouse'],
    action: 'return.receive',
    params: ReturnParams,
    body: ReceiptBody,
    idempotent: true,
    response: { status: 200, schema: ReturnReceipt, description: 'Units received so far' },
    handler: async (ctx, { params, body }) => {
      const r = await findReturn(params.returnId);
      const totals = await updateProcess(
        temporal,
        r.workflow_id,
        receiveUpdate,
        body.lines,
        updateIdOf(ctx, 'receipt'),
      );
      return { body: { returnId: r.id, ...totals }, audit: { target: r.id, workflowId: r.workflow_id } };
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/returns/:returnId/inspection',
    errors: [409, 422],
    tag: 'Returns',
    summary: 'Grade received units; answers the disposition chosen per line',
    roles: ['warehouse'],
    action: 'return.inspect',
    params: ReturnParams,
    body: InspectionBody,
    idempotent: true,
    response: { status: 200, schema: ReturnInspection, description: 'restock | repair | quarantine | scrap per line' },
    handler: async (ctx, { params, body }) => {
      const r = await findReturn(params.returnId);
      const result = await updateProcess(
        temporal,
        r.workflow_id,
        inspectUpdate,
        body.lines,
        updateIdOf(ctx, 'inspection'),
      );
      await nudgeBackorders(temporal, result.ordersWaiting); // restocked units are available to promise at once
      return { body: { returnId: r.id, lines: result.lines }, audit: { target: r.id, workflowId: r.workflow_id } };
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/returns/:returnId/decision',
    errors: [409, 422],
    tag: 'Returns',
    summary: 'Approve, reject or partially approve a refund',
    roles: ['approver'],
    action: 'return.decide',
    params: ReturnParams,
    body: DecisionBody,
    response: {
      status: 200,
      schema: ReturnDecision,
      description: 'The decision reached the process (a repeat of it is harmless)',
    },
    handler: async (_ctx, { params, body, principal }) => {
      const r = await findReturn(params.returnId);
      const decided = await lastReturnDecision(db, r.id);
      if (
        decided &&
        decided.decision === body.decision &&
        (body.decision !== 'partial' || decided.decided_amount === body.amount)
      ) {
        return {
          body: { returnId: r.id, decision: body.decision, repeat: true },
          audit: { target: r.id, workflowId: r.workflow_id },
        };
      }
      await updateProcess(temporal, r.workflow_id, decideUpdate, { ...body, decidedBy: principal.name });
      return {
        body: { returnId: r.id, decision: body.decision, repeat: false },
        audit: { target: r.id, workflowId: r.workflow_id },
      };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/approvals',
    tag: 'Approvals',
    summary: 'Everything waiting on a person, oldest first, with its SLA',
    roles: ['approver'],
    query: ApprovalsQuery,
    response: { status: 200, schema: ApprovalList, description: 'Approvals' },
    handler: async (_ctx, { query }) => {
      const rows = await approvalsInbox(db, query.status, query.limit);
      const now = Date.now();
      return {
        body: {
          approvals: rows.map((a) => ({
            approvalId: a.id,
            kind: a.kind,
            subjectType: a.subject_type,
            subjectId: a.subject_id,
            workflowId: a.workflow_id,
            amount: a.amount,
            currency: a.currency,
            reason: a.reason,
            priority: a.priority,
            requestedAt: a.requested_at,
            slaDueAt: a.sla_due_at,
            slaBreached: new Date(a.sla_due_at).getTime() < now,
            escalatedAt: a.escalated_at ?? undefined,
            decision: a.decision ?? undefined,
            decidedAmount: a.decided_amount ?? undefined,
            decidedBy: a.decided_by ?? undefined,
          })),
        },
      };
    },
  });
}
