/**
 * The role matrix: every endpoint × every role, allow or deny, generated from
 * the route declarations and committed as api/role-matrix.md. The security
 * test fails when the committed table and the code disagree, and calls every
 * cell over HTTP. `npm run role-matrix` rewrites the file after a change.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROLES } from '../contracts/roles';
import type { Routes } from './route';

export const MATRIX_PATH = join(__dirname, 'role-matrix.md');
export type Cell = 'allow' | 'deny' | 'public';

export function cellsOf(roles: Routes['table'][number]['roles']): Record<(typeof ROLES)[number], Cell> {
  return Object.fromEntries(
    ROLES.map((r) => [
      r,
      roles === 'public' ? 'public' : roles === 'any' || r === 'admin' || roles.includes(r) ? 'allow' : 'deny',
    ]),
  ) as Record<(typeof ROLES)[number], Cell>;
}

export function renderRoleMatrix(table: Routes['table']): string {
  const rows = [...table].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
  const head = `| method | path | ${ROLES.join(' | ')} |\n|---|---|${ROLES.map(() => '---').join('|')}|`;
  const body = rows
    .map((r) => `| ${r.method} | \`${r.path}\` | ${ROLES.map((role) => cellsOf(r.roles)[role]).join(' | ')} |`)
    .join('\n');
  return `# Role matrix\n\nGenerated from the route declarations by \`npm run role-matrix\`; \`tests/security.test.ts\` checks this file against the code and calls every cell.\n\`public\`: no API key (health checks, and provider webhooks, which are authenticated by their HMAC signature instead).\n\n${head}\n${body}\n`;
}

if (require.main === module) {
  (async () => {
    const { buildRoutes } = await import('./app');
    const { createDb } = await import('../db');
    const { loadConfig } = await import('../lib/config');
    const config = loadConfig({});
    const db = createDb(config.DATABASE_URL, 1); // never connects: routes only declare themselves
    writeFileSync(MATRIX_PATH, renderRoleMatrix(buildRoutes({ db, temporal: undefined as never, config }).table));
    await db.destroy();
    console.log(`wrote ${MATRIX_PATH}`);
  })().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
