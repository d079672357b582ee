/** `npm run start:api`: the HTTP API against existing Temporal and Postgres. Start as many as you like behind a load balancer. */
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { closeDb, db } from '../db';
import { config, Config } from '../lib/config';
import { logger } from '../lib/logger';
import { clientTracing, startTracing } from '../lib/tracing';
import { dataConverter } from '../lib/payload-codec';
import { createApp, listen } from './app';
import { bootstrapAdminKey } from './auth';
import { Lookups } from './lookups';

/** `sharesDb`: the caller (npm start) runs a worker on the same pool and closes it itself, after the worker. */
export async function startApi(
  c: Config = config(),
  o: { sharesDb?: boolean } = {},
): Promise<{ server: Server; url: string; stop(): Promise<void> }> {
  const connection = await Connection.connect({ address: c.TEMPORAL_ADDRESS }).catch((err) => {
    throw new Error(
      `Cannot reach Temporal at ${c.TEMPORAL_ADDRESS} (${err.message}). Start it with \`npm start\` or set TEMPORAL_ADDRESS.`,
    );
  });
  startTracing('erp-api', undefined, c);
  const temporal = new Client({
    connection,
    namespace: c.TEMPORAL_NAMESPACE,
    interceptors: clientTracing(),
    dataConverter: dataConverter(c),
  });
  await bootstrapAdminKey(db(), c.ERP_ADMIN_API_KEY);
  const lookups = await new Lookups(db(), c.DATABASE_URL).start();
  const app = createApp({ db: db(), temporal, config: c, lookups });
  const server = await listen(app, c.API_PORT, c.API_HOST);
  const addr = server.address();
  const url = `http://${c.API_HOST}:${typeof addr === 'object' && addr ? addr.port : c.API_PORT}`;
  return {
    server,
    url,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await connection.close();
      await lookups.stop();
      if (!o.sharesDb) await closeDb();
    },
  };
}

if (require.main === module) {
  startApi()
    .then((api) => {
      logger.info({ url: api.url }, 'API listening');
      const shutdown = () => api.stop().then(() => process.exit(0));
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    })
    .catch((err) => {
      logger.error({ err: err.message }, 'API failed to start');
      process.exit(1);
    });
}
