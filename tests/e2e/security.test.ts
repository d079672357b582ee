/**
 * Hostile and unauthorised callers: the committed role matrix is the code's,
 * every endpoint × role cell holds over HTTP, keys are rate limited (429 with
 * Retry-After), and property-based fuzzing of every write endpoint gets no
 * 5xx, the contract's error format, and an unchanged database.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { buildRoutes } from '../../api/app';
import { cellsOf, MATRIX_PATH, renderRoleMatrix } from '../../api/role-matrix';
import { createDb } from '../../db';
import { dropDatabase, ensureDatabase, migrate } from '../../db/migrate';
import { ROLES } from '../../contracts/roles';
import { signature } from '../../lib/fingerprint';
import { createLogger } from '../../lib/logger';
import { eventually, startStack, Stack } from '../helpers/stack';

let s: Stack;
let table: ReturnType<typeof buildRoutes>['table'];
// A database of its own: the fuzzing test compares row counts, which other test files change as they run.
const url = new URL(process.env.DATABASE_URL!);
url.pathname = `${url.pathname}_security`;
beforeAll(async () => {
  await ensureDatabase(url.toString());
  const db = createDb(url.toString(), 2);
  await migrate(db);
  await db.destroy();
  s = await startStack({ DATABASE_URL: url.toString() });
  table = buildRoutes({ db: s.db, temporal: s.client, config: s.config }).table;
});
afterAll(async () => {
  await s?.stop();
  await dropDatabase(url.toString());
});

/** A path with every parameter replaced by something that cannot exist, so allowed calls answer 4xx without effect. */
const NOWHERE: Record<string, string> = {
  id: '00000000-0000-4000-8000-000000000000',
  orderId: '00000000-0000-4000-8000-000000000001',
  returnId: '00000000-0000-4000-8000-000000000002',
  poId: '00000000-0000-4000-8000-000000000003',
  shipmentId: '00000000-0000-4000-8000-000000000004',
  sku: 'NO-SUCH-SKU',
  email: 'nobody@example.com',
  file: 'nothing.css',
};
const concrete = (path: string) =>
  path.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(NOWHERE[name] ?? 'x'));
const writes = () => table.filter((r) => r.method !== 'GET');

/** Row counts of every table but the audit log: rejected requests must leave them as they were. */
async function footprint() {
  const tables = (
    await s.db.raw(
      `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN ('audit_log', 'knex_migrations', 'knex_migrations_lock') ORDER BY 1`,
    )
  ).rows.map((r: { tablename: string }) => r.tablename);
  const counts: Record<string, number> = {};
  for (const t of tables) counts[t] = Number((await s.db(t).count({ n: '*' }).first())!.n);
  return counts;
}

test('the committed role matrix is the one the code declares', () => {
  expect(readFileSync(MATRIX_PATH, 'utf8')).toBe(renderRoleMatrix(table)); // if this fails: npm run role-matrix, review, commit
  expect(table.length).toBeGreaterThanOrEqual(45);
});

test('every endpoint × every role over HTTP: deny is 403, allow gets past the role check, no key is 401', async () => {
  const tried: string[] = [];
  for (const route of table) {
    const path = concrete(route.path);
    // A body that no schema accepts: allowed writes stop at validation (or at the unknown id), with no effect.
    const body = route.method === 'GET' ? undefined : [];
    for (const role of ROLES) {
      const cell = cellsOf(route.roles)[role];
      const r = await s.call(route.method, path, { key: s.keys[role], ...(body ? { body } : {}) });
      tried.push(`${route.method} ${route.path} ${role} ${r.status}`);
      expect(r.status).toBeLessThan(500);
      if (cell === 'deny')
        expect({ route: `${route.method} ${route.path}`, role, status: r.status, code: r.body?.error?.code }).toEqual({
          route: `${route.method} ${route.path}`,
          role,
          status: 403,
          code: 'forbidden',
        });
      else
        expect({
          route: `${route.method} ${route.path}`,
          role,
          denied: [401, 403].includes(r.status) && r.body?.error?.code !== 'invalid_signature',
        }).toEqual({ route: `${route.method} ${route.path}`, role, denied: false });
    }
    if (route.roles !== 'public')
      expect((await s.call(route.method, path, { key: null, ...(body ? { body } : {}) })).status).toBe(401);
  }
  console.log(`Role matrix: ${tried.length} endpoint × role calls checked over HTTP`);
});

