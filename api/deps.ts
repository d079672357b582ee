/** What the API needs: the database, a Temporal client and the configuration. */
import type { Client } from '@temporalio/client';
import type { Db } from '../db';
import type { Config } from '../lib/config';

export interface ApiDeps {
  db: Db;
  temporal: Client;
  config: Config;
}
