/** The contract's edges: bad input, keys and roles, error format, and that a rejected request changes nothing. */
import { stockedSku, orderBody } from '../helpers/fixtures';
import { eventually, startStack, Stack } from '../helpers/stack';

let s: Stack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(async () => s?.stop());

/**
 * Everything a rejected request could have written, scoped to this test's own
 * refs, emails, SKUs, key names and request ids: other test files write to the
 * same database at the same time, so global row counts would not do.
 */
async function footprint(f: {
  skus?: string[];
  refs?: string[];
  emails?: string[];
  keyNames?: string[];
  requestPrefix: string;
}) {
  const products = s
    .db('products')
    .whereIn('sku', f.skus ?? [])
    .select('id');
  return {
    orders: await s
      .db('sales_orders')
      .whereIn('external_ref', f.refs ?? [])
      .select('id', 'status'),
    customers: await s
      .db('customers')
      .whereIn('email', f.emails ?? [])
      .select('id', 'name'),
    products: await s
      .db('products')
      .whereIn('sku', f.skus ?? [])
      .orderBy('sku')
      .select('sku', 'name', 'cost', 'kind'),
    kitComponents: await s.db('kit_components').whereIn('kit_product_id', products).select('*'),
    moves: await s.db('stock_moves').whereIn('product_id', products).count({ n: '*' }).first(),
    quants: await s.db('quants').whereIn('product_id', products).orderBy(['location_id', 'product_id']).select('*'),
    reservations: await s.db('reservations').whereIn('product_id', products).count({ n: '*' }).first(),
    apiKeys: await s
      .db('api_keys')
      .whereIn('name', f.keyNames ?? [])
      .select('id'),
    audit: await s.db('audit_log').where('request_id', 'like', `${f.requestPrefix}%`).select('action'),
  };
}

let sent = 0;
const rid = (prefix: string) => ({ 'x-request-id': `${prefix}-${++sent}` });

function expectError(r: { status: number; body: any; headers: Headers }, status: number, code?: string) {
  expect(r.status).toBe(status);
  expect(r.body).toEqual({
    error: { code: expect.any(String), message: expect.any(String), details: expect.any(Array) },
  });
  if (code) expect(r.body.error.code).toBe(code);
  expect(JSON.stringify(r.body)).not.toMatch(/at .*\.ts:\d+|node_modules/); // never a stack trace
  expect(r.headers.get('x-request-id')).toBeTruthy();
}

test('bad order input is refused with the contract error and writes nothing', async () => {
  const sku = await stockedSku(s.db, { EAST: 5 });
  const good = orderBody([{ sku, quantity: 1 }]);
  const prefix = `bad-order-${Date.now()}`;
  const scope = {
    skus: [sku, 'NO-SUCH-SKU'],
    refs: [good.externalRef, "x'; DROP TABLE sales_orders; --"],
    emails: [good.customer.email],
    requestPrefix: prefix,
  };
  const before = await footprint(scope);
  const post = (body: unknown, raw?: string) =>
    s.call('POST', '/v1/orders', {
      key: s.keys.storefront,
      body: raw === undefined ? body : undefined,
      raw,
      headers: rid(prefix),
    });

  expectError(await post(undefined, '{"channel": "web", '), 400, 'malformed_json');
  expectError(await post({ ...good, lines: 'three' }), 400, 'validation_failed');
  expectError(await post({ ...good, lines: [{ sku, quantity: -1, unitPrice: 100 }] }), 400, 'validation_failed');
  expectError(await post({ ...good, lines: [{ sku, quantity: 0, unitPrice: 100 }] }), 400, 'validation_failed');
  expectError(await post({ ...good, lines: [{ sku, quantity: 1.5, unitPrice: 100 }] }), 400, 'validation_failed');
  expectError(await post({ ...good, lines: [{ sku, quantity: 1, unitPrice: 1e30 }] }), 400, 'validation_failed');
  expectError(await post({ ...good, lines: [] }), 400, 'validation_failed');
  expectError(await post({ ...good, customer: { email: 'not-an-email', name: 'x' } }), 400, 'validation_failed');
  expectError(await post({ ...good, externalRef: "x'; DROP TABLE sales_orders; --" }), 400, 'validation_failed');
  expectError(
    await post({ ...good, shippingAddress: { ...good.shippingAddress, country: 'Germany' } }),
    400,
    'validation_failed',
  );
  const unknown = await post({
    ...good,
    lines: [
      { sku, quantity: 1, unitPrice: 100 },
      { sku: 'NO-SUCH-SKU', quantity: 1, unitPrice: 100 },
    ],
  });
  expectError(unknown, 422, 'unprocessable');
  expect(unknown.body.error.details).toEqual([{ path: 'lines.1.sku', message: 'unknown SKU NO-SUCH-SKU' }]);
  expectError(await post({ ...good, channel: 'nope' }), 422);
  expectError(await post({ ...good, currency: 'USD' }), 422);
  const huge = JSON.stringify({ ...good, padding: 'x'.repeat(2 * 1024 * 1024) });
  expectError(await post(undefined, huge), 413, 'payload_too_large');

  expect(await footprint(scope)).toEqual(before);
  expect(before.orders).toEqual([]);
  // The same footprint does notice a write: the good order is recorded.
  expect((await post(good)).status).toBe(201);
  expect((await footprint(scope)).orders).toHaveLength(1);
});