test('each API key has a rate limit: past it 429 with Retry-After, other keys unaffected', async () => {
  const limited = await startStack({ DATABASE_URL: url.toString(), RATE_LIMIT_PER_MINUTE: '5' });
  try {
    const statuses = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await limited.call('GET', '/v1/inventory/NO-SUCH-SKU', { key: limited.keys.ops })).status);
    expect(statuses).toEqual([404, 404, 404, 404, 404, 429]);
    const r = await limited.call('GET', '/v1/inventory/NO-SUCH-SKU', { key: limited.keys.ops });
    expect(r.status).toBe(429);
    expect(r.body.error.code).toBe('rate_limited');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await limited.call('GET', '/v1/inventory/NO-SUCH-SKU', { key: limited.keys.warehouse })).status).toBe(404);
  } finally {
    await limited.stop();
  }
});

/** Text no database or label should hold (refused at the edge, 400 naming the field) and text that is real (passes). */
const REFUSED_TEXT = [
  'a\u0000b',
  'x\ud800',
  '\udfffy',
  '\u0007bell',
  '\u001b[31mred',
  'del\u007f',
  'c1\u0085',
  'c1\u009b',
  'nonchar\ufffe',
  '\ufdd0',
  '\u{1fffe}',
];
const REAL_TEXT = [
  '\u202eevil\u202c',
  '\u2066isolate\u2069',
  `e${'\u0301'.repeat(300)}`,
  '👨‍👩‍👧‍👦'.repeat(40),
  'עברית العربية',
  '\u200b\u200d',
];
const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ minLength: 1000, maxLength: 5000 }),
  fc.string({ unit: 'binary-ascii' }),
  fc.constantFrom(
    "'; DROP TABLE sales_orders; --",
    '<script>alert(1)</script>',
    '\u0000\u0007\u001b[31m',
    '../../etc/passwd',
    '${7*7}',
    'NaN',
    '-1',
    '1e309',
    '🦄'.repeat(50),
    'null',
    '{{x}}',
    ...REFUSED_TEXT,
    ...REAL_TEXT,
  ),
  fc.tuple(fc.string(), fc.constantFrom(...REFUSED_TEXT, ...REAL_TEXT), fc.string()).map(([a, b, c]) => a + b + c),
);
const hostileNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, -0, 1e21, Number.MAX_SAFE_INTEGER + 2, 0.5, -1e-9),
);
/** Anything JSON can carry, biased towards values our schemas must refuse, nested deep at times. */
const hostileJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    hostileNumber,
    fc.boolean(),
    fc.constant(null),
    tie('array'),
    tie('object'),
  ),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(
    fc.oneof(
      hostileString,
      fc.constantFrom(
        'lines',
        'quantity',
        'sku',
        'orderId',
        'amount',
        'decision',
        'action',
        '__proto__',
        'constructor',
      ),
    ),
    tie('value'),
    { maxKeys: 6 },
  ),
})).value;

