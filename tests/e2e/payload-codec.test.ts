/**
 * Protected payloads: what a process carries (the customer's e-mail, the payment token) is encrypted in
 * Temporal's history with AES-256-GCM, readable by our clients and workers and by an engineer through the
 * authenticated codec endpoint, and keys rotate by id. The suite runs every process this way (PAYLOAD_KEYS
 * from global set-up); here a client without the key reads the raw history.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { Client, Connection } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { EncryptionCodec } from '../../lib/payload-codec';
import { CustomerEmailKey, CustomerIdKey } from '../../contracts/search-attributes';
import { orderBody, stockedSku } from '../helpers/fixtures';
import { waitFor } from '../helpers/orders';
import { eventually, startStack, type Stack } from '../helpers/stack';

let s: Stack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(async () => s?.stop());

/** Every payload in a history (inputs, results, signals, updates, markers, memo), wherever it sits. */
function payloadsIn(node: unknown, found: Payload[] = []): Payload[] {
  if (!node || typeof node !== 'object') return found;
  const o = node as Record<string, unknown>;
  if (o.data instanceof Uint8Array && o.metadata && typeof o.metadata === 'object') found.push(o as Payload);
  else for (const v of Object.values(o)) payloadsIn(v, found);
  return found;
}
const text = (p: Payload) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8');
const encoding = (p: Payload) => Buffer.from(p.metadata?.encoding ?? new Uint8Array()).toString('utf8');

test("an order's customer e-mail and payment token are not in clear in its history; our clients read them", async () => {
  const sku = await stockedSku(s.db, { EAST: 2 });
  const email = `secret-${randomBytes(4).toString('hex')}@example.com`;
  const body = orderBody([{ sku, quantity: 1 }], { customer: { email, name: 'Ada Secret' } });
  const placed = await s.call('POST', '/v1/orders', { key: s.keys.storefront, body });
  expect(placed.status).toBe(201);
  await waitFor(s, placed.body.orderId, 'fulfilling');

  // A client without the key sees the history as the Temporal server stores it.
  const connection = await Connection.connect({ address: s.config.TEMPORAL_ADDRESS });
  try {
    const raw = await new Client({ connection }).workflow.getHandle(placed.body.workflowId).fetchHistory();
    const payloads = payloadsIn(raw);
    const encrypted = payloads.filter((p) => encoding(p) === 'binary/encrypted');
    expect(encrypted.length).toBeGreaterThan(5);
    const clear = payloads.map(text).join('\n');
    expect(clear).not.toContain(email); // not in the input, and not as a search attribute: the customer id is
    expect(clear).not.toContain('tok_approve');
    const described = await s.client.workflow.getHandle(placed.body.workflowId).describe();
    expect(described.typedSearchAttributes.get(CustomerIdKey)).toMatch(/^\d+$/);
    expect(described.typedSearchAttributes.get(CustomerEmailKey)).toBeUndefined();

    // Our own client (with the key) reads the process: its live view comes through the API as before.
    const view = await s.call('GET', `/v1/orders/${placed.body.orderId}`, { key: s.keys.ops });
    expect(view.body.process.live).toBe(true);

    // The codec endpoint, as the Temporal UI or `temporal workflow show --codec-endpoint` calls it.
    const wire = encrypted.map((p) => ({
      metadata: Object.fromEntries(
        Object.entries(p.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')]),
      ),
      data: Buffer.from(p.data!).toString('base64'),
    }));
    const decoded = await s.call('POST', '/v1/codec/decode', { key: s.keys.ops, body: { payloads: wire } });
    expect(decoded.status).toBe(200);
    const plain = decoded.body.payloads.map((p: { data: string }) => Buffer.from(p.data, 'base64').toString('utf8'));
    expect(plain.join('\n')).toContain(email);
    expect(plain.join('\n')).toContain('tok_approve');
    expect(decoded.body.payloads[0].metadata.encoding).toBe(Buffer.from('json/plain').toString('base64'));
    expect((await s.call('POST', '/v1/codec/decode', { key: null, body: { payloads: wire } })).status).toBe(401);
    expect(
      (await s.call('POST', '/v1/codec/decode', { key: s.keys.storefront, body: { payloads: wire } })).status,
    ).toBe(403);
    const tampered = [{ ...wire[0], data: Buffer.from('not what was sealed').toString('base64') }];
    const bad = await s.call('POST', '/v1/codec/decode', { key: s.keys.ops, body: { payloads: tampered } });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'validation_failed']);
    const roundTrip = await s.call('POST', '/v1/codec/encode', { key: s.keys.ops, body: decoded.body });
    expect(roundTrip.body.payloads[0].metadata.encoding).toBe(Buffer.from('binary/encrypted').toString('base64'));
  } finally {
    await connection.close();
  }
});

