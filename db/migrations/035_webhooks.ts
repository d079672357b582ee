/**
 * Outbound webhooks: the business events (orders, returns, refunds, purchase orders), the subscriptions that
 * want them, and one delivery per event and subscription with its attempts.
 *
 * Events are recorded by triggers on the records' status, in the transaction that changes it: whatever path
 * writes (a workflow's activity, the API, an operator with psql), the event commits with the change or not at
 * all. The same statement fans the event out to the subscriptions that want it, so a delivery exists for every
 * subscriber before the change is visible. The dispatcher (workflows/webhook-dispatch.ts) delivers them.
 */
import type { Knex } from 'knex';

/** table, event prefix, the column naming the subject, its type, extra WHEN, and `key=column` pairs for `data` */
const SOURCES: { table: string; prefix: string; subject: [string, string]; when?: string; data: string[] }[] = [
  {
    table: 'sales_orders',
    prefix: 'order',
    subject: ['id', 'order'],
    data: ['orderId=id', 'externalRef=external_ref', 'status=status', 'total=total', 'currency=currency'],
  },
  {
    table: 'returns',
    prefix: 'return',
    subject: ['id', 'return'],
    data: ['returnId=id', 'orderId=order_id', 'rmaNumber=rma_number', 'status=status', 'resolution=resolution'],
  },
  {
    table: 'payments',
    prefix: 'refund',
    subject: ['id', 'refund'],
    when: `NEW.kind = 'refund'`,
    data: ['refundId=id', 'orderId=order_id', 'status=status', 'amount=amount', 'currency=currency'],
  },
  {
    table: 'purchase_orders',
    prefix: 'purchase_order',
    subject: ['id', 'purchase_order'],
    data: ['purchaseOrderId=id', 'number=number', 'status=status', 'total=total', 'currency=currency'],
  },
];

