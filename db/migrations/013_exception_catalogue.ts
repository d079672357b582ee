/**
 * The exception catalogue, kept as data: for each type of case its queue,
 * severity, two SLA thresholds and the actions that may resolve it (with what
 * each does to the waiting process). Cases gain claim and escalation columns.
 */
import type { Knex } from 'knex';

type Action = { action: string; effect: string };
const a = (action: string, effect: string): Action => ({ action, effect });

export const CATALOGUE: {
  type: string;
  queue: string;
  severity: string;
  sla: string;
  second_sla: string;
  description: string;
  actions: Action[];
}[] = [
  {
    type: 'payment_review',
    queue: 'payments',
    severity: 'high',
    sla: '4h',
    second_sla: '24h',
    description: 'The payment provider held the order for fraud review',
    actions: [
      a('release', 'the order continues to reservation'),
      a('cancel', 'the order is cancelled and nothing is charged'),
    ],
  },
  {
    type: 'invalid_address',
    queue: 'customer_service',
    severity: 'medium',
    sla: '24h',
    second_sla: '72h',
    description: 'The shipping address cannot be delivered to',
    actions: [
      a('correct_address', 'the order continues with the corrected address (data.address)'),
      a('cancel', 'the order is cancelled, stock released, payment voided'),
    ],
  },
  {
    type: 'carrier_failure',
    queue: 'logistics',
    severity: 'high',
    sla: '24h',
    second_sla: '72h',
    description: 'A shipment failed or was lost in transit',
    actions: [
      a('reship', 'fresh stock is reserved and a new shipment goes out at no charge'),
      a('refund', 'the failed shipment is refunded'),
      a('cancel_rest', 'the rest of the order is cancelled'),
    ],
  },
  {
    type: 'stock_shortage',
    queue: 'inventory',
    severity: 'medium',
    sla: '24h',
    second_sla: '72h',
    description: 'A backorder waited past its limit',
    actions: [a('acknowledge', 'recorded')],
  },
  {
    type: 'over_receipt',
    queue: 'purchasing',
    severity: 'medium',
    sla: '24h',
    second_sla: '72h',
    description: 'More units arrived than ordered, beyond tolerance',
    actions: [a('accept', 'the extra units are kept'), a('return_to_supplier', 'the extra units go back')],
  },
  {
    type: 'three_way_mismatch',
    queue: 'finance',
    severity: 'high',
    sla: '48h',
    second_sla: '5d',
    description: 'Ordered, received and billed do not match',
    actions: [
      a('accept_bill', 'the bill is posted as is'),
      a('reject_bill', 'the bill is refused'),
      a('await_credit_note', 'the bill waits for the supplier credit note'),
    ],
  },
  {
    type: 'late_supplier',
    queue: 'purchasing',
    severity: 'medium',
    sla: '24h',
    second_sla: '72h',
    description: 'A purchase order was not received by its expected date',
    actions: [a('acknowledge', 'recorded')],
  },
  {
    type: 'approval_overdue',
    queue: 'supervisors',
    severity: 'high',
    sla: '24h',
    second_sla: '72h',
    description: 'A decision is past its SLA',
    actions: [a('acknowledge', 'recorded; the approval itself is decided in the approvals inbox')],
  },
  {
    type: 'inspection_overdue',
    queue: 'warehouse',
    severity: 'medium',
    sla: '24h',
    second_sla: '72h',
    description: 'Returned goods wait for inspection past the SLA',
    actions: [a('acknowledge', 'recorded')],
  },
  {
    type: 'unusual_return_pattern',
    queue: 'fraud',
    severity: 'medium',
    sla: '72h',
    second_sla: '7d',
    description: 'A customer or SKU returns far more than the norm',
    actions: [a('acknowledge', 'recorded'), a('investigate', 'recorded for follow-up')],
  },
  {
    type: 'refund_mismatch',
    queue: 'finance',
    severity: 'critical',
    sla: '4h',
    second_sla: '24h',
    description: 'A refund does not reconcile with the provider',
    actions: [a('acknowledge', 'recorded after manual reconciliation')],
  },
  {
    type: 'activity_failed',
    queue: 'engineering',
    severity: 'high',
    sla: '4h',
    second_sla: '24h',
    description: 'A step failed with a non-retryable business error',
    actions: [a('acknowledge', 'recorded')],
  },
];

export async function up(k: Knex): Promise<void> {
  await k.schema.createTable('exception_types', (t) => {
    t.text('type').primary();
    t.text('queue').notNullable();
    t.text('severity').notNullable();
    t.text('sla').notNullable(); // first escalation
    t.text('second_sla').notNullable(); // second escalation
    t.text('description').notNullable();
    t.jsonb('actions').notNullable();
  });
  await k('exception_types').insert(CATALOGUE.map((c) => ({ ...c, actions: JSON.stringify(c.actions) })));
  await k.schema.alterTable('exceptions', (t) => {
    t.integer('escalation_level').notNullable().defaultTo(0);
    t.text('case_workflow_id'); // the case's own process, when it has one (exception-<id>)
    t.timestamp('sla_due_at', { useTz: true });
    t.text('claimed_by');
    t.timestamp('claimed_at', { useTz: true });
    t.text('resolved_by');
    t.jsonb('resolution_data');
  });
  await k.raw(`CREATE INDEX exceptions_queue ON exceptions (queue, status, opened_at)`);
}

export async function down(k: Knex): Promise<void> {
  await k.raw('DROP INDEX IF EXISTS exceptions_queue');
  await k.schema.alterTable('exceptions', (t) => {
    for (const c of [
      'case_workflow_id',
      'escalation_level',
      'sla_due_at',
      'claimed_by',
      'claimed_at',
      'resolved_by',
      'resolution_data',
    ])
      t.dropColumn(c);
  });
  await k.schema.dropTable('exception_types');
}
