/**
 * Lists the console and everyone else read: orders (filters, cursor paging, streamed CSV), API keys, the audit log,
 * tickets, the journal and trial balance (JSON and CSV), purchase orders.
 */
import { randomUUID } from 'node:crypto';
import { stockedSku, unique } from '../helpers/fixtures';
import { deliveredOrder, place, remember } from '../helpers/orders';
import { startStack, Stack } from '../helpers/stack';

let s: Stack;
beforeAll(async () => (s = await startStack({ BACKORDER_WAIT_TIMEOUT: '10m' })));
afterAll(async () => s?.stop());

test('orders: filter by customer, reference and status; newest first; cursor pages neither repeat nor skip', async () => {
  const sku = await stockedSku(s.db, { EAST: 10 });
  const email = `list-${randomUUID().slice(0, 8)}@example.com`;
  const placed = [];
  for (let i = 0; i < 5; i++)
    placed.push(await place(s, [{ sku, quantity: 1 }], { customer: { email, name: 'Lister' } }));
  const all = await s.call('GET', `/v1/orders?email=${email}`, { key: s.keys.ops });
  expect(all.status).toBe(200);
  expect(all.body.orders.map((o: { orderId: string }) => o.orderId)).toEqual(placed.map((p) => p.orderId).reverse());
  expect(all.body.next).toBeNull();

  const seen: string[] = [];
  let cursor = '';
  for (let pages = 0; pages < 5; pages++) {
    const r = await s.call('GET', `/v1/orders?email=${email}&limit=2${cursor ? `&cursor=${cursor}` : ''}`, {
      key: s.keys.ops,
    });
    seen.push(...r.body.orders.map((o: { orderId: string }) => o.orderId));
    if (!r.body.next) break;
    cursor = r.body.next;
  }
  expect(seen).toEqual(placed.map((p) => p.orderId).reverse());

  const one = await s.call(
    'GET',
    `/v1/orders?email=${email}&ref=${placed[0].workflowId.split('-').slice(2).join('-')}`,
    { key: s.keys.ops },
  );
  expect(one.body.orders.map((o: { orderId: string }) => o.orderId)).toEqual([placed[0].orderId]);
  const none = await s.call('GET', `/v1/orders?email=${email}&status=cancelled`, { key: s.keys.ops });
  expect(none.body.orders).toEqual([]);
  const pct = await s.call('GET', `/v1/orders?email=${email}&ref=%25`, { key: s.keys.ops }); // a literal %, not a wildcard
  expect(pct.body.orders).toEqual([]);

  const bad = await s.call('GET', '/v1/orders?cursor=bm90LWEtY3Vyc29y', { key: s.keys.ops });
  expect([bad.status, bad.body.error.details[0].path]).toEqual([400, 'cursor']);
  expect((await s.call('GET', '/v1/orders?limit=5000', { key: s.keys.ops })).status).toBe(400);
  expect((await s.call('GET', '/v1/orders', { key: s.keys.procurement })).status).toBe(403);
});

test('orders as CSV: every match streamed with a header, by ?format=csv or Accept: text/csv', async () => {
  const sku = await stockedSku(s.db, { EAST: 10 });
  const email = `csv-${randomUUID().slice(0, 8)}@example.com`;
  for (let i = 0; i < 3; i++) await place(s, [{ sku, quantity: 1 }], { customer: { email, name: 'Comma, "Quoted"' } });
  const r = await s.call('GET', `/v1/orders?email=${email}&format=csv`, { key: s.keys.finance });
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
  expect(r.headers.get('content-disposition')).toBe('attachment; filename="orders.csv"');
  const lines = (r.body as string).trim().split('\n');
  expect(lines[0]).toBe('order_id,reference,channel,status,customer_email,customer_name,currency,total,placed_at');
  expect(lines).toHaveLength(4);
  expect(lines[1]).toContain(`${email},"Comma, ""Quoted""",EUR,`);
  const byAccept = await s.call('GET', `/v1/orders?email=${email}`, {
    key: s.keys.finance,
    headers: { accept: 'text/csv' },
  });
  expect((byAccept.body as string).trim().split('\n')).toHaveLength(4);
});

test('API keys and the audit log, for admins: no key material, filters, pages', async () => {
  const keys = await s.call('GET', '/v1/api-keys', { key: s.keys.admin });
  expect(keys.status).toBe(200);
  const mine = keys.body.keys.find((k: { name: string }) => k.name.startsWith('test ops'));
  expect(Object.keys(mine).sort()).toEqual(['createdAt', 'id', 'name', 'prefix', 'revokedAt', 'roles']);
  expect(JSON.stringify(keys.body)).not.toContain(s.keys.ops);
  expect((await s.call('GET', '/v1/api-keys', { key: s.keys.ops })).status).toBe(403);

  const made = await s.call('POST', '/v1/api-keys', {
    key: s.keys.admin,
    body: { name: 'audit me', roles: ['finance'] },
  });
  await s.call('DELETE', `/v1/api-keys/${made.body.id}`, { key: s.keys.admin });
  const revoked = await s.call('GET', `/v1/audit?action=api_key.revoke&target=${made.body.id}`, { key: s.keys.admin });
  expect(revoked.body.entries).toEqual([
    expect.objectContaining({ action: 'api_key.revoke', target: made.body.id, status: 200, method: 'DELETE' }),
  ]);
  const page1 = await s.call('GET', '/v1/audit?limit=2', { key: s.keys.admin });
  const page2 = await s.call('GET', `/v1/audit?limit=2&cursor=${page1.body.next}`, { key: s.keys.admin });
  expect(page1.body.entries).toHaveLength(2);
  const ids = [...page1.body.entries, ...page2.body.entries].map((e: { id: string }) => e.id);
  expect(new Set(ids).size).toBe(ids.length);
  expect((await s.call('GET', '/v1/audit', { key: s.keys.ops })).status).toBe(403);
});