export async function up(k: Knex): Promise<void> {
  await k.schema.createTable('business_events', (t) => {
    t.uuid('id').primary(); // the webhook-id every delivery of it carries
    t.specificType('seq', 'bigserial').notNullable().unique(); // the order of events (per subject, the order told)
    t.text('type').notNullable();
    t.text('subject_type').notNullable();
    t.text('subject_id').notNullable();
    t.jsonb('data').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
  });
  await k.schema.createTable('webhook_subscriptions', (t) => {
    t.uuid('id').primary();
    t.text('url').notNullable();
    t.specificType('event_types', 'text[]').notNullable();
    t.text('secret').notNullable(); // whsec_…, shown once when created
    t.text('description');
    t.text('created_by');
    t.text('request_key').unique(); // the Idempotency-Key's request: a retried create finds its subscription
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
    t.timestamp('deleted_at', { useTz: true });
  });
  await k.schema.createTable('webhook_deliveries', (t) => {
    t.bigIncrements('id');
    t.uuid('event_id').notNullable().references('business_events.id');
    t.bigInteger('event_seq').notNullable();
    t.uuid('subscription_id').notNullable().references('webhook_subscriptions.id');
    t.text('subject_key').notNullable(); // subject_type:subject_id: one subject's events go out in order
    t.text('status').notNullable().defaultTo('pending');
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
    t.timestamp('leased_until', { useTz: true }); // a dispatcher is sending it; past this, another may
    t.timestamp('retrying_since', { useTz: true }).notNullable().defaultTo(k.fn.now()); // given up this long after
    t.integer('last_status_code');
    t.text('last_error');
    t.timestamp('delivered_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
    t.unique(['subscription_id', 'event_id']);
  });
  await k.raw(`ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_status
    CHECK (status IN ('pending','delivered','dead','cancelled'))`);
  await k.raw(`CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`);
  await k.raw(`CREATE INDEX webhook_deliveries_subject ON webhook_deliveries (subscription_id, subject_key, event_seq)
    WHERE status = 'pending'`);
  await k.raw(`CREATE INDEX webhook_deliveries_of_subscription ON webhook_deliveries (subscription_id, id)`);

  await k.raw(`
    CREATE FUNCTION record_business_event(p_type text, p_subject_type text, p_subject_id text, p_data jsonb)
    RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
      ev_id uuid := gen_random_uuid();
      ev_seq bigint;
    BEGIN
      INSERT INTO business_events (id, type, subject_type, subject_id, data)
        VALUES (ev_id, p_type, p_subject_type, p_subject_id, p_data) RETURNING seq INTO ev_seq;
      INSERT INTO webhook_deliveries (event_id, event_seq, subscription_id, subject_key)
        SELECT ev_id, ev_seq, s.id, p_subject_type || ':' || p_subject_id
        FROM webhook_subscriptions s
        WHERE s.deleted_at IS NULL
          AND (p_type = ANY (s.event_types) OR split_part(p_type, '.', 1) || '.*' = ANY (s.event_types)
               OR '*' = ANY (s.event_types));
    END $$`);
  // TG_ARGV: event prefix, subject column, subject type, then key=column pairs for the event's data.
  await k.raw(`
    CREATE FUNCTION business_event_of_row() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      r jsonb := to_jsonb(NEW);
      data jsonb := '{}';
      i int;
    BEGIN
      FOR i IN 3 .. TG_NARGS - 1 LOOP
        data := data || jsonb_build_object(split_part(TG_ARGV[i], '=', 1), r -> split_part(TG_ARGV[i], '=', 2));
      END LOOP;
      IF TG_OP = 'UPDATE' THEN
        data := data || jsonb_build_object('previousStatus', OLD.status);
      END IF;
      PERFORM record_business_event(
        TG_ARGV[0] || '.' || CASE WHEN TG_OP = 'INSERT' THEN 'created' ELSE NEW.status END,
        TG_ARGV[2], r ->> TG_ARGV[1], data);
      RETURN NULL;
    END $$`);
  for (const s of SOURCES) {
    const args = [s.prefix, s.subject[0], s.subject[1], ...s.data].map((a) => `'${a}'`).join(', ');
    const also = s.when ? ` AND ${s.when}` : '';
    await k.raw(`CREATE TRIGGER ${s.table}_created_event AFTER INSERT ON ${s.table} FOR EACH ROW
      WHEN (true${also}) EXECUTE FUNCTION business_event_of_row(${args})`);
    await k.raw(`CREATE TRIGGER ${s.table}_status_event AFTER UPDATE OF status ON ${s.table} FOR EACH ROW
      WHEN (OLD.status IS DISTINCT FROM NEW.status${also}) EXECUTE FUNCTION business_event_of_row(${args})`);
  }
  // A shipment delivered is the order's news (its subject is the order, so it is told in the order's sequence).
  await k.raw(`CREATE TRIGGER shipments_delivered_event AFTER UPDATE OF status ON shipments FOR EACH ROW
    WHEN (NEW.status = 'delivered' AND OLD.status IS DISTINCT FROM 'delivered')
    EXECUTE FUNCTION business_event_of_row('order', 'order_id', 'order', 'orderId=order_id', 'shipmentId=id',
      'carrier=carrier', 'trackingNumber=tracking_number')`);

  await k('exception_types').insert({
    type: 'webhook_dead_letter',
    queue: 'ops',
    severity: 'medium',
    sla: '24h',
    second_sla: '72h',
    description:
      'A webhook subscriber did not take events for the whole retry period; they are kept as dead deliveries',
    actions: JSON.stringify([
      {
        action: 'acknowledge',
        effect:
          'recorded; once the receiver is fixed, POST /v1/webhook-subscriptions/{id}/redeliver sends the dead deliveries again and the case closes itself',
      },
    ]),
  });
}

export async function down(k: Knex): Promise<void> {
  await k('exception_types').where({ type: 'webhook_dead_letter' }).delete();
  await k.raw(`DROP TRIGGER shipments_delivered_event ON shipments`);
  for (const s of SOURCES) {
    await k.raw(`DROP TRIGGER ${s.table}_created_event ON ${s.table}`);
    await k.raw(`DROP TRIGGER ${s.table}_status_event ON ${s.table}`);
  }
  await k.raw(`DROP FUNCTION business_event_of_row()`);
  await k.raw(`DROP FUNCTION record_business_event(text, text, text, jsonb)`);
  await k.schema.dropTable('webhook_deliveries');
  await k.schema.dropTable('webhook_subscriptions');
  await k.schema.dropTable('business_events');
}
