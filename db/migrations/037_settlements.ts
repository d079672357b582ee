/**
 * Money after the sale: payouts, marketplace statements and disputes.
 *
 * The payment provider pays out what it collected, less its fees, in payouts. Each payout is imported once
 * (`settlements`, unique per provider and payout id), each of its lines matched to the capture, refund or
 * dispute movement it settles (`settlement_matches`: a movement is settled once), and booked as one entry:
 * the net to the bank, the fees to expense, what matched out of payment clearing, and anything unexplained
 * into settlement suspense, one `settlement_mismatches` row (and case) per difference until a person decides.
 * A marketplace's statement is reconciled the same way: each line is an order it collected, less commission.
 *
 * A chargeback takes the disputed amount back from the provider's balance (clearing → disputed payments);
 * winning it gives it back, losing it books the loss. The sandbox provider's side of all this lives in the
 * `sandbox_*` tables, like its payment ledger.
 */
import type { Knex } from 'knex';

export const SETTLEMENT_LINE_KINDS = [
  'capture',
  'refund',
  'dispute',
  'dispute_reversal',
  'order',
  'adjustment',
] as const;
export const MISMATCH_KINDS = ['unknown_reference', 'amount_differs', 'net_differs'] as const;
export const DISPUTE_STATUSES = ['needs_response', 'under_review', 'won', 'lost'] as const;
const list = (xs: readonly string[]) => xs.map((x) => `'${x}'`).join(',');

const ACCOUNTS = [
  { code: '1150', name: 'Settlement suspense', type: 'asset' },
  { code: '1170', name: 'Disputed payments', type: 'asset' },
  { code: '6100', name: 'Payment fees', type: 'expense' },
  { code: '6200', name: 'Chargeback losses', type: 'expense' },
  { code: '6300', name: 'Marketplace commission', type: 'expense' },
  { code: '6400', name: 'Settlement differences written off', type: 'expense' },
];

const actions = (xs: [string, string][]) => JSON.stringify(xs.map(([action, effect]) => ({ action, effect })));

