/** The migrations in order. Listed explicitly so they load the same under tsx, Jest and compiled JS. */
import type { Knex } from 'knex';
import * as catalog from './001_catalog';
import * as warehouses from './002_warehouses';
import * as sales from './003_sales';
import * as inventory from './004_inventory';
import * as shipping from './005_shipping';
import * as payments from './006_payments';
import * as accounting from './007_accounting';
import * as access from './008_access';

type Migration = { up(k: Knex): Promise<void>; down(k: Knex): Promise<void> };

const MIGRATIONS: Record<string, Migration> = {
  '001_catalog': catalog,
  '002_warehouses': warehouses,
  '003_sales': sales,
  '004_inventory': inventory,
  '005_shipping': shipping,
  '006_payments': payments,
  '007_accounting': accounting,
  '008_access': access,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name],
};
