/**
 * Warehouses and locations. Internal locations hold stock (stock, returns,
 * quarantine, repair, transit); virtual ones absorb the other side of a move
 * (supplier, customer, inventory loss, scrap), as in double-entry bookkeeping.
 */
import type { Knex } from 'knex';

export const INTERNAL_LOCATION_TYPES = ['stock', 'returns', 'quarantine', 'repair', 'transit'] as const;
export const VIRTUAL_LOCATION_TYPES = ['supplier', 'customer', 'inventory_loss', 'scrap'] as const;

export async function up(k: Knex): Promise<void> {
  await k.schema.createTable('warehouses', (t) => {
    t.increments('id');
    t.text('code').notNullable().unique();
    t.text('name').notNullable();
    t.integer('priority').notNullable().defaultTo(100); // lower ships first
    t.text('country');
    t.timestamps(true, true);
  });
  await k.schema.createTable('locations', (t) => {
    t.increments('id');
    t.text('code').notNullable().unique();
    t.text('name').notNullable();
    t.text('type').notNullable();
    t.integer('warehouse_id').references('warehouses.id');
  });
  const all = [...INTERNAL_LOCATION_TYPES, ...VIRTUAL_LOCATION_TYPES].map((x) => `'${x}'`).join(',');
  const internal = INTERNAL_LOCATION_TYPES.map((x) => `'${x}'`).join(',');
  await k.raw(`ALTER TABLE locations
    ADD CONSTRAINT locations_type CHECK (type IN (${all})),
    ADD COLUMN internal boolean GENERATED ALWAYS AS (type IN (${internal})) STORED,
    ADD CONSTRAINT locations_internal_has_warehouse CHECK (NOT (type IN (${internal})) OR type = 'transit' OR warehouse_id IS NOT NULL)`);
  await k.raw(
    `CREATE UNIQUE INDEX locations_one_per_type ON locations (warehouse_id, type) WHERE warehouse_id IS NOT NULL`,
  );
  // The virtual locations every installation has.
  await k('locations').insert([
    { code: 'VIRTUAL/SUPPLIERS', name: 'Suppliers', type: 'supplier' },
    { code: 'VIRTUAL/CUSTOMERS', name: 'Customers', type: 'customer' },
    { code: 'VIRTUAL/INVENTORY-LOSS', name: 'Inventory loss', type: 'inventory_loss' },
    { code: 'VIRTUAL/SCRAP', name: 'Scrap', type: 'scrap' },
  ]);
}

export async function down(k: Knex): Promise<void> {
  await k.schema.dropTable('locations');
  await k.schema.dropTable('warehouses');
}