export async function up(k: Knex): Promise<void> {
  await k('accounts').insert(ACCOUNTS);

  // The provider's side (the sandbox keeps it in our database, as it keeps its payment ledger).
  await k.schema.alterTable('sandbox_payment_ledger', (t) => {
    t.text('paid_out_in'); // the payout that settled this capture or refund
  });
  await k.schema.createTable('sandbox_disputes', (t) => {
    t.text('id').primary();
    t.text('capture_ref').notNullable();
    t.bigInteger('amount').notNullable();
    t.text('currency').notNullable();
    t.text('reason').notNullable();
    t.text('status').notNullable().defaultTo('needs_response');
    t.text('evidence');
    t.timestamp('evidence_due_at', { useTz: true }).notNullable();
    t.text('withdrawn_in'); // the payout that took the amount back
    t.text('reinstated_in'); // the payout that gave it back (won)
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
  });
  await k.schema.createTable('sandbox_payouts', (t) => {
    t.text('id').primary();
    t.specificType('seq', 'bigserial'); // the order payouts were made in
    t.text('currency').notNullable();
    t.bigInteger('net').notNullable();
    t.jsonb('lines').notNullable();
    t.timestamp('paid_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
  });

  // Our side. Payout lines find our captures and refunds by the provider's reference.
  await k.raw(`CREATE INDEX payments_provider_ref ON payments (provider, provider_ref)`);
  await k.schema.createTable('settlements', (t) => {
    t.uuid('id').primary();
    t.text('source').notNullable(); // the provider that paid out (a marketplace: marketplace:<channel>)
    t.text('external_id').notNullable(); // its payout or statement id
    t.text('currency').notNullable();
    t.bigInteger('net').notNullable(); // paid to the bank
    t.bigInteger('fees').notNullable();
    t.bigInteger('commission').notNullable().defaultTo(0);
    t.bigInteger('matched').notNullable(); // taken out of payment clearing (signed)
    t.bigInteger('suspense').notNullable(); // unexplained at import (signed: + we received less than expected)
    t.text('workflow_id');
    t.bigInteger('entry_id').references('journal_entries.id');
    t.timestamp('paid_at', { useTz: true }).notNullable();
    t.timestamp('imported_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
    t.unique(['source', 'external_id']); // a payout is imported once
  });
  await k.schema.createTable('settlement_lines', (t) => {
    t.bigIncrements('id');
    t.uuid('settlement_id').notNullable().references('settlements.id');
    t.integer('line_no').notNullable();
    t.text('kind').notNullable();
    t.text('ref').notNullable(); // the provider's capture, refund or dispute reference
    t.bigInteger('amount').notNullable(); // signed: + paid to us
    t.bigInteger('fee').notNullable();
    t.bigInteger('commission').notNullable().defaultTo(0);
    t.uuid('order_id').references('sales_orders.id'); // when the line matched something of an order
    t.unique(['settlement_id', 'line_no']);
  });
  await k.raw(`ALTER TABLE settlement_lines ADD CONSTRAINT settlement_lines_kind
    CHECK (kind IN (${list(SETTLEMENT_LINE_KINDS)}) AND fee >= 0 AND commission >= 0)`);
  await k.schema.createTable('disputes', (t) => {
    t.uuid('id').primary();
    t.text('provider').notNullable();
    t.text('provider_dispute_id').notNullable();
    t.uuid('order_id').notNullable().references('sales_orders.id');
    t.uuid('payment_id').notNullable().references('payments.id'); // the capture disputed
    t.bigInteger('amount').notNullable();
    t.text('currency').notNullable();
    t.text('reason').notNullable();
    t.text('status').notNullable().defaultTo('needs_response');
    t.timestamp('evidence_due_at', { useTz: true }).notNullable();
    t.text('evidence');
    t.text('decided_by');
    t.text('workflow_id').notNullable();
    t.timestamp('opened_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
    t.timestamp('closed_at', { useTz: true });
    t.unique(['provider', 'provider_dispute_id']);
  });
  await k.raw(`ALTER TABLE disputes ADD CONSTRAINT disputes_values
    CHECK (amount > 0 AND status IN (${list(DISPUTE_STATUSES)}))`);
  await k.raw(`CREATE INDEX disputes_order ON disputes (order_id)`);
  // What each line settled: a capture or refund once, a dispute's withdrawal once and its reinstatement once.
  await k.schema.createTable('settlement_matches', (t) => {
    t.bigIncrements('id');
    t.bigInteger('line_id').notNullable().references('settlement_lines.id');
    t.uuid('payment_id').references('payments.id');
    t.uuid('dispute_id').references('disputes.id');
    t.text('movement').notNullable(); // capture, refund, withdrawal, reinstatement
    t.bigInteger('amount').notNullable(); // signed, as it left payment clearing
  });
  await k.raw(
    `CREATE UNIQUE INDEX settlement_matches_payment ON settlement_matches (payment_id) WHERE payment_id IS NOT NULL`,
  );
  await k.raw(
    `CREATE UNIQUE INDEX settlement_matches_dispute ON settlement_matches (dispute_id, movement) WHERE dispute_id IS NOT NULL`,
  );
  await k.schema.createTable('settlement_mismatches', (t) => {
    t.uuid('id').primary();
    t.uuid('settlement_id').notNullable().references('settlements.id');
    t.bigInteger('line_id').references('settlement_lines.id'); // null: the payout's total
    t.text('kind').notNullable();
    t.bigInteger('amount').notNullable(); // signed shortfall held in suspense: + we received less than expected
    t.text('status').notNullable().defaultTo('open'); // open, accepted, written_off, matched
    t.text('decided_by');
    t.bigInteger('entry_id').references('journal_entries.id');
    t.timestamp('decided_at', { useTz: true });
  });
  await k.raw(`ALTER TABLE settlement_mismatches ADD CONSTRAINT settlement_mismatches_values
    CHECK (kind IN (${list(MISMATCH_KINDS)}) AND status IN ('open','accepted','written_off','matched'))`);

  await k('exception_types').insert([
    {
      type: 'settlement_mismatch',
      queue: 'finance',
      severity: 'high',
      sla: '24h',
      second_sla: '72h',
      description:
        'A payout line matches nothing of ours, or differs from what we recorded; the difference is held in settlement suspense (1150)',
      actions: actions([
        ['accept', "the provider's figure stands: the difference is booked as a payment fee (6100)"],
        ['write_off', 'the difference is written off (6400)'],
        ['wait', 'held in suspense and matched again later (a capture or dispute we had not recorded yet)'],
      ]),
    },
    {
      type: 'payment_dispute',
      queue: 'finance',
      severity: 'high',
      sla: '72h',
      second_sla: '144h',
      description:
        'A buyer disputed a payment (chargeback): the amount is withdrawn until the dispute is decided; answer before the evidence deadline',
      actions: actions([
        ['submit_evidence', 'the note (tracking, delivery proof, correspondence) goes to the provider, which decides'],
        ['accept', 'the chargeback is accepted: the amount is booked as a chargeback loss (6200)'],
      ]),
    },
  ]);
}

export async function down(k: Knex): Promise<void> {
  await k('exception_types').whereIn('type', ['settlement_mismatch', 'payment_dispute']).delete();
  for (const t of [
    'settlement_mismatches',
    'settlement_matches',
    'disputes',
    'settlement_lines',
    'settlements',
    'sandbox_payouts',
    'sandbox_disputes',
  ])
    await k.schema.dropTable(t);
  await k.schema.alterTable('sandbox_payment_ledger', (t) => t.dropColumn('paid_out_in'));
  await k.raw(`DROP INDEX payments_provider_ref`);
  await k('accounts')
    .whereIn(
      'code',
      ACCOUNTS.map((a) => a.code),
    )
    .delete();
}