test('missing, unknown and revoked keys get 401; a key without the role gets 403', async () => {
  const sku = await stockedSku(s.db, { EAST: 2 });
  const order = orderBody([{ sku, quantity: 1 }]);
  const prefix = `bad-auth-${Date.now()}`;
  const keyName = `not allowed ${prefix}`;
  const scope = {
    skus: [sku],
    refs: [order.externalRef],
    emails: [order.customer.email],
    keyNames: [keyName],
    requestPrefix: prefix,
  };
  const before = await footprint(scope);
  expectError(await s.call('GET', '/v1/warehouses', { key: null }), 401, 'unauthorized');
  expectError(await s.call('GET', '/v1/warehouses', { key: 'erp_not_a_real_key' }), 401, 'unauthorized');
  expectError(await s.call('GET', '/v1/warehouses', { key: null, headers: { authorization: 'Basic abc' } }), 401);
  expectError(await s.call('POST', '/v1/orders', { key: null, body: order, headers: rid(prefix) }), 401);
  expectError(
    await s.call('POST', '/v1/orders', { key: s.keys.warehouse, body: order, headers: rid(prefix) }),
    403,
    'forbidden',
  );
  expectError(await s.call('GET', '/v1/ledger/trial-balance', { key: s.keys.storefront }), 403, 'forbidden');
  expectError(
    await s.call('POST', '/v1/api-keys', {
      key: s.keys.ops,
      body: { name: keyName, roles: ['admin'] },
      headers: rid(prefix),
    }),
    403,
  );
  expectError(
    await s.call('POST', '/v1/inventory/adjustments', {
      key: s.keys.finance,
      body: { warehouse: 'EAST', sku, countedQuantity: 9, reason: 'x' },
      headers: rid(prefix),
    }),
    403,
  );
  expect(await footprint(scope)).toEqual(before);

  const created = await s.call('POST', '/v1/api-keys', {
    key: s.keys.admin,
    body: { name: 'temp', roles: ['finance'] },
  });
  expect(created.status).toBe(201);
  expect(created.body.key).toMatch(/^erp_/);
  const stored = await s.db('api_keys').where({ id: created.body.id }).first();
  expect(stored.key_hash).not.toContain(created.body.key); // only the hash is stored
  expect(JSON.stringify(stored)).not.toContain(created.body.key);
  expect((await s.call('GET', '/v1/ledger/trial-balance', { key: created.body.key })).status).toBe(200);
  expect((await s.call('DELETE', `/v1/api-keys/${created.body.id}`, { key: s.keys.admin })).status).toBe(200);
  expectError(await s.call('GET', '/v1/ledger/trial-balance', { key: created.body.key }), 401);
  expectError(await s.call('DELETE', `/v1/api-keys/${created.body.id}`, { key: s.keys.admin }), 404);
});

test('the bootstrap admin key from the environment is accepted and stored hashed', async () => {
  const { bootstrapAdminKey, hashKey } = await import('../../api/auth');
  const key = `bootstrap-${Date.now()}-0123456789`;
  await bootstrapAdminKey(s.db, key);
  await bootstrapAdminKey(s.db, key); // starting twice keeps one key
  expect(await s.db('api_keys').where({ key_hash: hashKey(key) })).toHaveLength(1);
  const r = await s.call('POST', '/v1/api-keys', { key, body: { name: 'made by bootstrap', roles: ['ops'] } });
  expect(r.status).toBe(201);
});

