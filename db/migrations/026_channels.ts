/**
 * Channels as managed data: what kind of channel it is, the warehouses that serve it, the buffer it holds
 * back for the others (units and/or a percentage of its pool) and the most it may show. Every change that
 * can move a channel's number is noted in `availability_changes` in the same transaction as the change
 * (a trigger on quants; channel edits note every SKU), so channels can be told in order.
 */
import type { Knex } from 'knex';
import { CHANNEL_KINDS } from '../../contracts/channels';

export async function up(k: Knex): Promise<void> {
  await k.schema.alterTable('channels', (t) => {
    t.text('kind').notNullable().defaultTo('webshop');
    t.integer('buffer_units').notNullable().defaultTo(0);
    t.decimal('buffer_pct', 5, 2).notNullable().defaultTo(0);
    t.integer('cap'); // null: no cap
    t.jsonb('connection'); // marketplaces: { endpoint, credentialsRef, ratePerSecond }
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
  });
  await k.raw(`UPDATE channels SET buffer_units = safety_buffer`);
  await k.schema.alterTable('channels', (t) => t.dropColumn('safety_buffer'));
  await k.raw(`ALTER TABLE channels
    ADD CONSTRAINT channels_kind CHECK (kind IN (${CHANNEL_KINDS.map((x) => `'${x}'`).join(',')})),
    ADD CONSTRAINT channels_buffer CHECK (buffer_units >= 0 AND buffer_pct >= 0 AND buffer_pct <= 100),
    ADD CONSTRAINT channels_cap CHECK (cap IS NULL OR cap >= 0)`);
  // No rows for a channel: every warehouse serves it.
  await k.schema.createTable('channel_warehouses', (t) => {
    t.integer('channel_id').notNullable().references('channels.id').onDelete('CASCADE');
    t.integer('warehouse_id').notNullable().references('warehouses.id');
    t.primary(['channel_id', 'warehouse_id']);
  });
  await k.schema.createTable('availability_changes', (t) => {
    t.bigIncrements('seq');
    t.integer('product_id').notNullable();
    t.integer('channel_id'); // null: every channel
    // When the change was written (clock_timestamp, not the transaction's start): the feed's gap timer counts from it.
    t.timestamp('changed_at', { useTz: true }).notNullable().defaultTo(k.raw('clock_timestamp()'));
  });
  // On hand or reserved of sellable stock changed: note the SKU, in the transaction that changed it.
  await k.raw(`
    CREATE FUNCTION note_availability_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF (TG_OP = 'INSERT' OR NEW.on_hand IS DISTINCT FROM OLD.on_hand OR NEW.reserved IS DISTINCT FROM OLD.reserved)
         AND EXISTS (SELECT 1 FROM locations WHERE id = NEW.location_id AND type = 'stock') THEN
        INSERT INTO availability_changes (product_id, changed_at) VALUES (NEW.product_id, clock_timestamp());
      END IF;
      RETURN NULL;
    END $$`);
  await k.raw(`CREATE TRIGGER quants_availability AFTER INSERT OR UPDATE ON quants
    FOR EACH ROW EXECUTE FUNCTION note_availability_change()`);
}

export async function down(k: Knex): Promise<void> {
  await k.raw(`DROP TRIGGER IF EXISTS quants_availability ON quants`);
  await k.raw(`DROP FUNCTION IF EXISTS note_availability_change()`);
  await k.schema.dropTableIfExists('availability_changes');
  await k.schema.dropTableIfExists('channel_warehouses');
  await k.raw(
    `ALTER TABLE channels DROP CONSTRAINT channels_kind, DROP CONSTRAINT channels_buffer, DROP CONSTRAINT channels_cap`,
  );
  await k.schema.alterTable('channels', (t) => {
    t.integer('safety_buffer').notNullable().defaultTo(0);
  });
  await k.raw(`UPDATE channels SET safety_buffer = buffer_units`);
  await k.schema.alterTable('channels', (t) => {
    t.dropColumns('kind', 'buffer_units', 'buffer_pct', 'cap', 'connection', 'updated_at');
  });
}
