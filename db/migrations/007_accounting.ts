/**
 * Accounting: chart of accounts, tax rates, invoices, and journal entries whose
 * balance (sum of debits = sum of credits, at least two lines) is enforced by
 * the database at commit, not only by the code that posts them.
 */
import type { Knex } from 'knex';

export const ACCOUNTS = [
  { code: '1000', name: 'Bank', type: 'asset' },
  { code: '1100', name: 'Payment clearing', type: 'asset' },
  { code: '1200', name: 'Accounts receivable', type: 'asset' },
  { code: '1300', name: 'Inventory', type: 'asset' },
  { code: '2000', name: 'Accounts payable', type: 'liability' },
  { code: '2050', name: 'Goods received not invoiced', type: 'liability' },
  { code: '2100', name: 'Tax payable', type: 'liability' },
  { code: '3000', name: 'Opening balance equity', type: 'equity' },
  { code: '4000', name: 'Revenue', type: 'revenue' },
  { code: '4100', name: 'Shipping income', type: 'revenue' },
  { code: '5000', name: 'Cost of goods sold', type: 'expense' },
  { code: '5100', name: 'Inventory loss and adjustment', type: 'expense' },
] as const;

export async function up(k: Knex): Promise<void> {
  await k.schema.createTable('accounts', (t) => {
    t.text('code').primary();
    t.text('name').notNullable();
    t.text('type').notNullable();
  });
  await k.raw(
    `ALTER TABLE accounts ADD CONSTRAINT accounts_type CHECK (type IN ('asset','liability','equity','revenue','expense'))`,
  );
  await k('accounts').insert([...ACCOUNTS]);

  await k.schema.createTable('tax_rates', (t) => {
    t.increments('id');
    t.text('country').notNullable();
    t.text('region').notNullable().defaultTo(''); // '' = whole country
    t.integer('rate_bp').notNullable(); // basis points: 2000 = 20%
    t.text('name').notNullable();
    t.unique(['country', 'region']);
  });
  await k.raw(`ALTER TABLE tax_rates ADD CONSTRAINT tax_rates_rate CHECK (rate_bp >= 0 AND rate_bp <= 10000)`);

  await k.raw(`CREATE SEQUENCE invoice_number_seq`);
  await k.schema.createTable('invoices', (t) => {
    t.uuid('id').primary();
    t.text('number').notNullable().unique();
    t.uuid('order_id').notNullable().references('sales_orders.id');
    t.uuid('shipment_id').notNullable().unique().references('shipments.id');
    t.text('currency').notNullable();
    t.bigInteger('subtotal').notNullable();
    t.bigInteger('shipping').notNullable();
    t.bigInteger('tax').notNullable();
    t.bigInteger('total').notNullable();
    t.text('status').notNullable().defaultTo('open');
    t.timestamp('issued_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
  });
  await k.raw(`ALTER TABLE invoices
    ADD CONSTRAINT invoices_total CHECK (total = subtotal + shipping + tax),
    ADD CONSTRAINT invoices_status CHECK (status IN ('open','paid','void'))`);
  await k.raw(`CREATE INDEX invoices_order ON invoices (order_id)`);
  await k.schema.createTable('invoice_lines', (t) => {
    t.increments('id');
    t.uuid('invoice_id').notNullable().references('invoices.id');
    t.integer('order_line_id').references('sales_order_lines.id'); // null for the shipping line
    t.text('description').notNullable();
    t.integer('quantity').notNullable();
    t.bigInteger('unit_price').notNullable();
    t.bigInteger('net').notNullable();
    t.bigInteger('tax').notNullable();
  });

  await k.schema.createTable('journal_entries', (t) => {
    t.bigIncrements('id');
    t.text('idempotency_key').notNullable().unique();
    t.text('description').notNullable();
    t.text('source_type').notNullable();
    t.text('source_id').notNullable();
    t.text('currency').notNullable();
    t.timestamp('posted_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
  });
  await k.raw(`CREATE INDEX journal_entries_source ON journal_entries (source_type, source_id)`);
  await k.schema.createTable('journal_lines', (t) => {
    t.bigIncrements('id');
    t.bigInteger('entry_id').notNullable().references('journal_entries.id');
    t.text('account_code').notNullable().references('accounts.code');
    t.bigInteger('debit').notNullable().defaultTo(0);
    t.bigInteger('credit').notNullable().defaultTo(0);
  });
  await k.raw(`ALTER TABLE journal_lines
    ADD CONSTRAINT journal_lines_one_side CHECK (debit >= 0 AND credit >= 0 AND (debit = 0) <> (credit = 0))`);
  await k.raw(`CREATE INDEX journal_lines_entry ON journal_lines (entry_id)`);
  await k.raw(`CREATE INDEX journal_lines_account ON journal_lines (account_code)`);

  // Balanced entries, enforced at commit (deferred) so the lines of one entry can be inserted one by one.
  await k.raw(`
    CREATE FUNCTION journal_entry_must_balance() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      e bigint := COALESCE(NEW.entry_id, OLD.entry_id);
      d bigint; c bigint; n int;
    BEGIN
      SELECT COALESCE(SUM(debit),0), COALESCE(SUM(credit),0), COUNT(*) INTO d, c, n FROM journal_lines WHERE entry_id = e;
      IF n > 0 AND (d <> c OR n < 2) THEN
        RAISE EXCEPTION 'journal entry % does not balance (debit %, credit %, % lines)', e, d, c, n USING ERRCODE = '23514';
      END IF;
      RETURN NULL;
    END $$;
    CREATE CONSTRAINT TRIGGER journal_lines_balanced
      AFTER INSERT OR UPDATE OR DELETE ON journal_lines
      DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW EXECUTE FUNCTION journal_entry_must_balance();
  `);
}

export async function down(k: Knex): Promise<void> {
  await k.raw('DROP TRIGGER IF EXISTS journal_lines_balanced ON journal_lines');
  await k.raw('DROP FUNCTION IF EXISTS journal_entry_must_balance()');
  await k.schema.dropTable('journal_lines');
  await k.schema.dropTable('journal_entries');
  await k.schema.dropTable('invoice_lines');
  await k.schema.dropTable('invoices');
  await k.raw('DROP SEQUENCE invoice_number_seq');
  await k.schema.dropTable('tax_rates');
  await k.schema.dropTable('accounts');
}
