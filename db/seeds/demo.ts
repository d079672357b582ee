/**
 * `npm run seed`: demo master data a newcomer can place orders against at once:
 * two warehouses, two channels, tax rates, 55 stocked SKUs and 3 kits with
 * stock, and one API key per role (printed once, when first created).
 */
import { Db } from '../index';
import { createApiKey } from '../access';
import { ROLES, type Role } from '../../contracts/roles';
import { ensureChannel, ensureProduct, ensureTaxRate, ensureWarehouse, receiveOpeningStock } from './master-data';

const CATEGORIES = [
  { prefix: 'TEE', name: 'T-shirt', cost: 450, price: 1999, category: 'apparel' },
  { prefix: 'HOOD', name: 'Hoodie', cost: 1500, price: 4999, category: 'apparel' },
  { prefix: 'CAP', name: 'Cap', cost: 300, price: 1499, category: 'apparel' },
  { prefix: 'MUG', name: 'Mug', cost: 250, price: 1299, category: 'homeware' },
  { prefix: 'SOCK', name: 'Socks', cost: 120, price: 799, category: 'hygiene' },
];
const VARIANTS = ['BLK-S', 'BLK-M', 'BLK-L', 'WHT-S', 'WHT-M', 'WHT-L', 'NAV-S', 'NAV-M', 'NAV-L', 'RED-M', 'GRN-M'];

export const DEMO_SKUS = CATEGORIES.flatMap((c) =>
  VARIANTS.map((v) => ({
    sku: `${c.prefix}-${v}`,
    name: `${c.name} ${v}`,
    cost: c.cost,
    price: c.price,
    category: c.category,
  })),
);

/**
 * Two suppliers: a cheap one with long lead times and packs, a dearer fast one
 * for apparel. Each SKU gets a demand-driven rule in EAST and a min/max rule
 * in WEST, so the planner has both kinds to explain.
 */
async function seedPurchasing(db: Db): Promise<void> {
  const suppliers = [
    {
      code: 'ACME',
      name: 'Acme Textiles',
      currency: 'EUR',
      email: 'orders@acme.example',
      lead_time_days: 14,
      payment_terms_days: 30,
    },
    {
      code: 'QUICK',
      name: 'Quick Supply',
      currency: 'EUR',
      email: 'sales@quick.example',
      lead_time_days: 3,
      payment_terms_days: 14,
    },
  ];
  await db('suppliers').insert(suppliers).onConflict('code').ignore();
  const ids = new Map<string, number>(
    (await db('suppliers').whereIn('code', ['ACME', 'QUICK']).select('code', 'id')).map((r) => [r.code, r.id]),
  );
  const products = await db('products')
    .whereIn(
      'sku',
      DEMO_SKUS.map((p) => p.sku),
    )
    .select('id', 'sku', 'cost');
  const warehouses = new Map<string, number>(
    (await db('warehouses').whereIn('code', ['EAST', 'WEST']).select('code', 'id')).map((r) => [r.code, r.id]),
  );
  for (const p of products) {
    const cost = Number(p.cost);
    await db('supplier_prices')
      .insert({
        supplier_id: ids.get('ACME'),
        product_id: p.id,
        unit_price: Math.round(cost * 0.9),
        moq: 24,
        pack_size: 12,
        lead_time_days: 14,
      })
      .onConflict(['supplier_id', 'product_id'])
      .ignore();
    if (/^(TEE|HOOD|CAP)-/.test(p.sku)) {
      await db('supplier_prices')
        .insert({
          supplier_id: ids.get('QUICK'),
          product_id: p.id,
          unit_price: cost,
          moq: 1,
          pack_size: 1,
          lead_time_days: 3,
        })
        .onConflict(['supplier_id', 'product_id'])
        .ignore();
    }
    await db('reorder_rules')
      .insert({ product_id: p.id, warehouse_id: warehouses.get('EAST'), method: 'reorder_point' })
      .onConflict(['product_id', 'warehouse_id'])
      .ignore();
    await db('reorder_rules')
      .insert({ product_id: p.id, warehouse_id: warehouses.get('WEST'), method: 'min_max', min_qty: 10, max_qty: 40 })
      .onConflict(['product_id', 'warehouse_id'])
      .ignore();
  }
}

