/**
 * Audit coverage, checked over everything a full test run did: every
 * state-changing endpoint was called successfully at least once, and each
 * such call left exactly one audit row naming the key, its roles, the action,
 * the target and the request id.
 */
import { buildRoutes } from '../../api/app';
import type { Db } from '../../db';
import { loadConfig } from '../../lib/config';

export async function auditCoverage(
  db: Db,
): Promise<{ writeActions: number; missing: string[]; incomplete: unknown[]; duplicated: unknown[] }> {
  const table = buildRoutes({ db, temporal: undefined as never, config: loadConfig({}) }).table;
  const actions = [...new Set(table.filter((r) => r.action && r.roles !== 'public').map((r) => r.action!))].sort();
  const seen = new Set<string>((await db('audit_log').distinct('action')).map((r: { action: string }) => r.action));
  const incomplete = await db('audit_log')
    .whereIn('action', actions)
    .andWhere((q) => q.whereNull('api_key_id').orWhereNull('roles').orWhereNull('target').orWhereNull('request_id'))
    .limit(20);
  const duplicated = (
    await db.raw(
      `SELECT request_id, COUNT(*)::int AS n FROM audit_log GROUP BY request_id HAVING COUNT(*) > 1 LIMIT 20`,
    )
  ).rows;
  return { writeActions: actions.length, missing: actions.filter((a) => !seen.has(a)), incomplete, duplicated };
}