/** Every byte of the UTF-8 form percent-encoded (encodeURIComponent throws on a lone surrogate; a client would send U+FFFD's bytes). */
const percentEncode = (text: string) =>
  [...Buffer.from(text, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

// The suite runs a seeded 3,000; `npm run fuzz` runs 10,000 (FUZZ_RUNS) on the same stack.
const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 3000);

/** A body per write endpoint with string fields where people type them, nested as the real ones are. */
const SHAPES: Record<string, object> = {
  '/v1/orders': {
    channel: 'web',
    externalRef: 'FZ-1',
    currency: 'EUR',
    customer: { email: 'f@example.com', name: 'Ada' },
    shippingAddress: { name: 'Ada', line1: 'L1', line2: 'L2', city: 'C', postalCode: '1', country: 'DE', region: 'R' },
    lines: [{ sku: 'NO-SUCH-SKU', quantity: 1, unitPrice: 1 }],
    payment: { method: 'card', token: 'tok_approve' },
  },
  '/v1/orders/:orderId/cancel': { reason: 'r' },
  '/v1/orders/:orderId/review': { decision: 'release', note: 'n' },
  '/v1/orders/:orderId/shipping-address': { name: 'Ada', line1: 'L1', city: 'C', postalCode: '1', country: 'DE' },
  '/v1/tickets': { customerEmail: 'f@example.com', subject: 's', body: 'b' },
  '/v1/products': {
    products: [
      {
        sku: 'NO-SUCH-SKU',
        name: 'n',
        unit: 'pc',
        barcode: 'b',
        cost: 1,
        kind: 'kit',
        components: [{ sku: 'NO-SUCH-SKU', quantity: 1 }],
      },
    ],
  },
  '/v1/suppliers': { suppliers: [{ code: 'FZ', name: 'n', currency: 'USD' }] },
  '/v1/api-keys': { name: 'n', roles: ['ops'] },
  '/v1/returns': {
    orderId: NOWHERE.orderId,
    lines: [{ sku: 'NO-SUCH-SKU', quantity: 1, reason: 'r' }],
    resolution: 'refund',
    note: 'n',
  },
  '/v1/returns/:returnId/decision': { decision: 'approve', note: 'n' },
  '/v1/purchase-orders': {
    supplier: 'NOPE',
    warehouse: 'NOPE',
    note: 'n',
    lines: [{ sku: 'NO-SUCH-SKU', quantity: 1 }],
  },
  '/v1/purchase-orders/:poId/decision': { decision: 'approve', note: 'n' },
  '/v1/exceptions/:id/resolution': {
    action: 'cancel',
    note: 'n',
    data: { address: { name: 'Ada', line1: 'L1', city: 'C', postalCode: '1', country: 'DE' } },
  },
  '/v1/inventory/adjustments': { warehouse: 'NOPE', sku: 'NO-SUCH-SKU', countedQuantity: 1, reason: 'r' },
  '/v1/inventory/moves': {
    warehouse: 'NOPE',
    sku: 'NO-SUCH-SKU',
    quantity: 1,
    from: 'stock',
    to: 'quarantine',
    reason: 'r',
  },
  '/v1/shipments/:shipmentId/events': { type: 'picked', carrier: 'c', trackingNumber: 't', note: 'n' },
};

/** Every path to a string leaf of `value`, as the API names fields (a.b.0.c). */
function stringLeaves(value: unknown, path: string[] = []): string[][] {
  if (typeof value === 'string') return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringLeaves(v, [...path, String(i)]));
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => stringLeaves(v, [...path, k]));
  return [];
}
function withLeaf(value: unknown, path: string[], leaf: string): unknown {
  if (path.length === 0) return leaf;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string, unknown>;
  copy[path[0]] = withLeaf(copy[path[0]], path.slice(1), leaf);
  return copy;
}

test('every string field of every write body, nested ones too: each class of text a database cannot hold is a 400 naming that field', async () => {
  const before = await footprint();
  const bad: string[] = [];
  let tried = 0;
  for (const route of writes().filter((r) => SHAPES[r.path])) {
    for (const leaf of stringLeaves(SHAPES[route.path])) {
      for (const text of REFUSED_TEXT) {
        tried++;
        const r = await s.call(route.method, concrete(route.path), {
          body: withLeaf(SHAPES[route.path], leaf, `ok ${text}`),
          headers: { 'idempotency-key': `fz-${tried}` },
        });
        if (r.status !== 400 || r.body?.error?.details?.[0]?.path !== leaf.join('.'))
          bad.push(
            `${route.method} ${route.path} ${leaf.join('.')} ${JSON.stringify(text)} → ${r.status} ${JSON.stringify(r.body).slice(0, 160)}`,
          );
      }
    }
  }
  console.log(
    `Text classes: ${tried} requests, ${REFUSED_TEXT.length} refused classes × every string field of ${Object.keys(SHAPES).length} write bodies`,
  );
  expect(bad).toEqual([]);
  expect(tried).toBeGreaterThan(500);
  expect(await footprint()).toEqual(before);
});