test('tickets worked to the end: listed, assigned, a note, a reply sent once through the outbox, solved, closed', async () => {
  const email = `ticket-${randomUUID().slice(0, 8)}@example.com`;
  const made = await s.call('POST', '/v1/tickets', {
    key: s.keys.storefront,
    body: { customerEmail: email, subject: 'Wrong size', body: 'I got an M instead of an L' },
  });
  const id = made.body.ticketId as string;
  const listed = await s.call('GET', `/v1/tickets?email=${email}&status=open`, { key: s.keys.ops });
  expect(listed.body.tickets.map((t: { ticketId: string }) => t.ticketId)).toEqual([id]);

  expect(
    (await s.call('PUT', `/v1/tickets/${id}/assignee`, { key: s.keys.ops, body: { assignee: 'Sam' } })).status,
  ).toBe(200);
  const note = { kind: 'note', body: 'Check the packing station' };
  expect((await s.call('POST', `/v1/tickets/${id}/messages`, { key: s.keys.ops, body: note })).status).toBe(201);
  const reply = { kind: 'reply', body: 'Sorry! An L is on its way.' };
  const headers = { 'idempotency-key': `reply-${id}` };
  expect((await s.call('POST', `/v1/tickets/${id}/messages`, { key: s.keys.ops, body: reply, headers })).status).toBe(
    201,
  );
  expect((await s.call('POST', `/v1/tickets/${id}/messages`, { key: s.keys.ops, body: reply, headers })).status).toBe(
    200,
  );

  const t = (await s.call('GET', `/v1/tickets/${id}`, { key: s.keys.ops })).body;
  expect(t).toMatchObject({ assignee: 'Sam', status: 'pending' }); // a reply waits on the customer
  expect(t.messages.map((m: { kind: string; body: string }) => [m.kind, m.body])).toEqual([
    ['note', note.body],
    ['reply', reply.body],
  ]);
  const mails = await s.db('notifications').where({ subject_type: 'ticket', subject_id: id });
  expect(mails).toHaveLength(1);
  expect(mails[0]).toMatchObject({ recipient: email, template: 'ticket_reply' });

  for (const status of ['solved', 'closed'])
    expect((await s.call('PUT', `/v1/tickets/${id}/status`, { key: s.keys.ops, body: { status } })).status).toBe(200);
  expect((await s.call('POST', `/v1/tickets/${id}/messages`, { key: s.keys.ops, body: note })).status).toBe(409);
  expect((await s.call('PUT', `/v1/tickets/${id}/status`, { key: s.keys.ops, body: { status: 'open' } })).status).toBe(
    409,
  );
  expect((await s.call('PUT', `/v1/tickets/${id}/status`, { key: s.keys.ops, body: { status: 'lost' } })).status).toBe(
    400,
  );
  expect((await s.call('GET', `/v1/tickets/${randomUUID()}`, { key: s.keys.ops })).status).toBe(404);
  expect((await s.call('GET', '/v1/tickets', { key: s.keys.storefront })).status).toBe(403);
});

