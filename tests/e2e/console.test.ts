/// <reference lib="dom" />
/**
 * The operations console in a real browser (Debian's Chromium driven by playwright-core) against the real API,
 * Temporal and Postgres: an approver approves a refund from the inbox; ops claim and resolve an undeliverable
 * address and the order ships; a storefront session sees no decision controls and its forged decision is 403;
 * CSRF and sign-out; axe-core on every page; screenshots of each page in .tmp/console-screenshots.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { stockedSku, unique } from '../helpers/fixtures';
import { deliveredOrder, place, remember, waitFor } from '../helpers/orders';
import { eventually, startStack, Stack } from '../helpers/stack';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(__dirname, '..', '..', '.tmp', 'console-screenshots');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

let s: Stack;
let browser: Browser;
beforeAll(async () => {
  s = await startStack({ REFUND_AUTO_APPROVE_LIMIT: '100', RETURN_INSPECTION_SLA: '1h', REFUND_APPROVAL_SLA: '1h' });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }).catch((err: Error) => {
    throw new Error(
      `Chromium did not start from ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH): ${err.message}`,
    );
  });
  mkdirSync(SHOTS, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await s?.stop();
});

async function signedIn(key: string, width = 1280): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${s.url}/console/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return page;
}

/** axe-core on the page as it is: no serious or critical violation. */
async function accessible(page: Page, name: string) {
  await page.evaluate(AXE); // not a script tag: the console's CSP refuses inline scripts, as it should
  const result = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: { run: (o: object) => Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> };
      }
    ).axe;
    return axe.run({ resultTypes: ['violations'] });
  });
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect({ page: name, violations: bad.map((v) => `${v.id} (${v.nodes.length})`) }).toEqual({
    page: name,
    violations: [],
  });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function authorisedReturn() {
  const sku = await stockedSku(s.db, { EAST: 2 }, 400, 'RET', 'apparel');
  const order = await deliveredOrder(s, [{ sku, quantity: 2 }]);
  const r = await s.call('POST', '/v1/returns', {
    key: s.keys.storefront,
    body: { orderId: order.orderId, resolution: 'refund', lines: [{ sku, quantity: 2, reason: 'too small' }] },
  });
  remember(r.body.workflowId);
  const returnId = r.body.returnId as string;
  await eventually(
    async () => (await s.call('GET', `/v1/returns/${returnId}`, { key: s.keys.ops })).body.status === 'authorised',
    30_000,
    'authorised',
  );
  return { returnId, sku };
}

async function refundWaitingForApproval() {
  const { returnId, sku } = await authorisedReturn();
  await s.call('POST', `/v1/returns/${returnId}/receipt`, {
    key: s.keys.warehouse,
    body: { lines: [{ sku, quantity: 2 }] },
  });
  await s.call('POST', `/v1/returns/${returnId}/inspection`, {
    key: s.keys.warehouse,
    body: { lines: [{ sku, quantity: 2, condition: 'new' }] },
  });
  await eventually(
    async () =>
      (await s.call('GET', `/v1/returns/${returnId}`, { key: s.keys.ops })).body.status === 'awaiting_decision',
    30_000,
    'awaiting a decision',
  );
  return returnId;
}

test('an approver signs in, approves a refund from the inbox, and sees the return refunded', async () => {
  const returnId = await refundWaitingForApproval();
  const page = await signedIn(s.keys.approver);
  await page.getByRole('navigation').getByRole('link', { name: 'Approvals' }).click();
  await page.waitForURL((u) => u.pathname === '/console/inbox');
  const card = page.locator('li.card', { has: page.locator(`a[href="/console/returns/${returnId}"]`) });
  await card.waitFor();
  await accessible(page, 'inbox');
  await card.getByRole('button', { name: 'Decide…' }).click();
  await card.getByLabel('Note').fill('fits the policy');
  await card.getByRole('button', { name: 'Approve', exact: true }).click();
  await page.getByText('Refund approved').waitFor();
  await card.waitFor({ state: 'detached', timeout: 15_000 }); // gone from the inbox without a reload
  await page.goto(`${s.url}/console/returns/${returnId}`);
  await page.getByTestId('return-status').filter({ hasText: 'refunded' }).waitFor({ timeout: 30_000 });
  await accessible(page, 'return');
  const refunds = await s.db('payments').where({ return_id: returnId, kind: 'refund', status: 'succeeded' });
  expect(refunds).toHaveLength(1);

  // At phone width the inbox is one column and still usable.
  const phone = await signedIn(s.keys.approver, 390);
  await phone.goto(`${s.url}/console/inbox`);
  await phone.getByRole('heading', { name: 'Approvals inbox' }).waitFor();
  expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await accessible(phone, 'inbox-phone');
});

