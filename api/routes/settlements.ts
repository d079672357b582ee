/** Payouts as imported and reconciled: what each paid, what it settled, and the differences still open. */
import { listSettlements, settlementDetail } from '../../db/settlements';
import type { RouteDeps } from '../deps';
import { HttpError } from '../errors';
import type { Routes } from '../route';
import { Settlement, SettlementList, SettlementListQuery, SettlementParams } from '../schemas';

export function settlementRoutes(routes: Routes, { db }: RouteDeps): void {
  routes.add({
    method: 'get',
    path: '/v1/settlements',
    tag: 'Finance',
    summary: "The payment provider's payouts as imported, newest first, with their open differences",
    roles: ['finance', 'ops'],
    query: SettlementListQuery,
    response: { status: 200, schema: SettlementList, description: 'The newest payouts' },
    handler: async (_ctx, { query }) => ({ body: { settlements: await listSettlements(db, { limit: query.limit }) } }),
  });

  routes.add({
    method: 'get',
    path: '/v1/settlements/:settlementId',
    tag: 'Finance',
    summary: 'One payout: every line with the order it settled, and each difference with its decision',
    roles: ['finance', 'ops'],
    params: SettlementParams,
    response: { status: 200, schema: Settlement, description: 'The payout' },
    handler: async (_ctx, { params }) => {
      const s = await settlementDetail(db, params.settlementId);
      if (!s)
        throw new HttpError(404, 'not_found', `No settlement ${params.settlementId}; GET /v1/settlements lists them`);
      return { body: s };
    },
  });
}