test('the journal: entries with their lines by source, period and account, newest first in pages; every line as CSV', async () => {
  const from = new Date(Date.now() - 1000).toISOString();
  const sku = await stockedSku(s.db, { EAST: 3 });
  const order = await deliveredOrder(s, [{ sku, quantity: 1 }]);
  const invoiceId = order.invoices[0].invoiceId as string;
  const mine = await s.db('journal_entries').where({ source_id: invoiceId }).orderBy('id', 'desc').select('id');
  expect(mine.length).toBeGreaterThan(0);

  const bySource = await s.call('GET', `/v1/ledger/journal?sourceId=${invoiceId}`, { key: s.keys.finance });
  expect(bySource.status).toBe(200);
  expect(bySource.body.entries.map((e: { entryId: string }) => e.entryId)).toEqual(mine.map((e) => String(e.id)));
  for (const e of bySource.body.entries as { lines: { debit: number; credit: number; accountName: string }[] }[]) {
    expect(e.lines.reduce((t, l) => t + l.debit - l.credit, 0)).toBe(0); // each entry balances as shown
    expect(e.lines.every((l) => l.accountName.length > 0)).toBe(true);
  }

  // A closed window pages to the same entries the database holds for it: no repeats, none skipped.
  const to = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 500));
  const seen: string[] = [];
  let cursor = '';
  for (let pages = 0; pages < 500; pages++) {
    const q = new URLSearchParams({ from, to, limit: '3', ...(cursor ? { cursor } : {}) });
    const r = await s.call('GET', `/v1/ledger/journal?${q}`, { key: s.keys.finance });
    seen.push(...r.body.entries.map((e: { entryId: string }) => e.entryId));
    if (!r.body.next) break;
    cursor = r.body.next;
  }
  const inWindow = await s
    .db('journal_entries')
    .where('posted_at', '>=', from)
    .where('posted_at', '<', to)
    .orderBy([
      { column: 'posted_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .select('id');
  expect(seen).toEqual(inWindow.map((e) => String(e.id)));

  const revenue = await s.call('GET', `/v1/ledger/journal?sourceId=${invoiceId}&account=4000`, { key: s.keys.finance });
  expect(revenue.body.entries.length).toBeGreaterThan(0);
  expect(
    revenue.body.entries.every((e: { lines: { account: string }[] }) => e.lines.some((l) => l.account === '4000')),
  ).toBe(true);

  const csv = await s.call('GET', `/v1/ledger/journal?sourceId=${invoiceId}&format=csv`, { key: s.keys.finance });
  expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
  const rows = (csv.body as string).trim().split('\n');
  expect(rows[0]).toBe('entry_id,posted_at,description,source,source_id,account,account_name,debit,credit,currency');
  const lineCount = await s
    .db('journal_lines')
    .whereIn(
      'entry_id',
      mine.map((e) => e.id),
    )
    .count({ n: '*' })
    .first();
  expect(rows).toHaveLength(Number(lineCount!.n) + 1);
  const debits = rows.slice(1).reduce((t, r) => t + Number(r.split(',').at(-3)), 0);
  const credits = rows.slice(1).reduce((t, r) => t + Number(r.split(',').at(-2)), 0);
  expect(debits).toBeCloseTo(credits, 2); // in major units: 12.34, as a spreadsheet reads it

  expect((await s.call('GET', '/v1/ledger/journal?account=13', { key: s.keys.finance })).status).toBe(400);
  expect((await s.call('GET', '/v1/ledger/journal?cursor=bm9wZQ', { key: s.keys.finance })).status).toBe(400);
  expect((await s.call('GET', '/v1/ledger/journal', { key: s.keys.ops })).status).toBe(403);
});

test('the trial balance: balanced now, empty before the first posting, and as CSV', async () => {
  const now = await s.call('GET', '/v1/ledger/trial-balance', { key: s.keys.finance });
  expect(now.body.totalDebit).toBe(now.body.totalCredit);
  const before = await s.call('GET', '/v1/ledger/trial-balance?asOf=2000-01-01T00:00:00Z', { key: s.keys.finance });
  expect(before.body.accounts.length).toBe(now.body.accounts.length);
  expect(before.body.accounts.every((a: { debit: number; credit: number }) => a.debit === 0 && a.credit === 0)).toBe(
    true,
  );
  const csv = await s.call('GET', '/v1/ledger/trial-balance?asOf=2000-01-01T00:00:00Z', {
    key: s.keys.finance,
    headers: { accept: 'text/csv' },
  });
  expect(csv.headers.get('content-disposition')).toBe('attachment; filename="trial-balance-2000-01-01.csv"');
  const rows = (csv.body as string).trim().split('\n');
  expect(rows[0]).toBe('account,account_name,type,debit,credit,balance');
  expect(rows).toHaveLength(now.body.accounts.length + 1);
  expect((await s.call('GET', '/v1/ledger/trial-balance?asOf=yesterday', { key: s.keys.finance })).status).toBe(400);
});

test('purchase orders: by supplier, newest first, in pages', async () => {
  const supplier = unique('LSUP');
  await s.call('POST', '/v1/suppliers', {
    key: s.keys.procurement,
    body: { suppliers: [{ code: supplier, name: 'Pager', currency: 'EUR', leadTimeDays: 30, paymentTermsDays: 30 }] },
  });
  const sku = await stockedSku(s.db, {});
  const made: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await s.call('POST', '/v1/purchase-orders', {
      key: s.keys.procurement,
      body: { supplier, warehouse: 'EAST', lines: [{ sku, quantity: 1 + i, unitPrice: 100 }] },
    });
    expect(r.status).toBe(201);
    remember(r.body.workflowId);
    made.push(r.body.poId);
  }
  const first = await s.call('GET', `/v1/purchase-orders?supplier=${supplier}&limit=2`, { key: s.keys.ops });
  const second = await s.call('GET', `/v1/purchase-orders?supplier=${supplier}&limit=2&cursor=${first.body.next}`, {
    key: s.keys.ops,
  });
  expect(second.body.next).toBeNull();
  expect([...first.body.purchaseOrders, ...second.body.purchaseOrders].map((p: { poId: string }) => p.poId)).toEqual(
    made.reverse(),
  );
});