test('ops claim an undeliverable-address case, resolve it with a corrected address, and the order ships', async () => {
  const sku = await stockedSku(s.db, { EAST: 3 });
  const bad = { name: 'Ada', line1: 'Nowhere 1', city: 'Berlin', postalCode: '00000', country: 'DE' };
  const { orderId, workflowId } = await place(s, [{ sku, quantity: 1 }], { shippingAddress: bad });
  remember(workflowId);
  const held = await waitFor(s, orderId, 'on_hold', (o) => o.exceptions.length === 1);
  const caseId = held.exceptions[0].exceptionId as string;

  const page = await signedIn(s.keys.ops);
  await page.getByRole('navigation').getByRole('link', { name: 'Exceptions' }).click();
  await page.getByRole('link', { name: 'invalid_address' }).first().waitFor();
  await accessible(page, 'exceptions');
  await page.getByLabel('Queue').fill(held.exceptions[0].queue);
  await page.getByLabel('Age').selectOption({ label: 'older than 3 days' });
  await page.waitForURL((u) => u.searchParams.get('age') === '4320');
  await page.getByText('No open cases.').waitFor(); // this case is minutes old
  await page.getByLabel('Age').selectOption({ label: 'any age' });
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL((u) => u.searchParams.get('queue') === held.exceptions[0].queue && !u.searchParams.has('age'));
  await page.locator(`a[href="/console/exceptions/${caseId}"]`).waitFor();
  await page.goto(`${s.url}/console/exceptions/${caseId}`);
  await page.getByRole('button', { name: 'Claim' }).click();
  await page.getByText('Claimed', { exact: true }).waitFor();
  await page.getByLabel(/^correct_address/).check();
  await page.getByLabel('Postal code').fill('10115');
  await page.getByLabel('Street and number').fill('Hauptstr. 9');
  await page.getByLabel('Note').fill('called the customer');
  await accessible(page, 'case');
  await page.getByRole('button', { name: 'Resolve', exact: true }).click();
  await page.getByText('Resolved: correct_address').waitFor();
  const o = await waitFor(s, orderId, 'fulfilling');
  expect(o.shippingAddress).toMatchObject({ postalCode: '10115', line1: 'Hauptstr. 9' });
  expect(o.shipments).toHaveLength(1);

  await page.goto(`${s.url}/console/orders/${orderId}`);
  await page.getByText('address corrected by ops').waitFor();
  await accessible(page, 'order');
  await page.getByRole('link', { name: 'its process in the Temporal UI' }).waitFor();
});

