/**
 * `npm run openapi [-- --out openapi.json]`: this API's OpenAPI 3.1 document, built from the routes' own zod
 * declarations without a database or Temporal (the routes only declare themselves). `npm run lint:openapi`
 * lints it with Redocly; the console's types (`npm run console:types`) are generated from it.
 */
import { writeFileSync } from 'node:fs';
import { cliFlags } from '../lib/cli';

export async function apiDocument(): Promise<ReturnType<typeof import('../api/openapi').openApiDocument>> {
  const { buildRoutes } = await import('../api/app');
  const { createDb } = await import('../db');
  const { loadConfig } = await import('../lib/config');
  const { openApiDocument } = await import('../api/openapi');
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent' });
  const db = createDb(config.DATABASE_URL, 1); // never connects
  try {
    return openApiDocument(buildRoutes({ db, temporal: undefined as never, config }).registry);
  } finally {
    await db.destroy();
  }
}

if (require.main === module) {
  const values = cliFlags('npm run openapi -- [flags]', {
    out: { type: 'string', default: 'openapi.json', help: 'where to write the OpenAPI 3.1 document' },
  });
  apiDocument()
    .then((doc) => {
      writeFileSync(values.out, `${JSON.stringify(doc, null, 2)}\n`);
      console.log(`wrote ${values.out}`);
    })
    .catch((err) => {
      console.error((err as Error).message);
      process.exit(1);
    });
}