test('the Temporal UI may call the codec from its own origin only', async () => {
  const ask = (origin: string) =>
    fetch(`${s.url}/v1/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
  const ui = await ask('http://localhost:8233');
  expect([ui.status, ui.headers.get('access-control-allow-origin')]).toEqual([204, 'http://localhost:8233']);
  const other = await ask('https://evil.example');
  expect(other.headers.get('access-control-allow-origin')).toBeNull();
});

test('keys rotate by id: the first encrypts, any listed decrypts, a payload in clear passes through', async () => {
  const k1 = { id: 'k1', key: randomBytes(32) };
  const k2 = { id: 'k2', key: randomBytes(32) };
  const plain: Payload = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"a":1}') };
  const [old] = await new EncryptionCodec([k1]).encode([plain]);
  const rotated = new EncryptionCodec([k2, k1]);
  const [fresh] = await rotated.encode([plain]);
  expect(Buffer.from(fresh.metadata!['encryption-key-id']!).toString()).toBe('k2');
  for (const p of await rotated.decode([old, fresh, plain])) expect(text(p)).toBe('{"a":1}');
  await expect(new EncryptionCodec([k2]).decode([old])).rejects.toThrow(/key "k1", which PAYLOAD_KEYS does not list/);

  // The key id is sealed in: relabelled to a key that would open it (the same bytes under another id), it does not.
  const twin = new EncryptionCodec([k1, { id: 'k3', key: k1.key }]);
  const relabelled = { ...old, metadata: { ...old.metadata, 'encryption-key-id': Buffer.from('k3') } };
  await expect(twin.decode([relabelled])).rejects.toThrow(/authenticate/);
  const { 'encryption-bound': _bound, ...unmarked } = old.metadata!;
  await expect(twin.decode([{ ...old, metadata: unmarked }])).rejects.toThrow(/authenticate/); // marker stripped
  // A payload sealed before the binding existed (no marker) still opens: committed histories replay.
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', k1.key, iv);
  const inner = temporal.api.common.v1.Payload.encode(plain).finish();
  const legacy: Payload = {
    metadata: { encoding: Buffer.from('binary/encrypted'), 'encryption-key-id': Buffer.from('k1') },
    data: Buffer.concat([iv, cipher.update(inner), cipher.final(), cipher.getAuthTag()]),
  };
  expect(text((await twin.decode([legacy]))[0])).toBe('{"a":1}');
});

test("a failure's message and stack trace are encrypted in the history too; our clients read them", async () => {
  const { WorkflowFailedError } = await import('@temporalio/client');
  const handle = await s.client.workflow.start('paymentDispute', {
    taskQueue: s.taskQueue,
    workflowId: `dispute-encrypted-failure-${randomBytes(4).toString('hex')}`,
    args: [{ providerDisputeId: 'dp_secret_nobody_has' }],
  });
  // The step failed for good: an activity_failed case holds the process (our worker read the message).
  const stuck = await eventually(
    () => s.db('exceptions').where({ type: 'activity_failed', workflow_id: handle.workflowId, status: 'open' }).first(),
    30_000,
    'the activity_failed case',
  );
  expect(stuck.summary).toContain('no dispute dp_secret_nobody_has');
  const connection = await Connection.connect({ address: s.config.TEMPORAL_ADDRESS });
  try {
    const raw = await new Client({ connection }).workflow.getHandle(handle.workflowId).fetchHistory();
    const failure = raw.events?.find((e) => e.activityTaskFailedEventAttributes)?.activityTaskFailedEventAttributes
      ?.failure;
    expect(failure?.message).toBe('Encoded failure');
    expect(encoding(failure!.encodedAttributes!)).toBe('binary/encrypted');
    expect(JSON.stringify(raw)).not.toContain('no dispute dp_secret_nobody_has');
  } finally {
    await connection.close();
  }
  const gaveUp = await s.call('POST', `/v1/exceptions/${stuck.id}/resolution`, {
    key: s.keys.ops,
    body: { action: 'give_up', note: 'no such dispute at the provider' },
  });
  expect(gaveUp.status).toBe(200);
  const failed = await handle.result().catch((err: unknown) => err);
  expect(failed).toBeInstanceOf(WorkflowFailedError);
  const messages: string[] = [];
  for (let e = failed as Error | undefined; e; e = (e as { cause?: Error }).cause) messages.push(e.message);
  expect(messages.join(' / ')).toMatch(/no dispute dp_secret_nobody_has/); // decoded by our client
});