test('fuzzing every write endpoint: no 5xx, the contract error format, and nothing written', async () => {
  const before = await footprint();
  // Writes with a body schema a random value could satisfy by chance and then act (a plan run takes `{}`) are fuzzed through their path and headers only.
  const targets = writes().filter((r) => r.roles !== 'public');
  let tried = 0;
  const bad: string[] = [];
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...targets),
      hostileJson,
      fc.option(hostileString, { nil: undefined }),
      fc.option(hostileString, { nil: undefined }),
      async (route, body, pathJunk, idempotencyKey) => {
        tried++;
        const path =
          pathJunk === undefined
            ? concrete(route.path)
            : route.path.replace(/:(\w+)/g, () => percentEncode(pathJunk.slice(0, 300)));
        const send = route.path === '/v1/replenishment/runs' ? ['not an object'] : body;
        const headers: Record<string, string> =
          idempotencyKey === undefined
            ? {}
            : { 'idempotency-key': idempotencyKey.replace(/[^\x20-\x7e]/g, '?').slice(0, 300) || 'k' };
        const r = await s.call(route.method, path, { body: send, headers });
        const wellFormed =
          r.status >= 400 &&
          r.status < 500 &&
          typeof r.body?.error?.code === 'string' &&
          typeof r.body?.error?.message === 'string' &&
          Array.isArray(r.body?.error?.details);
        if (!wellFormed)
          bad.push(
            `${route.method} ${path.slice(0, 120)} ${JSON.stringify(send).slice(0, 200)} → ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`,
          );
        return true; // collected, so one run shows every kind of failure
      },
    ),
    { numRuns: FUZZ_RUNS, seed: 20261127 },
  );
  // Raw bodies no JSON parser takes, and one over the size limit.
  for (const raw of [
    '{',
    '{"lines": [',
    'null',
    '\u0000',
    '[1,2',
    '{"a":1}{"b":2}',
    JSON.stringify({ x: 'y'.repeat(2_000_000) }),
  ]) {
    for (const route of targets.slice(0, 10)) {
      tried++;
      const r = await s.call(route.method, concrete(route.path), { raw });
      if (!(r.status >= 400 && r.status < 500 && r.body?.error?.code))
        bad.push(`${route.method} ${route.path} raw ${raw.slice(0, 20)} → ${r.status}`);
    }
  }
  console.log(
    `Fuzzing: ${tried} hostile requests to ${targets.length} write endpoints, ${bad.length} answered outside the contract`,
  );
  expect(bad).toEqual([]);
  expect(await footprint()).toEqual(before);
});

test('log lines redact API keys and payment tokens', () => {
  const lines: string[] = [];
  const log = createLogger('info', { write: (line: string) => void lines.push(line) });
  log.info(
    {
      headers: { authorization: 'Bearer sk_live_secret' },
      key: 'sk_live_secret',
      payment: { method: 'card', token: 'tok_secret' },
      body: { token: 'tok_other' },
    },
    'request',
  );
  expect(lines).toHaveLength(1);
  expect(lines[0]).not.toMatch(/sk_live_secret|tok_secret|tok_other/);
  expect(JSON.parse(lines[0]).payment).toEqual({ method: 'card', token: '[redacted]' });
});

test('a revoked key stops working at once, and keys never reach the logs', async () => {
  const created = await s.call('POST', '/v1/api-keys', { body: { name: 'short-lived', roles: ['ops'] } });
  expect(created.status).toBe(201);
  expect((await s.call('GET', '/v1/exceptions', { key: created.body.key })).status).toBe(200);
  expect((await s.call('DELETE', `/v1/api-keys/${created.body.id}`)).status).toBe(200);
  expect((await s.call('GET', '/v1/exceptions', { key: created.body.key })).status).toBe(401);
  const stored = await s.db('api_keys').where({ id: created.body.id }).first('key_hash', 'prefix');
  expect(stored.key_hash).not.toContain(created.body.key);
  expect(stored.key_hash).toMatch(/^[0-9a-f]{64}$/);
  const audit = await eventually(
    () => s.db('audit_log').where({ action: 'api_key.revoke', target: created.body.id }).first(),
    5000,
    'audit row',
  );
  expect(JSON.stringify(audit)).not.toContain(created.body.key);
});

