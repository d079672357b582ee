/** What the API needs: the database, a Temporal client and the configuration. */
import type { Client } from '@temporalio/client';
import type { Db } from '../db';
import type { Config } from '../lib/config';
import type { Lookups } from './lookups';

export interface ApiDeps {
  db: Db;
  temporal: Client;
  config: Config;
  /** Keys and channels read on every request, cached while the process hears of their changes (default: none). */
  lookups?: Lookups;
}

/** What route handlers get: the lookups are always there (a pass-through when the caller gave none). */
export type RouteDeps = ApiDeps & { lookups: Lookups };
