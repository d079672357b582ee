/**
 * Console sign-in over real HTTP: an API key exchanged for a session cookie (httpOnly, SameSite=Strict, not
 * Secure on plain http, Secure behind https), a CSRF token every write must carry, the key's roles and no
 * more, sign-out ending the session on the server, and a revoked key ending its sessions.
 */
import { createApiKey } from '../../api/auth';
import { startStack, Stack } from '../helpers/stack';

let s: Stack;
beforeAll(async () => (s = await startStack()));
afterAll(async () => s?.stop());

async function signIn(apiKey: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${s.url}/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ apiKey }),
  });
  const cookie = res.headers.get('set-cookie') ?? '';
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, cookie, jar: cookie.split(';')[0] };
}

const asSession = (jar: string, method: string, path: string, o: { csrf?: string; body?: unknown } = {}) =>
  fetch(`${s.url}${path}`, {
    method,
    headers: {
      cookie: jar,
      ...(o.csrf ? { 'x-csrf-token': o.csrf } : {}),
      ...(o.body ? { 'content-type': 'application/json' } : {}),
    },
    body: o.body ? JSON.stringify(o.body) : undefined,
  });

test('sign in: an httpOnly SameSite=Strict cookie with an expiry, the roles of the key, a CSRF token', async () => {
  const r = await signIn(s.keys.approver);
  expect(r.status).toBe(201);
  expect(r.body).toMatchObject({ roles: ['approver'], via: 'session' });
  expect(r.body.csrfToken).toEqual(expect.any(String));
  expect(r.cookie).toMatch(/^erp_session=[\w-]{40,}; path=\/; expires=.+; samesite=strict; httponly$/i);
  expect(r.cookie).not.toMatch(/secure/i); // plain http here
  const me = await asSession(r.jar, 'GET', '/v1/sessions/current');
  expect(await me.json()).toMatchObject({ roles: ['approver'], csrfToken: r.body.csrfToken, via: 'session' });
  const inbox = await asSession(r.jar, 'GET', '/v1/approvals');
  expect(inbox.status).toBe(200);

  const behindTls = await signIn(s.keys.approver, { 'x-forwarded-proto': 'https' });
  expect(behindTls.cookie).toMatch(/; secure/i);
  expect((await signIn('erp_not-a-key')).status).toBe(401);
  expect((await signIn('')).status).toBe(400);
});

test('writes need the CSRF token; a session may do only what its key may', async () => {
  const ops = await signIn(s.keys.ops);
  const body = { customerEmail: 'csrf@example.com', subject: 'Where is my order', body: 'It has not arrived' };
  expect((await asSession(ops.jar, 'POST', '/v1/tickets', { body })).status).toBe(403); // no token
  expect((await asSession(ops.jar, 'POST', '/v1/tickets', { body, csrf: 'x'.repeat(32) })).status).toBe(403);
  const ok = await asSession(ops.jar, 'POST', '/v1/tickets', { body, csrf: ops.body.csrfToken as string });
  expect(ok.status).toBe(201);

  const storefront = await signIn(s.keys.storefront);
  const forged = await asSession(storefront.jar, 'POST', '/v1/returns/00000000-0000-4000-8000-000000000000/decision', {
    body: { decision: 'approve', note: 'forged' },
    csrf: storefront.body.csrfToken as string,
  });
  expect(forged.status).toBe(403);
  expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('forbidden');
});

test('sign-out ends the session on the server; a revoked key ends its sessions', async () => {
  const r = await signIn(s.keys.ops);
  expect((await asSession(r.jar, 'DELETE', '/v1/sessions/current')).status).toBe(403); // a write: CSRF first
  const out = await asSession(r.jar, 'DELETE', '/v1/sessions/current', { csrf: r.body.csrfToken as string });
  expect(out.status).toBe(200);
  expect(await out.json()).toEqual({ ended: true });
  expect(out.headers.get('set-cookie')).toMatch(/erp_session=;/);
  expect((await asSession(r.jar, 'GET', '/v1/sessions/current')).status).toBe(401); // the old cookie is dead

  const temp = await createApiKey(s.db, 'revoked soon', ['ops']);
  const t = await signIn(temp.key);
  expect((await asSession(t.jar, 'GET', '/v1/exceptions')).status).toBe(200);
  await s.call('DELETE', `/v1/api-keys/${temp.id}`, { key: s.keys.admin });
  expect((await asSession(t.jar, 'GET', '/v1/exceptions')).status).toBe(401);

  const audit = await s
    .db('audit_log')
    .whereIn('action', ['session.create', 'session.end'])
    .select('action', 'api_key_id');
  expect(audit.filter((a) => a.action === 'session.end').length).toBeGreaterThanOrEqual(1);
  expect(audit.every((a) => a.api_key_id)).toBe(true);
});