test('a storefront session sees no decision controls; its forged decision is 403; CSRF; sign-out ends the session', async () => {
  await refundWaitingForApproval();
  const page = await signedIn(s.keys.storefront);
  await accessible(page, 'home-storefront');
  expect(await page.getByRole('link', { name: 'Approvals' }).count()).toBe(0);
  await page.goto(`${s.url}/console/inbox`);
  await page.getByRole('heading', { name: 'Approvals inbox' }).waitFor();
  await page.getByRole('alert').waitFor(); // the API refuses the list to this key
  expect(await page.getByRole('button', { name: /Approve|Decide/ }).count()).toBe(0);

  const forged = await page.evaluate(async () => {
    const me = (await (await fetch('/v1/sessions/current')).json()) as { csrfToken: string };
    const post = (csrf?: string) =>
      fetch('/v1/returns/00000000-0000-4000-8000-000000000000/decision', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(csrf ? { 'x-csrf-token': csrf } : {}) },
        body: JSON.stringify({ decision: 'approve', note: 'forged' }),
      }).then((r) => r.status);
    return { withToken: await post(me.csrfToken), without: await post() };
  });
  expect(forged).toEqual({ withToken: 403, without: 403 });

  const ops = await signedIn(s.keys.ops);
  const noCsrf = await ops.evaluate(() =>
    fetch('/v1/tickets', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customerEmail: 'a@example.com', subject: 'x', body: 'y' }),
    }).then(async (r) => ({
      status: r.status,
      message: ((await r.json()) as { error: { message: string } }).error.message,
    })),
  );
  expect(noCsrf).toEqual({ status: 403, message: expect.stringMatching(/CSRF/) });

  const cookie = (await page.context().cookies()).find((c) => c.name === 'erp_session')!;
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('API key').waitFor();
  const after = await fetch(`${s.url}/v1/sessions/current`, { headers: { cookie: `erp_session=${cookie.value}` } });
  expect(after.status).toBe(401); // ended on the server, not only forgotten by the browser
  await accessible(page, 'sign-in');
});

test('the warehouse finds an authorised return, receives the parcel and inspects it; it then waits for an approver', async () => {
  const { returnId, sku } = await authorisedReturn();
  const page = await signedIn(s.keys.warehouse);
  await page.getByRole('navigation').getByRole('link', { name: 'Returns' }).click();
  await page.locator(`a[href="/console/returns/${returnId}"]`).click();
  await page.getByLabel(`Units of ${sku} in the parcel`).fill('2');
  await accessible(page, 'return-receive');
  await page.getByRole('button', { name: 'Record receipt' }).click();
  await page.getByText('Receipt recorded').waitFor();
  await page.getByLabel(`Condition of 2 × ${sku}`).selectOption('opened');
  await page.getByRole('button', { name: 'Record inspection' }).click();
  await page.getByText('Inspection recorded').waitFor();
  await page.getByTestId('return-status').filter({ hasText: 'awaiting_decision' }).waitFor({ timeout: 30_000 });
  await accessible(page, 'return-inspected');
  const lines = await s
    .db('return_lines')
    .where({ return_id: returnId })
    .select('quantity_received', 'quantity_inspected');
  expect(lines).toEqual([{ quantity_received: 2, quantity_inspected: 2 }]);
  const inspected = await s
    .db('return_inspections as i')
    .join('return_lines as l', 'l.id', 'i.return_line_id')
    .where('l.return_id', returnId)
    .select('i.condition');
  expect(inspected.map((i) => i.condition)).toEqual(['opened']);
  // Decided here so no approval is left waiting for a person after the run.
  await s.call('POST', `/v1/returns/${returnId}/decision`, {
    key: s.keys.approver,
    body: { decision: 'reject', note: 'test over' },
  });
});

