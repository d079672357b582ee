/** The exception queue: list and filter, read one with its context, claim it, resolve it with an allowed action. */
import { WorkflowNotFoundError } from '@temporalio/client';
import {
  claimException,
  exceptionWithType,
  listExceptions,
  resolveOpenCase,
  type ExceptionRow,
} from '../../db/exceptions';
import { poOfBill, purchaseOrderView } from '../../db/purchasing';
import { returnView } from '../../db/returns';
import { orderView } from '../../db/sales';
import { caseQuery, resolveCaseUpdate } from '../../contracts/exception-messages';
import { processQuery } from '../../contracts/order-messages';
import { purchaseProcessQuery } from '../../contracts/purchase-messages';
import { returnProcessQuery } from '../../contracts/return-messages';
import type { ApiDeps } from '../deps';
import { badRequest, conflict, notFound } from '../errors';
import { queryProcess, updateProcess } from '../process';
import type { Routes } from '../route';
import {
  ExceptionCase,
  ExceptionClaim,
  ExceptionList,
  ExceptionParams,
  ExceptionResolution,
  ExceptionResolutionBody,
  ExceptionsQuery,
  isUuid,
} from '../schemas';

export function exceptionRoutes(routes: Routes, { db, temporal, config }: ApiDeps): void {
  /** What the waiting process is doing, by the kind of process its id names. */
  async function liveProcess(
    workflowId: string | null,
  ): Promise<{ stage: string; waitingFor: string | string[] | null } | undefined> {
    if (!workflowId) return undefined;
    if (workflowId.startsWith('order-')) return queryProcess(temporal, workflowId, processQuery, config);
    if (workflowId.startsWith('return-')) return queryProcess(temporal, workflowId, returnProcessQuery, config);
    if (workflowId.startsWith('po-')) return queryProcess(temporal, workflowId, purchaseProcessQuery, config);
    return undefined;
  }
  async function findException(id: string) {
    const e = isUuid(id) ? await exceptionWithType(db, id) : undefined;
    if (!e) throw notFound(`Exception ${id}`);
    return e;
  }
  const summary = (e: ExceptionRow) => ({
    exceptionId: e.id,
    type: e.type,
    status: e.status,
    severity: e.severity,
    queue: e.queue,
    subjectType: e.subject_type,
    subjectId: e.subject_id,
    summary: e.summary,
    openedAt: e.opened_at,
    slaDueAt: e.sla_due_at ?? undefined,
    slaBreached: e.status === 'open' && !!e.sla_due_at && new Date(e.sla_due_at as string | Date) < new Date(),
    escalationLevel: e.escalation_level,
    claimedBy: e.claimed_by ?? undefined,
    resolution: e.resolution ?? undefined,
    resolvedAt: e.resolved_at ?? undefined,
  });

  routes.add({
    method: 'get',
    path: '/v1/exceptions',
    tag: 'Exceptions',
    summary: 'The queue of cases that need a person, oldest first',
    roles: ['ops'],
    query: ExceptionsQuery,
    response: { status: 200, schema: ExceptionList, description: 'Cases' },
    handler: async (_ctx, { query }) => {
      return { body: { exceptions: (await listExceptions(db, query)).map(summary) } };
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/exceptions/:id',
    tag: 'Exceptions',
    summary: 'One case with its allowed actions and the context of the process it holds up',
    roles: ['ops'],
    params: ExceptionParams,
    response: { status: 200, schema: ExceptionCase, description: 'The case' },
    handler: async (_ctx, { params }) => {
      const e = await findException(params.id);
      const order = e.subject_type === 'order' ? await orderView(db, e.subject_id) : undefined;
      const ret = e.subject_type === 'return' ? await returnView(db, e.subject_id) : undefined;
      const poId =
        e.subject_type === 'purchase_order'
          ? e.subject_id
          : e.subject_type === 'vendor_bill'
            ? await poOfBill(db, e.subject_id)
            : undefined;
      const purchase = poId ? await purchaseOrderView(db, poId) : undefined;
      // Both live views at once: with no worker each waits its whole deadline.
      const [process, caseProcess] = await Promise.all([
        liveProcess(e.workflow_id),
        e.case_workflow_id ? queryProcess(temporal, e.case_workflow_id, caseQuery, config) : undefined,
      ]);
      return {
        body: {
          ...summary(e),
          description: e.description,
          details: e.details,
          allowedActions: e.actions,
          resolutionData: e.resolution_data ?? undefined,
          context: {
            order: order
              ? {
                  orderId: order.orderId,
                  status: order.status,
                  customer: order.customer,
                  shippingAddress: order.shippingAddress,
                  totals: order.totals,
                }
              : undefined,
            return: ret ? { returnId: ret.returnId, status: ret.status, orderId: ret.orderId } : undefined,
            purchaseOrder: purchase
              ? {
                  poId: purchase.poId,
                  number: purchase.number,
                  status: purchase.status,
                  supplier: purchase.supplier,
                  lines: purchase.lines,
                  bills: purchase.bills,
                }
              : undefined,
            process: process
              ? { workflowId: e.workflow_id, stage: process.stage, waitingFor: process.waitingFor }
              : undefined,
            case: caseProcess ? { workflowId: e.case_workflow_id, ...caseProcess } : undefined,
          },
        },
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/exceptions/:id/claim',
    errors: [409],
    tag: 'Exceptions',
    summary: 'Take a case (so two people do not work it twice)',
    roles: ['ops'],
    action: 'exception.claim',
    params: ExceptionParams,
    response: { status: 200, schema: ExceptionClaim, description: 'Claimed' },
    handler: async (_ctx, { params, principal }) => {
      const e = await findException(params.id);
      if (e.status !== 'open') throw conflict(`The case is already ${e.status}`);
      const n = await claimException(db, e.id, principal.name);
      if (n === 0) throw conflict(`The case is claimed by ${e.claimed_by}`);
      return {
        body: { exceptionId: e.id, claimedBy: principal.name },
        audit: { target: e.id, workflowId: e.case_workflow_id ?? undefined },
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/exceptions/:id/resolution',
    errors: [409, 422],
    tag: 'Exceptions',
    summary: 'Resolve a case with one of its allowed actions; the waiting process continues accordingly',
    roles: ['ops'],
    action: 'exception.resolve',
    params: ExceptionParams,
    body: ExceptionResolutionBody,
    response: { status: 200, schema: ExceptionResolution, description: 'Resolved; 409 lists the allowed actions' },
    handler: async (_ctx, { params, body, principal }) => {
      const e = await findException(params.id);
      const allowed = e.actions as { action: string; effect: string }[];
      if (e.status !== 'open') throw conflict(`The case is already ${e.status}`, allowed);
      if (!allowed.some((a) => a.action === body.action))
        throw conflict(
          `Action "${body.action}" is not allowed for ${e.type}; allowed: ${allowed.map((a) => a.action).join(', ')}`,
          allowed,
        );
      if (body.action === 'correct_address' && !body.data?.address)
        throw badRequest('correct_address needs data.address', [{ path: 'data.address', message: 'required' }]);
      const resolution = { action: body.action, note: body.note, data: body.data, resolvedBy: principal.name };
      if (e.case_workflow_id) {
        try {
          await updateProcess(temporal, e.case_workflow_id, resolveCaseUpdate, resolution);
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }
      } else {
        // A case raised without a process of its own: recording the resolution is all there is to do.
        await resolveOpenCase(db, e.id, {
          action: body.action,
          note: body.note,
          data: body.data,
          resolvedBy: principal.name,
        });
      }
      return {
        body: { exceptionId: e.id, action: body.action, accepted: true },
        audit: { target: e.id, workflowId: e.case_workflow_id ?? e.workflow_id ?? undefined },
      };
    },
  });
}