test('cached keys: a revocation written by anyone (psql included) reaches every API process; with the notices lost nothing is cached', async () => {
  const { Lookups } = await import('../../api/lookups');
  const { createApiKey, hashKey } = await import('../../api/auth');
  // A second API process's cache, on its own listening connection.
  const other = await new Lookups(s.db, url.toString()).start();
  try {
    expect(other.listening).toBe(true);
    const first = await createApiKey(s.db, 'cached one', ['ops']);
    expect((await s.call('GET', '/v1/exceptions', { key: first.key })).status).toBe(200);
    expect((await other.keyByHash(hashKey(first.key)))?.id).toBe(first.id); // now cached in both
    await s.db('api_keys').where({ id: first.id }).update({ revoked_at: s.db.fn.now() }); // not through the API
    await eventually(async () => (await other.keyByHash(hashKey(first.key))) === undefined, 2000, 'other process');
    await eventually(
      async () => (await s.call('GET', '/v1/exceptions', { key: first.key })).status === 401,
      2000,
      'this process',
    );

    // The listening connection dies (a Postgres restart, a network cut): from then on every lookup reads the table.
    const second = await createApiKey(s.db, 'cached two', ['ops']);
    expect((await other.keyByHash(hashKey(second.key)))?.id).toBe(second.id);
    await s.db.raw(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE application_name = 'erp-api-change-notices' AND datname = current_database()`);
    await eventually(async () => !other.listening, 2000, 'the lost connection noticed');
    await s.db('api_keys').where({ id: second.id }).update({ revoked_at: s.db.fn.now() });
    expect(await other.keyByHash(hashKey(second.key))).toBeUndefined(); // at once: no stale copy survived
    await eventually(async () => other.listening, 5000, 'listening again'); // it reconnects by itself
  } finally {
    await other.stop();
  }
});

test("webhook secrets per provider, rotatable: any listed secret verifies, another provider's never does", async () => {
  const carrier = ['carrier-new-secret-0123456789', 'carrier-old-secret-0123456789'];
  const payment = ['payment-only-secret-0123456789'];
  const r = await startStack({
    DATABASE_URL: url.toString(),
    CARRIER_WEBHOOK_SECRETS: carrier.join(','),
    PAYMENT_WEBHOOK_SECRETS: payment.join(','),
  });
  try {
    const send = (path: string, secret: string, body: object) => {
      const raw = JSON.stringify(body);
      return r.call('POST', path, {
        key: null,
        raw,
        headers: { 'content-type': 'application/json', 'x-signature': signature(secret, raw) },
      });
    };
    const tracking = {
      eventId: `evt-${Date.now()}`,
      sentAt: new Date().toISOString(),
      trackingNumber: 'NO-SUCH-PARCEL',
      type: 'delivered',
    };
    // Past the signature, the parcel is unknown (404): the signature was accepted.
    for (const secret of carrier) expect((await send('/v1/webhooks/carriers', secret, tracking)).status).toBe(404);
    for (const secret of [...payment, r.config.WEBHOOK_SECRET]) {
      const refused = await send('/v1/webhooks/carriers', secret, tracking);
      expect(refused.status).toBe(401);
      expect(refused.body.error.code).toBe('invalid_signature');
    }
    const review = {
      eventId: `evt-p-${Date.now()}`,
      sentAt: new Date().toISOString(),
      type: 'review.approved',
      orderId: NOWHERE.orderId,
    };
    expect((await send('/v1/webhooks/payments', carrier[0], review)).status).toBe(401);
    expect((await send('/v1/webhooks/payments', payment[0], review)).status).toBe(404); // verified; no such order
  } finally {
    await r.stop();
  }
});