/**
 * `needsKey(role)`: whether the caller has no key of its own for the role (npm start: none in this checkout's
 * key file). Such a role gets a fresh key even when the database already has one from another checkout or a
 * deleted .data folder: keys are shown only once, so the old one cannot be handed over.
 */
export async function seedDemo(
  db: Db,
  log: (line: string) => void = console.log,
  needsKey: (role: Role) => boolean = () => false,
): Promise<{ keys: { role: Role; key: string }[] }> {
  await ensureWarehouse(db, { code: 'EAST', name: 'East fulfilment centre', priority: 10, country: 'DE' });
  await ensureWarehouse(db, { code: 'WEST', name: 'West fulfilment centre', priority: 20, country: 'FR' });
  await ensureChannel(db, { code: 'web', name: 'Own web shop' });
  await ensureChannel(db, { code: 'marketplace', name: 'Marketplace', kind: 'marketplace', bufferUnits: 2 });
  for (const t of [
    { country: 'DE', rateBp: 1900, name: 'DE VAT' },
    { country: 'FR', rateBp: 2000, name: 'FR VAT' },
    { country: 'NL', rateBp: 2100, name: 'NL VAT' },
    { country: 'GB', rateBp: 2000, name: 'UK VAT' },
    { country: 'US', rateBp: 0, name: 'US (no state tax)' },
    { country: 'US', region: 'CA', rateBp: 725, name: 'California sales tax' },
  ])
    await ensureTaxRate(db, t);
  for (const [i, p] of DEMO_SKUS.entries()) {
    await ensureProduct(db, p);
    await receiveOpeningStock(db, 'EAST', p.sku, 20 + (i % 7) * 10);
    if (i % 3 !== 0) await receiveOpeningStock(db, 'WEST', p.sku, 10 + (i % 5) * 8);
  }
  await ensureProduct(db, {
    sku: 'KIT-STARTER',
    name: 'Starter kit (tee, cap, mug)',
    cost: 1000,
    price: 3999,
    kind: 'kit',
    components: [
      { sku: 'TEE-BLK-M', quantity: 1 },
      { sku: 'CAP-BLK-M', quantity: 1 },
      { sku: 'MUG-BLK-M', quantity: 1 },
    ],
  });
  await ensureProduct(db, {
    sku: 'KIT-SOCKS-3',
    name: 'Three pairs of socks',
    cost: 360,
    price: 1999,
    kind: 'kit',
    components: [{ sku: 'SOCK-BLK-M', quantity: 3 }],
  });
  await ensureProduct(db, {
    sku: 'KIT-COSY',
    name: 'Cosy bundle (hoodie and socks)',
    cost: 1620,
    price: 5499,
    kind: 'kit',
    components: [
      { sku: 'HOOD-NAV-M', quantity: 1 },
      { sku: 'SOCK-NAV-M', quantity: 1 },
    ],
  });
  await seedPurchasing(db);
  log(
    `Seeded 2 warehouses, 2 channels, ${DEMO_SKUS.length} SKUs with stock, 3 kits, 2 suppliers with prices and a reorder rule per SKU and warehouse.`,
  );

  const keys: { role: Role; key: string }[] = [];
  for (const role of ROLES) {
    const name = `demo ${role}`;
    if (!needsKey(role) && (await db('api_keys').where({ name }).first('id'))) continue;
    const { key } = await createApiKey(db, name, [role]);
    keys.push({ role, key });
  }
  return { keys };
}

if (require.main === module) {
  (async () => {
    const { createDb } = await import('../index');
    const { config } = await import('../../lib/config');
    const db = createDb(config().DATABASE_URL, 2);
    const { keys } = await seedDemo(db);
    for (const k of keys) console.log(`  ${k.role.padEnd(12)} ${k.key}`);
    if (keys.length === 0) console.log('Demo API keys already exist (they are shown only once, when created).');
    await db.destroy();
  })().catch((err) => {
    console.error(`Seeding failed: ${err.message}. Run \`npm run migrate\` first and check DATABASE_URL.`);
    process.exit(1);
  });
}