test('ops find orders by customer e-mail and open one; an admin creates and revokes a key and reads it in the audit log', async () => {
  const sku = await stockedSku(s.db, { EAST: 5 });
  const email = `console-${Date.now()}@example.com`;
  const placed: { orderId: string; workflowId: string }[] = [];
  for (let i = 0; i < 3; i++)
    placed.push(await place(s, [{ sku, quantity: 1 }], { customer: { email, name: 'Finder' } }));
  placed.forEach((p) => remember(p.workflowId));
  const page = await signedIn(s.keys.ops);
  await page.getByRole('navigation').getByRole('link', { name: 'Orders' }).click();
  await page.getByLabel('Customer e-mail').fill(email);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL((u) => u.searchParams.get('email') === email);
  await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 3); // only this customer's
  expect(await page.locator('tbody tr').count()).toBe(3);
  const csv = await page.getByRole('link', { name: 'Export these orders as CSV' }).getAttribute('href');
  expect(csv).toContain('format=csv');
  await accessible(page, 'orders');
  await page.locator('tbody tr').first().getByRole('link').click();
  await page.waitForURL((u) => u.pathname === `/console/orders/${placed[2].orderId}`);

  const admin = await signedIn(s.keys.admin);
  await admin.getByRole('navigation').getByRole('link', { name: 'Admin' }).click();
  await admin.getByLabel('Name').fill('night shift');
  await admin.getByRole('checkbox', { name: 'warehouse', exact: true }).check();
  await admin.getByRole('button', { name: 'Create key' }).click();
  await admin.getByText(/Key for night shift: erp_/).waitFor();
  await admin.getByRole('button', { name: 'Revoke night shift' }).click();
  await admin.getByRole('button', { name: 'Revoke night shift' }).waitFor({ state: 'detached' });
  await admin.getByLabel('Action').fill('api_key.revoke');
  await admin.getByRole('button', { name: 'Filter' }).click();
  await admin.getByRole('cell', { name: 'api_key.revoke' }).first().waitFor();
  await accessible(admin, 'admin');
  const key = await s.db('api_keys').where({ name: 'night shift' }).first();
  expect(key.revoked_at).not.toBeNull();
});

test('ops take a ticket, add a note and reply to the customer; the reply is one message in the outbox', async () => {
  const email = `ticket-${Date.now()}@example.com`;
  const sku = await stockedSku(s.db, { EAST: 2 });
  remember((await place(s, [{ sku, quantity: 1 }], { customer: { email, name: 'Crushed Box' } })).workflowId);
  const made = await s.call('POST', '/v1/tickets', {
    key: s.keys.storefront,
    body: { customerEmail: email, subject: 'Parcel damaged', body: 'The box arrived crushed.' },
  });
  const id = made.body.ticketId as string;
  const page = await signedIn(s.keys.ops);
  await page.getByRole('navigation').getByRole('link', { name: 'Tickets' }).click();
  await page.getByRole('link', { name: 'Parcel damaged' }).first().waitFor();
  await accessible(page, 'tickets');
  await page.goto(`${s.url}/console/tickets/${id}`);
  await page.getByRole('button', { name: 'Assign to me' }).click();
  await page.getByText(/^Assigned to test ops/).waitFor();
  await page.getByLabel('Message').fill('Photos are in the carrier claim');
  await page.getByRole('button', { name: 'Add internal note' }).click();
  await page.getByText('Note added').waitFor();
  await page.getByLabel('Message').fill('We are sending a new one today.');
  await page.getByRole('button', { name: 'Reply to the customer' }).click();
  await page.getByText('Reply sent to the customer').waitFor();
  await page.getByText('pending', { exact: true }).waitFor();
  await accessible(page, 'ticket');
  await page.goto(`${s.url}/console/customers?email=${encodeURIComponent(email)}`);
  await page.getByRole('link', { name: 'Parcel damaged' }).waitFor(); // the customer's view lists the ticket
  await accessible(page, 'customer');
  const mails = await s.db('notifications').where({ subject_type: 'ticket', subject_id: id });
  expect(mails.map((m) => [m.recipient, m.template])).toEqual([[email, 'ticket_reply']]);
  const t = await s.db('tickets').where({ id }).first();
  expect(t).toMatchObject({ status: 'pending', assignee: expect.stringMatching(/^test ops/) });
});

test('stock of a SKU: per warehouse, per channel, and the moves behind it', async () => {
  const sku = await stockedSku(s.db, { EAST: 7, WEST: 2 });
  const page = await signedIn(s.keys.warehouse);
  await page.getByRole('navigation').getByRole('link', { name: 'Stock' }).click();
  await page.getByLabel('SKU').fill(sku);
  await page.getByRole('button', { name: 'Show' }).click();
  const all = page.getByRole('row', { name: /^All 9 0 9 0$/ });
  await all.waitFor();
  await page.getByText(/^web: \d+$/).waitFor();
  expect(await page.locator('h2:text("Moves, newest first") + table tbody tr').count()).toBe(2);
  await accessible(page, 'stock');
});

