/** After the run: the invariant checker over everything the tests did, then the server goes and the database is dropped. */
import { rmSync } from 'node:fs';
import { createDb } from '../db';
import { Client, Connection } from '@temporalio/client';
import { checkInvariants, formatInvariants, orphanInvariants } from '../db/invariants';
import { findOrphans } from '../activities/exceptions/orphans';
import { dropDatabase } from '../db/migrate';
import type { DevServer } from '../lib/temporal-dev-server';
import { auditCoverage } from './helpers/audit-coverage';
import { answersUnlikeTheirSchema, undocumentedStatuses } from './helpers/statuses';
import { apiDocument } from '../scripts/openapi';
import { dataConverter } from '../lib/payload-codec';
import { loadConfig } from '../lib/config';

export default async function globalTeardown(globalConfig: {
  testPathPattern?: string;
  testNamePattern?: string;
}): Promise<void> {
  const { server, url, files, statusLog } = (globalThis as Record<string, unknown>).__ERP_TEST__ as {
    server: DevServer;
    url: string;
    files: string[];
    statusLog: string;
  };
  const undocumented = undocumentedStatuses(statusLog, (await apiDocument()) as never);
  const unlike = answersUnlikeTheirSchema(statusLog);
  const db = createDb(url, 1);
  const results = await checkInvariants(db);
  const connection = await Connection.connect({ address: server.address });
  results.push(
    ...orphanInvariants(
      await findOrphans(db, new Client({ connection, dataConverter: dataConverter(loadConfig(process.env)) })),
    ),
  );
  await connection.close();
  const audit = await auditCoverage(db);
  await db.destroy();
  await server.stop();
  for (const f of files) rmSync(f, { force: true });
  process.stderr.write(`\nInvariants over the whole test database:\n${formatInvariants(results)}\n`);
  const fullRun = !globalConfig.testPathPattern && !globalConfig.testNamePattern;
  const auditOk = audit.missing.length === 0 && audit.incomplete.length === 0 && audit.duplicated.length === 0;
  process.stderr.write(
    `Audit: ${audit.writeActions - audit.missing.length} of ${audit.writeActions} state-changing actions audited by this run${audit.missing.length ? ` (not called: ${audit.missing.join(', ')})` : ''}; ` +
      `${audit.incomplete.length} incomplete and ${audit.duplicated.length} duplicated audit rows\n`,
  );
  process.stderr.write(
    `OpenAPI: ${undocumented.length ? `statuses answered but not documented: ${undocumented.join('; ')}` : 'every status the tests met is documented'}\n`,
  );
  process.stderr.write(
    `OpenAPI: ${unlike.length ? `answers unlike their documented schema: ${unlike.join('; ')}` : 'every answer the tests met matches its documented schema'}\n`,
  );
  if (undocumented.length)
    throw new Error(`the OpenAPI document misses statuses the API answered: ${undocumented.join('; ')}`);
  if (unlike.length) throw new Error(`answers unlike their documented response schema: ${unlike.join('; ')}`);
  if (fullRun && !auditOk) throw new Error(`audit coverage failed: ${JSON.stringify(audit)} (database kept: ${url})`);
  const broken = results.filter((r) => !r.ok);
  if (broken.length) throw new Error(`${broken.length} invariant(s) broken after the test run (database kept: ${url})`);
  await dropDatabase(url);
}
