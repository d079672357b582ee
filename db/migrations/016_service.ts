/**
 * Customer service: tickets, and the triage rules that classify and rank them,
 * kept as data so support leads can tune them without a deploy.
 */
import type { Knex } from 'knex';

const r = String.raw;
export const CATEGORY_RULES: { category: string; pattern: string; weight: number }[] = [
  // where is my order
  {
    category: 'where_is_my_order',
    pattern: r`\m(where( is|'s)|track(ing)?|not (yet )?(arrived|received|here)|hasn't arrived|still waiting|when will|delivery date|status of my order|no update|not delivered|still not here|any news)`,
    weight: 3,
  },
  {
    category: 'where_is_my_order',
    pattern: r`\m(shipping|shipped|dispatch(ed)?|parcel|package|courier|delivery)\M`,
    weight: 1,
  },
  // return or refund
  {
    category: 'return_or_refund',
    pattern: r`\m(return(ing)?|refund(ed)?|money back|send (it|them) back|exchange|wrong size|doesn't fit|does not fit|too (small|big|large))`,
    weight: 3,
  },
  { category: 'return_or_refund', pattern: r`\m(label|rma)\M`, weight: 1 },
  // damaged item
  {
    category: 'damaged_item',
    pattern: r`\m(damaged|broken|cracked|chipped|torn|ripped|defective|faulty|stopped working|doesn't work|does not work|smashed|crushed|stain(ed)?|hole in)`,
    weight: 4,
  },
  // cancel
  {
    category: 'cancel',
    pattern: r`\m(cancel(l?ation|l?ed)?|don't want (it|the order) anymore|changed my mind|stop (the|my) order|ordered by mistake)`,
    weight: 4,
  },
  // payment
  {
    category: 'payment',
    pattern: r`\m(charged (twice|two times|double)|double charge|payment|card (declined|was declined)|invoice|receipt|billing|overcharged|paid twice|vat)\M`,
    weight: 3,
  },
];

export const PRIORITY_RULES: { rule: string; points: number; description: string }[] = [
  { rule: 'order_value_over_100', points: 2, description: 'the order is worth more than 100 (major units)' },
  { rule: 'order_value_over_500', points: 2, description: 'the order is worth more than 500' },
  { rule: 'order_delayed', points: 4, description: 'the order is backordered, on hold or overdue' },
  { rule: 'shipment_failed', points: 5, description: 'a shipment of the order failed' },
  { rule: 'category_damaged_item', points: 2, description: 'damaged goods' },
  { rule: 'category_payment', points: 2, description: 'money questions are urgent' },
  { rule: 'repeat_contact', points: 2, description: 'the customer wrote before in the last 7 days' },
  { rule: 'loyal_customer', points: 1, description: 'the customer has 5 or more orders' },
];

export async function up(k: Knex): Promise<void> {
  await k.schema.createTable('triage_category_rules', (t) => {
    t.increments('id');
    t.text('category').notNullable();
    t.text('pattern').notNullable(); // a Postgres regular expression, matched case-insensitively
    t.integer('weight').notNullable();
  });
  await k('triage_category_rules').insert(CATEGORY_RULES);
  await k.schema.createTable('triage_priority_rules', (t) => {
    t.text('rule').primary();
    t.integer('points').notNullable();
    t.text('description').notNullable();
  });
  await k('triage_priority_rules').insert(PRIORITY_RULES);
  await k.schema.createTable('triage_queues', (t) => {
    t.text('category').primary();
    t.text('queue').notNullable();
  });
  await k('triage_queues').insert([
    { category: 'where_is_my_order', queue: 'order_support' },
    { category: 'return_or_refund', queue: 'returns' },
    { category: 'damaged_item', queue: 'returns' },
    { category: 'cancel', queue: 'order_support' },
    { category: 'payment', queue: 'payments' },
    { category: 'other', queue: 'general' },
  ]);
  await k.schema.createTable('tickets', (t) => {
    t.uuid('id').primary();
    t.text('customer_email').notNullable();
    t.uuid('order_id').references('sales_orders.id');
    t.text('subject').notNullable();
    t.text('body').notNullable();
    t.text('category').notNullable();
    t.text('queue').notNullable();
    t.text('priority').notNullable(); // low, normal, high, urgent
    t.integer('priority_points').notNullable();
    t.jsonb('why').notNullable(); // the triage explained
    t.text('suggested_answer');
    t.text('status').notNullable().defaultTo('open');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(k.fn.now());
  });
  await k.raw(`CREATE INDEX tickets_customer ON tickets (customer_email, created_at DESC)`);
  await k.raw(`CREATE INDEX tickets_open ON tickets (queue, created_at) WHERE status = 'open'`);
}

export async function down(k: Knex): Promise<void> {
  for (const t of ['tickets', 'triage_queues', 'triage_priority_rules', 'triage_category_rules'])
    await k.schema.dropTable(t);
}