test("the console's API types are generated from this API's OpenAPI document, and current", async () => {
  // A child process: openapi-typescript is ESM only, and jest runs CommonJS.
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', join(__dirname, '..', '..', 'scripts', 'console-types.ts'), '--check'],
    {
      encoding: 'utf8',
      env: { ...process.env, LOG_LEVEL: 'silent' },
    },
  );
  expect(out).toContain('console/src/schema.d.ts is current'); // else: npm run console:types
});

test('first load: the JavaScript the console needs before anyone opens a chart, gzipped', async () => {
  const html = await (await fetch(`${s.url}/console/`)).text();
  const scripts = [...html.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+\.js)"/g)].map((m) => m[1]);
  expect(scripts.length).toBeGreaterThan(0);
  let gzipped = 0;
  for (const src of scripts)
    gzipped += gzipSync(Buffer.from(await (await fetch(`${s.url}${src}`)).arrayBuffer())).length;
  console.log(
    `console first load: ${scripts.length} script(s), ${(gzipped / 1024).toFixed(1)} kB of JavaScript gzipped`,
  );
  expect(gzipped).toBeLessThanOrEqual(250 * 1024);
});

test('the inbox with 1,000 pending approvals: time to render, printed', async () => {
  await s.db.raw(
    `INSERT INTO approvals (id, kind, subject_type, subject_id, workflow_id, amount, currency, reason, status, sla_due_at, idempotency_key)
     SELECT gen_random_uuid(), 'refund', 'return', gen_random_uuid()::text, 'load-test', 1000 + g, 'EUR', 'load test', 'pending',
            now() + interval '1 hour', 'load-test-' || g
       FROM generate_series(1, 1000) g`,
  );
  const page = await signedIn(s.keys.approver);
  const started = Date.now();
  await page.goto(`${s.url}/console/inbox`);
  try {
    await page.locator('li.card').nth(999).waitFor({ timeout: 30_000 });
    const ms = Date.now() - started;
    console.log(
      `console inbox: ${await page.locator('li.card').count()} pending approvals rendered ${ms} ms after navigation`,
    );
    expect(await page.locator('li.card').count()).toBeGreaterThanOrEqual(1000);
  } finally {
    await s.db('approvals').where({ reason: 'load test' }).delete(); // no process behind them: never leave them
  }
});