test('products: bulk upsert with kits is all or nothing, with per-row errors', async () => {
  const base = `P${Date.now()}`;
  const scope = { skus: [`${base}-A`, `${base}-K`, `${base}-B`], requestPrefix: base };
  const before = await footprint(scope);
  const bad = await s.call('POST', '/v1/products', {
    key: s.keys.procurement,
    headers: rid(base),
    body: {
      products: [
        { sku: `${base}-A`, name: 'A', cost: 100 },
        { sku: `${base}-K`, name: 'Kit', cost: 0, kind: 'kit', components: [{ sku: 'NOPE', quantity: 1 }] },
        { sku: `${base}-A`, name: 'A again', cost: 100 },
      ],
    },
  });
  expectError(bad, 422);
  expect(bad.body.error.details).toEqual([
    { index: 1, sku: `${base}-K`, message: 'component NOPE is not a known product' },
    { index: 2, sku: `${base}-A`, message: 'the SKU appears twice in this request' },
  ]);
  expect(await footprint(scope)).toEqual(before);
  const okBody = {
    products: [
      { sku: `${base}-A`, name: 'A', cost: 100, price: 500 },
      { sku: `${base}-K`, name: 'Kit', cost: 0, kind: 'kit', components: [{ sku: `${base}-A`, quantity: 2 }] },
    ],
  };
  const ok = await s.call('POST', '/v1/products', {
    key: s.keys.procurement,
    headers: { 'idempotency-key': base },
    body: okBody,
  });
  expect(ok.status).toBe(200);
  const kit = await s.call('GET', `/v1/products/${base}-K`, { key: s.keys.storefront });
  expect(kit.body).toMatchObject({ kind: 'kit', components: [{ sku: `${base}-A`, quantity: 2 }] });
  const page = await s.call('GET', `/v1/products?limit=1&cursor=${base}`, { key: s.keys.storefront });
  expect(page.body.products[0].sku).toBe(`${base}-A`);
  expect(page.body.nextCursor).toBe(`${base}-A`);
  const repeat = await s.call('POST', '/v1/products', {
    key: s.keys.procurement,
    headers: { 'idempotency-key': base },
    body: { products: [{ sku: `${base}-B`, name: 'B', cost: 1 }] },
  });
  // The same key with a different request is refused (not answered with the first result), and B was not created.
  expect(repeat.status).toBe(409);
  expect(repeat.body.error.message).toContain('was already used for a different request');
  const same = await s.call('POST', '/v1/products', {
    key: s.keys.procurement,
    headers: { 'idempotency-key': base },
    body: okBody,
  });
  expect([same.status, same.body]).toEqual([200, ok.body]); // the same request again: the first result
  expect((await s.call('GET', `/v1/products/${base}-B`, { key: s.keys.storefront })).status).toBe(404);
});