test('purchasing: an approver decides a purchase order by keyboard with its lines in view; the warehouse receives it; finance reads the match and the books', async () => {
  const supplier = unique('CSUP');
  await s.call('POST', '/v1/suppliers', {
    key: s.keys.procurement,
    body: {
      suppliers: [
        { code: supplier, name: 'Console Supplies', currency: 'EUR', leadTimeDays: 30, paymentTermsDays: 30 },
      ],
    },
  });
  const sku = await stockedSku(s.db, {}, 2500, 'BUY');
  const made = await s.call('POST', '/v1/purchase-orders', {
    key: s.keys.procurement,
    body: { supplier, warehouse: 'EAST', lines: [{ sku, quantity: 50, unitPrice: 2500 }] }, // 1,250 EUR: over the limit
  });
  expect(made.status).toBe(201);
  remember(made.body.workflowId);
  const poId = made.body.poId as string;
  const po = () => s.call('GET', `/v1/purchase-orders/${poId}`, { key: s.keys.procurement }).then((r) => r.body);
  await eventually(async () => (await po()).status === 'awaiting_approval', 30_000, 'awaiting approval');

  const approver = await signedIn(s.keys.approver);
  await approver.goto(`${s.url}/console/inbox`);
  const mine = approver.locator('li.card', { has: approver.locator(`a[href="/console/purchase-orders/${poId}"]`) });
  await mine.waitFor();
  await approver.locator('h1').click(); // the keys work from the page, not from a field
  for (let i = 0; i < 200 && !(await mine.locator('article[aria-current="true"]').count()); i++)
    await approver.keyboard.press('j');
  await approver.keyboard.press('d');
  await mine.getByText(`50 × ${sku} at €25.00`).waitFor(); // the lines and supplier, without leaving the inbox
  await mine.getByText(/from Console Supplies/).waitFor();
  await accessible(approver, 'inbox-decide');
  await approver.keyboard.type('within budget');
  await approver.keyboard.press('Enter');
  await approver.getByText('Purchase order approved').waitFor();
  await eventually(async () => (await po()).status === 'sent', 30_000, 'sent to the supplier');

  const warehouse = await signedIn(s.keys.warehouse);
  await warehouse.getByRole('navigation').getByRole('link', { name: 'Purchasing' }).click();
  await warehouse.getByRole('link', { name: made.body.number }).click();
  await warehouse.getByLabel(new RegExp(`^Units of ${sku} delivered`)).fill('50');
  await accessible(warehouse, 'purchase-order-receive');
  await warehouse.getByRole('button', { name: 'Record receipt' }).click();
  await warehouse.getByText('Receipt recorded: 50 units').waitFor();
  const line = await s.db('purchase_order_lines').where({ po_id: poId }).first('received_qty');
  expect(line.received_qty).toBe(50);

  const billed = await s.call('POST', `/v1/purchase-orders/${poId}/bills`, {
    key: s.keys.finance,
    body: {
      supplierInvoiceRef: `INV-${supplier}`,
      lines: [{ sku, quantity: 50, unitPrice: 2500 }],
      tax: 0,
      total: 125000,
    },
  });
  expect(billed.status).toBe(201);
  const finance = await signedIn(s.keys.finance);
  await finance.goto(`${s.url}/console/purchase-orders/${poId}`);
  const match = finance.getByRole('table', { name: `Three-way match of INV-${supplier}, line by line` });
  await match.waitFor();
  expect(await match.locator('tbody tr').first().innerText()).toMatch(
    new RegExp(`^${sku}\\s+50\\s+50\\s+50\\s+✓ matches\\s+€25.00\\s+€25.00\\s+✓ matches`),
  );
  await accessible(finance, 'purchase-order');

  await finance.getByRole('navigation').getByRole('link', { name: 'Ledger' }).click();
  await finance.getByText(/^Totals \(balanced\)/).waitFor();
  await accessible(finance, 'ledger');
  const csv = await finance.getByRole('link', { name: 'Download these journal lines as CSV' }).getAttribute('href');
  const header = await finance.evaluate((href) => fetch(href!).then((r) => r.text()), csv);
  expect(header.split('\n')[0]).toBe(
    'entry_id,posted_at,description,source,source_id,account,account_name,debit,credit,currency',
  );
});

test('the operations report draws its charts (loaded on demand) with the numbers beside them', async () => {
  const page = await signedIn(s.keys.ops);
  const scripts: string[] = [];
  page.on('request', (r) => r.resourceType() === 'script' && scripts.push(new URL(r.url()).pathname));
  await page.getByRole('navigation').getByRole('link', { name: 'Reports' }).click();
  await page.getByRole('img', { name: /^Orders by stage: / }).waitFor();
  expect(scripts.some((p) => /\/reports-[\w-]+\.js$/.test(p))).toBe(true); // fetched when the page was opened
  for (const title of [
    'Orders by stage',
    'Fulfilment hours by day',
    'Open work and SLA breaches',
    'Return rate by SKU',
  ]) {
    const canvas = page.getByRole('img', { name: new RegExp(`^${title}: `) });
    expect(await canvas.evaluate((c: HTMLCanvasElement) => c.width > 0 && c.height > 0)).toBe(true);
  }
  const report = (await s.call('GET', '/v1/reports/operations', { key: s.keys.ops })).body;
  const stages = Object.keys(report.ordersByStage);
  await page.getByText('Orders by stage: the numbers').click();
  expect(await page.locator('figure', { hasText: 'Orders by stage' }).locator('tbody th').allInnerTexts()).toEqual(
    expect.arrayContaining(stages.slice(0, 1)),
  );
  await accessible(page, 'reports');
});