test('cycle counts: unknown SKU 422, a gain is booked, a count below reservations is recorded and re-plans the order', async () => {
  const sku = await stockedSku(s.db, { EAST: 3 }, 250);
  expectError(
    await s.call('POST', '/v1/inventory/adjustments', {
      key: s.keys.warehouse,
      body: { warehouse: 'EAST', sku: 'NOPE', countedQuantity: 1, reason: 'x' },
    }),
    422,
  );
  expectError(
    await s.call('POST', '/v1/inventory/adjustments', {
      key: s.keys.warehouse,
      body: { warehouse: 'NOWHERE', sku, countedQuantity: 1, reason: 'x' },
    }),
    422,
  );
  expectError(
    await s.call('POST', '/v1/inventory/adjustments', {
      key: s.keys.warehouse,
      body: { warehouse: 'EAST', sku, countedQuantity: -1, reason: 'x' },
    }),
    400,
  );
  const r = await s.call('POST', '/v1/inventory/adjustments', {
    key: s.keys.warehouse,
    body: { warehouse: 'EAST', sku, countedQuantity: 5, reason: 'found a box' },
  });
  expect(r.status).toBe(201);
  expect(r.body).toMatchObject({ previousQuantity: 3, countedQuantity: 5, difference: 2 });
  const entry = await s
    .db('journal_entries as e')
    .join('journal_lines as l', 'l.entry_id', 'e.id')
    .where('e.source_id', r.body.adjustmentId)
    .select('l.account_code', 'l.debit', 'l.credit');
  expect(entry).toEqual(
    expect.arrayContaining([
      { account_code: '1300', debit: 500, credit: 0 },
      { account_code: '5100', debit: 0, credit: 500 },
    ]),
  );
  // Reserve 4 through a real order, then count fewer than that.
  const placed = await s.call('POST', '/v1/orders', {
    key: s.keys.storefront,
    body: orderBody([{ sku, quantity: 4 }]),
  });
  await eventually(
    async () => (await s.call('GET', `/v1/inventory/${sku}`, { key: s.keys.ops })).body.total.reserved === 4,
    20000,
    'reservation',
  );
  // The shelf is the truth: the count is recorded and the order it no longer covers re-plans (tests/warehouse-truth).
  const below = await s.call('POST', '/v1/inventory/adjustments', {
    key: s.keys.warehouse,
    body: { warehouse: 'EAST', sku, countedQuantity: 2, reason: 'x' },
  });
  expect(below.status).toBe(201);
  expect(below.body).toMatchObject({
    previousQuantity: 5,
    countedQuantity: 2,
    difference: -3,
    ordersReplanned: [{ orderId: placed.body.orderId, units: 4 }],
  });
  expect(
    (await s.call('POST', `/v1/orders/${placed.body.orderId}/cancel`, { key: s.keys.ops, body: { reason: 'test' } }))
      .status,
  ).toBe(202);
});

test('system endpoints: health, readiness, metrics, OpenAPI and docs', async () => {
  expect((await s.call('GET', '/healthz', { key: null })).body).toEqual({ status: 'ok' });
  expect((await s.call('GET', '/readyz', { key: null })).body).toMatchObject({
    status: 'ready',
    checks: { postgres: 'ok', temporal: 'ok' },
  });
  const metrics = await s.call('GET', '/metrics', { key: null });
  expect(metrics.body).toMatch(/erp_http_requests_total\{method="GET",route="\/healthz",status="200"\}/);
  const doc = (await s.call('GET', '/openapi.json', { key: null })).body;
  expect(doc.openapi).toBe('3.1.0');
  const operations = Object.values(doc.paths).flatMap((p) => Object.values(p as Record<string, any>));
  const ids = operations.map((o) => o.operationId);
  expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
  expect(new Set(ids).size).toBe(ids.length);
  const post = doc.paths['/v1/orders'].post;
  expect(post.operationId).toBe('placeOrder');
  expect(Object.keys(post.responses)).toEqual(
    expect.arrayContaining(['201', '400', '401', '403', '409', '413', '422', '429', '503']),
  );
  const carrier = doc.paths['/v1/webhooks/carriers'].post;
  expect(carrier.parameters).toEqual(
    expect.arrayContaining([expect.objectContaining({ in: 'header', name: 'x-signature', required: true })]),
  );
  expect(carrier.requestBody.content['application/json'].schema).toBeTruthy();
  const idempotent = doc.paths['/v1/returns'].post.parameters.find((p: any) => p.name === 'Idempotency-Key');
  expect(idempotent).toMatchObject({ in: 'header', required: false });
  expect(Object.keys(doc.paths)).toEqual(
    expect.arrayContaining([
      '/v1/orders',
      '/v1/orders/{orderId}',
      '/v1/shipments/{shipmentId}/events',
      '/v1/inventory/{sku}',
      '/v1/ledger/trial-balance',
      '/v1/webhooks/carriers',
    ]),
  );
  expect(doc.paths['/v1/orders'].post.requestBody.content['application/json'].schema).toBeTruthy();
  const docs = await s.call('GET', '/docs', { key: null });
  expect(docs.body).toContain('SwaggerUIBundle');
  expect((await s.call('GET', '/docs/assets/swagger-ui-bundle.js', { key: null })).status).toBe(200);
  expectError(await s.call('GET', '/v1/nothing-here', { key: null }), 404, 'not_found');
  expectError(await s.call('GET', '/v1/orders/00000000-0000-0000-0000-000000000000', { key: s.keys.ops }), 404);
});
