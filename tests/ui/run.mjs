// Browser tests of the admin UI against a running pricebook-sync server.
//
//   BASE_URL=http://127.0.0.1:8080 ADMIN_EMAIL=… ADMIN_PASSWORD=… \
//   [VIEWER_EMAIL=… VIEWER_PASSWORD=…] [SCREENSHOT_DIR=./screenshots] [CHROMIUM_PATH=/usr/bin/chromium] \
//   [ONLY=name,name] [CONNECTION_NAME=demo] node tests/ui/run.mjs
//
// Each scenario prints `ok <name>`, `skip <name>: why` or `FAIL <name>: reason`; the process
// exits non-zero when any scenario fails. A console error or uncaught page error in the
// browser fails the scenario it happened in, and so does any serious or critical axe-core
// violation: axe runs on every page a scenario leaves open, and at the states a scenario
// checks explicitly (`a11y`). Without VIEWER_EMAIL a viewer is created through the API with
// the admin account.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
const ADMIN_EMAIL = process.env.ADMIN_EMAIL || 'demo@example.com';
const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD || 'demo-password';
let VIEWER_EMAIL = process.env.VIEWER_EMAIL || '';
let VIEWER_PASSWORD = process.env.VIEWER_PASSWORD || '';
const SCREENSHOT_DIR = path.resolve(process.env.SCREENSHOT_DIR || path.join(os.tmpdir(), 'pricebook-ui-screenshots'));
const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ONLY = (process.env.ONLY || '').split(',').map((s) => s.trim()).filter(Boolean);
const CONNECTION_NAME = process.env.CONNECTION_NAME || '';
const SYNC_TIMEOUT = Number(process.env.SYNC_TIMEOUT_MS || 180000);
const LAUNCH_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage',
];
const STAMP = Date.now().toString(36);
const WIDTHS = [[1280, 900], [375, 812]];
const AXE_PATH = new URL('./node_modules/axe-core/axe.min.js', import.meta.url);
if (!fs.existsSync(AXE_PATH)) {
  console.log('FAIL setup: axe-core is missing; run `npm ci` in tests/ui');
  process.exit(1);
}
const AXE_SOURCE = fs.readFileSync(AXE_PATH, 'utf8');
let a11yChecks = 0;

// ---------------------------------------------------------------- API helpers

async function gql(query, variables = {}, token = null) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${BASE_URL}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = await res.json();
  if (body.errors?.length) {
    const e = new Error(`GraphQL: ${body.errors[0].message} (${body.errors[0].extensions?.code || 'no code'})`);
    e.code = body.errors[0].extensions?.code;
    throw e;
  }
  return body.data;
}

async function login(email, password) {
  const d = await gql('mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token user { id role } } }', { e: email, p: password });
  return d.login.token;
}

let adminToken = null;
const api = (query, variables) => gql(query, variables, adminToken);

async function rootFields() {
  const d = await api('{ __schema { queryType { fields { name } } mutationType { fields { name } } subscriptionType { fields { name } } } }');
  const s = d.__schema;
  const names = (t) => new Set((t?.fields || []).map((f) => f.name));
  return { query: names(s.queryType), mutation: names(s.mutationType), subscription: names(s.subscriptionType) };
}

/** Decimal strings compare by value: "12.50" == "12.5000". */
function sameDecimal(a, b) {
  const norm = (s) => {
    if (s === null || s === undefined) return 'null';
    let [i, f = ''] = String(s).split('.');
    i = i.replace(/^(-?)0+(?=\d)/, '$1');
    f = f.replace(/0+$/, '');
    return f ? `${i}.${f}` : i;
  };
  return norm(a) === norm(b);
}

async function firstConnection() {
  const d = await api('{ connections(first: 100) { edges { node { id name provider config } } } }');
  const list = d.connections.edges.map((e) => e.node);
  const c = CONNECTION_NAME ? list.find((x) => x.name === CONNECTION_NAME) : (list.find((x) => x.config?.sandbox) || list[0]);
  if (!c) throw new Error('the server has no connection to work with');
  return c;
}

async function linkedItem(connectionId, skip = 0) {
  const d = await api(`query($c: ID!, $f: Int) { items(connectionId: $c, first: $f, syncStatus: SYNCED) { edges { node {
    id code name cost price links { connectionId entityType remoteId syncStatus } } } } }`, { c: connectionId, f: skip + 1 });
  const node = d.items.edges[skip]?.node;
  if (!node) throw new Error('no synced item to work with');
  return node;
}

async function waitForRun(runId, timeout = SYNC_TIMEOUT) {
  const end = Date.now() + timeout;
  for (;;) {
    const d = await api('query($id: ID!) { syncRun(id: $id) { id status progress error } }', { id: runId });
    if (!['QUEUED', 'RUNNING'].includes(d.syncRun.status)) return d.syncRun;
    if (Date.now() > end) throw new Error(`run ${runId} still ${d.syncRun.status} after ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function startSyncApi(connectionId, mode) {
  try {
    const d = await api('mutation($c: ID!, $m: SyncMode!) { startSync(connectionId: $c, mode: $m) { run { id status } alreadyRunning } }', { c: connectionId, m: mode });
    return d.startSync.run;
  } catch (e) {
    if (e.code !== 'SYNC_IN_PROGRESS') throw e;
    const d = await api('query($c: ID!) { syncRuns(connectionId: $c, first: 5) { edges { node { id status } } } }', { c: connectionId });
    const active = d.syncRuns.edges.map((x) => x.node).find((r) => ['QUEUED', 'RUNNING'].includes(r.status));
    if (active) await waitForRun(active.id);
    return startSyncApi(connectionId, mode);
  }
}

async function sandboxControl(provider, method, rel, body) {
  const res = await fetch(`${BASE_URL}/sandbox/${provider}/_control/${rel}`, {
    method, headers: { 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`sandbox control ${method} ${rel}: HTTP ${res.status}`);
  return res.headers.get('content-type')?.includes('json') ? res.json() : null;
}

// ---------------------------------------------------------------- browser helpers

let browser;
let sessions = []; // pages opened by the scenario that is running
let failedPage = null; // kept open by atBothWidths for the failure screenshot

class Session {
  constructor(context, page, errors) {
    this.context = context;
    this.page = page;
    this.errors = errors;
  }
}

async function openPage({ width = 1280, height = 900 } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(`console: ${msg.text()}`); });
  page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
  page.setDefaultTimeout(15000);
  const session = new Session(context, page, errors);
  sessions.push(session);
  return session;
}

async function signIn(page, email, password) {
  await page.goto(`${BASE_URL}/#/`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
}

async function go(page, hashPath) {
  await page.goto(`${BASE_URL}/#${hashPath}`);
}

async function expectToast(page, re, timeout = 15000) {
  await page.getByTestId('toast').filter({ hasText: re }).first().waitFor({ timeout });
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

async function textsOf(locator) {
  return (await locator.allInnerTexts()).map((t) => t.trim());
}

async function settle(page) {
  await page.waitForLoadState('networkidle').catch(() => {});
  await page.locator('.state-loading').first().waitFor({ state: 'detached', timeout: 15000 }).catch(() => {});
  await page.locator('.is-loading').first().waitFor({ state: 'detached', timeout: 15000 }).catch(() => {});
}

/** Fails on any serious or critical axe-core violation in the page's current state. */
async function a11y(page, label) {
  if (page.isClosed() || !page.url().startsWith(BASE_URL)) return;
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ content: AXE_SOURCE });
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}) at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
  a11yChecks += 1;
  if (found.length) throw new Error(`axe, ${label}: ${found.join(' | ')}`);
}

/** Runs `fn(page, width)` on a fresh signed-in page at 1280 and at 375 px. */
async function atBothWidths(fn, { signedIn = true } = {}) {
  for (const [width, height] of WIDTHS) {
    const s = await openPage({ width, height });
    try {
      if (signedIn) await signIn(s.page, ADMIN_EMAIL, ADMIN_PASSWORD);
      await fn(s.page, width);
      await settle(s.page);
      await a11y(s.page, `end at ${width} px`);
      await closeSession(s);
    } catch (e) {
      e.message = `at ${width} px: ${e.message}`;
      failedPage = s.page;
      throw e;
    }
  }
}

/** Fails when the page scrolls sideways (content wider than the window). */
async function assertNoOverflow(page, where) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(overflow <= 1, `${where} is ${overflow} px wider than the window`);
}

/** Fails unless the element is fully inside the window, horizontally. */
async function assertInView(locator, what) {
  const box = await locator.boundingBox();
  const width = await locator.page().evaluate(() => window.innerWidth);
  assert(box && box.x >= 0 && box.x + box.width <= width + 1, `${what} is outside the window (${JSON.stringify(box)}, window ${width})`);
}

// ---------------------------------------------------------------- scenarios

const scenarios = [];
const scenario = (name, needs, fn) => scenarios.push({ name, needs, fn });

scenario('sign in', [], async () => {
  const s = await openPage();
  const { page } = s;
  await page.goto(`${BASE_URL}/`);
  await page.getByLabel('Email').fill(ADMIN_EMAIL);
  await page.getByLabel('Password').fill(`${ADMIN_PASSWORD}-wrong`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('signin-error').waitFor();
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  await page.getByTestId('connection-card').first().waitFor();
  await page.getByTestId('stat-total').first().waitFor();
  const role = await page.getByTestId('role').innerText();
  assert(/admin/i.test(role), `role badge shows ${role}`);
  // Signing out ends the session and shows the form again.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
});

scenario('dashboard numbers per entity type', ['query:syncStatus'], async () => {
  const conn = await firstConnection();
  const q = 'query($id: ID!) { syncStatus(connectionId: $id) { runningRun { id } entities { entityType total synced errors } } }';
  let status = (await api(q, { id: conn.id })).syncStatus;
  if (status.runningRun) {
    await waitForRun(status.runningRun.id);
    status = (await api(q, { id: conn.id })).syncStatus;
  }
  assert(status.entities.length > 0, 'the connection has synced records');
  const s = await openPage();
  const { page } = s;
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  const card = page.getByTestId('connection-card').filter({ has: page.getByRole('heading', { name: conn.name, exact: true }) });
  await card.getByTestId('entity-table').waitFor();
  const rows = card.getByTestId('entity-row');
  assert(await rows.count() === status.entities.length, `${await rows.count()} rows for ${status.entities.length} entity types`);
  for (const e of status.entities) {
    const cells = await textsOf(card.locator(`[data-testid="entity-row"][data-entity="${e.entityType}"] td`));
    const shown = cells.map((c) => c.replace(/\D/g, ''));
    assert(shown[0] === String(e.total) && shown[1] === String(e.synced) && shown[4] === String(e.errors),
      `${e.entityType}: shows ${cells.join(' / ')}, the API says ${JSON.stringify(e)}`);
  }
  await card.getByText('Last full run').waitFor();
});

scenario('items paging and search', [], async () => {
  const s = await openPage();
  const { page } = s;
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  await go(page, '/items');
  const rows = page.getByTestId('item-row');
  await rows.first().waitFor();
  const total = (await api('{ items(first: 0) { totalCount } }')).items.totalCount;
  assert(total > 25, `need more than 25 items to page, have ${total}`);
  assert(await rows.count() === 25, `first page shows ${await rows.count()} rows, expected 25`);
  const firstPage = await textsOf(rows.locator('td:first-child'));
  const prev = page.getByRole('button', { name: /Previous/ });
  const next = page.getByRole('button', { name: /Next/ });
  assert(await prev.isDisabled(), 'Previous is enabled on the first page');
  await next.click();
  await page.waitForFunction((first) => {
    const cell = document.querySelector('[data-testid="item-row"] td');
    return cell && cell.textContent.trim() !== first;
  }, firstPage[0]);
  const secondPage = await textsOf(rows.locator('td:first-child'));
  assert(secondPage.every((c) => !firstPage.includes(c)), 'page 2 repeats rows of page 1');
  assert(!(await prev.isDisabled()), 'Previous is disabled on page 2');
  // The API's own second page agrees with what is shown.
  const api2 = await api('{ items(first: 25) { pageInfo { endCursor } } }');
  const expected = await api('query($a: String) { items(first: 25, after: $a) { edges { node { code } } } }', { a: api2.items.pageInfo.endCursor });
  assert(expected.items.edges.map((e) => e.node.code).join() === secondPage.join(), 'page 2 differs from the API');
  await prev.click();
  await page.waitForFunction((first) => document.querySelector('[data-testid="item-row"] td')?.textContent.trim() === first, firstPage[0]);

  // Search narrows the list and the count.
  const probe = (await api('query($a: String) { items(first: 1, after: $a) { edges { node { code name } } } }', { a: api2.items.pageInfo.endCursor })).items.edges[0].node;
  await page.getByTestId('items-search').fill(probe.code);
  await page.waitForFunction((code) => {
    const cells = [...document.querySelectorAll('[data-testid="item-row"] td:first-child')];
    return cells.length >= 1 && cells.every((c) => c.textContent.includes(code));
  }, probe.code);
  assert(page.url().includes(`search=${encodeURIComponent(probe.code)}`), 'search is not kept in the URL');
  const info = await page.locator('.pager-info').innerText();
  assert(/of 1 items|of 1 item/.test(info) || /shown of/.test(info), `pager says ${info}`);
  await page.getByTestId('items-search').fill(`no-such-item-${STAMP}`);
  await page.getByText('No items match these filters').waitFor();
  // Filter by kind.
  await page.getByTestId('items-search').fill('');
  await page.getByLabel('Kind').selectOption('MATERIAL');
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('[data-testid="item-row"]')];
    return rows.length > 0 && rows.every((r) => r.querySelector('td:first-child').textContent.startsWith('MAT'));
  });
});

scenario('inline edit of an item price', [], async () => {
  const conn = await firstConnection();
  const item = await linkedItem(conn.id, 3);
  const newPrice = `${(Number.parseInt(String(item.price ?? '10').split('.')[0], 10) || 10) + 7}.35`;
  const s = await openPage();
  const { page } = s;
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  await go(page, `/items?search=${encodeURIComponent(item.code)}`);
  const row = page.locator(`[data-testid="item-row"][data-code="${item.code}"]`);
  await row.waitFor();
  await row.getByRole('button', { name: `Edit ${item.code}` }).click();
  const edit = page.getByTestId('edit-row');
  // A bad value is refused before anything is sent.
  await edit.getByTestId('edit-price').fill('12,3.4.5x');
  await edit.getByRole('button', { name: 'Save' }).click();
  await edit.getByRole('alert').filter({ hasText: /Price: Use digits with a point/ }).waitFor();
  await edit.getByTestId('edit-price').fill(newPrice);
  await edit.getByTestId('edit-price').press('Enter');
  await expectToast(page, new RegExp(`Saved ${item.code}`));
  const shown = await row.getByTestId('cell-price').innerText();
  assert(shown.replace(/[^\d.]/g, '') === newPrice, `row shows ${shown}, expected ${newPrice}`);
  const after = await api('query($id: ID!) { item(id: $id) { price links { syncStatus } } }', { id: item.id });
  assert(sameDecimal(after.item.price, newPrice), `API has price ${after.item.price}, expected ${newPrice}`);
  assert(after.item.links.every((l) => l.syncStatus === 'PENDING_PUSH'), 'links are not pending push after the edit');
  // The item page shows the edit in its history.
  await go(page, `/items/${item.id}`);
  await page.getByTestId('item-history').getByText(/Item update/).first().waitFor();
});

scenario('create and delete a connection', [], async () => {
  const name = `ui-test-${STAMP}`;
  const s = await openPage();
  const { page } = s;
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  await go(page, '/connections');
  await page.getByRole('link', { name: 'New connection' }).click();
  const form = page.getByTestId('connection-form');
  await form.waitFor();
  // A real ServiceTitan connection needs its tenant and credentials.
  await page.getByTestId('conn-name').fill(name);
  await page.getByTestId('conn-provider').selectOption('SERVICETITAN');
  await page.getByRole('button', { name: 'Create connection' }).click();
  await form.getByText('Tenant ID is required').waitFor();
  await form.getByText('Client secret is required').waitFor();
  // Jobber shows its own fields.
  await page.getByTestId('conn-provider').selectOption('JOBBER');
  await page.getByTestId('conn-secret-clientId').waitFor();
  assert(await page.getByTestId('conn-config-tenant').count() === 0, 'Jobber form shows the ServiceTitan tenant');
  // A sandbox connection needs nothing else.
  await page.getByTestId('conn-provider').selectOption('SERVICETITAN');
  await page.getByTestId('conn-sandbox').check();
  assert(await page.getByTestId('conn-config-tenant').count() === 0, 'sandbox still asks for a tenant');
  // Keep the shared data still: no first sync for this throwaway connection.
  if (await page.getByTestId('conn-start-sync').count()) await page.getByTestId('conn-start-sync').uncheck();
  await page.getByRole('button', { name: 'Create connection' }).click();
  await expectToast(page, new RegExp(`Created “${name}”`));
  await page.getByRole('heading', { level: 1, name }).waitFor();
  const created = (await api('{ connections(first: 200) { edges { node { id name provider config } } } }'))
    .connections.edges.map((e) => e.node).find((c) => c.name === name);
  assert(created, 'the API does not list the new connection');
  assert(created.provider === 'SERVICETITAN' && created.config.sandbox === true, `stored as ${JSON.stringify(created)}`);
  // Rename it through the edit form.
  await page.getByTestId('conn-name').fill(`${name}-renamed`);
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expectToast(page, /Saved/);
  // Delete from the list, through the confirmation dialog (cancel once first).
  await go(page, '/connections');
  const row = page.locator(`[data-testid="connection-row"][data-name="${name}-renamed"]`);
  await row.waitFor();
  await row.getByRole('button', { name: /Delete connection/ }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await row.getByRole('button', { name: /Delete connection/ }).click();
  await dialog.getByRole('button', { name: 'Delete connection' }).click();
  await expectToast(page, /Deleted connection/);
  await row.waitFor({ state: 'detached' });
  const still = (await api('{ connections(first: 200) { edges { node { id } } } }')).connections.edges.some((e) => e.node.id === created.id);
  assert(!still, 'the connection still exists in the API');
});

scenario('viewer sees no mutate buttons', [], async () => {
  const s = await openPage();
  const { page } = s;
  await signIn(page, VIEWER_EMAIL, VIEWER_PASSWORD);
  const nav = page.getByRole('navigation', { name: 'Main' });
  assert(await nav.getByRole('link', { name: 'Users' }).count() === 0, 'viewer sees Users');
  assert(await nav.getByRole('link', { name: 'CSV import' }).count() === 0, 'viewer sees CSV import');
  const forbidden = /^(Edit|Edit .*|Delete.*|Save.*|Full sync|Incremental|Dry run|New connection|Create connection|Cancel run|Use remote.*|Use local.*|Merge.*|Apply import|Retry.*|Ignore.*|Pause sync|Resume sync|Add user)$/;
  const item = (await api('{ items(first: 1) { edges { node { id } } } }')).items.edges[0].node;
  const conn = await firstConnection();
  const pages = ['/', '/items', `/items/${item.id}`, '/connections', `/connections/${conn.id}`, '/runs', '/conflicts', '/review'];
  for (const p of pages) {
    await go(page, p);
    await page.locator('h1').first().waitFor();
    await settle(page);
    const names = await page.locator('main button, main a.btn').evaluateAll((els) => els.map((e) => (e.getAttribute('aria-label') || e.textContent).trim()));
    const bad = names.filter((n) => forbidden.test(n));
    assert(!bad.length, `viewer sees ${bad.join(', ')} on ${p}`);
    assert(await page.locator('main input:not([type=search]):not([disabled]), main textarea:not([disabled])').count() === 0 || ['/items', '/conflicts', '/review'].includes(p),
      `viewer has editable fields on ${p}`);
  }
  // The API agrees: a viewer cannot edit.
  const viewerToken = await login(VIEWER_EMAIL, VIEWER_PASSWORD);
  try {
    await gql('mutation($id: ID!) { updateItem(id: $id, input: { name: "x" }) { id } }', { id: item.id }, viewerToken);
    throw new Error('viewer could edit an item through the API');
  } catch (e) {
    assert(e.code === 'FORBIDDEN', `expected FORBIDDEN, got ${e.message}`);
  }
});

scenario('expired session goes back to sign-in', [], async () => {
  const s = await openPage();
  const { page } = s;
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  // 1. The stored expiry has passed: the next screen sends you to sign in.
  await page.evaluate(() => {
    const key = 'pricebook.session';
    const sess = JSON.parse(sessionStorage.getItem(key));
    sess.expiresAt = new Date(Date.now() - 60000).toISOString();
    sessionStorage.setItem(key, JSON.stringify(sess));
  });
  await go(page, '/items');
  await page.getByTestId('signin-message').filter({ hasText: 'Your session expired, sign in again' }).waitFor();
  // Signing in again returns to the screen you were on.
  await page.getByLabel('Email').fill(ADMIN_EMAIL);
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Items' }).waitFor();
  await page.getByTestId('signin-dialog').waitFor({ state: 'hidden' });
  // 2. The server refuses the token (UNAUTHENTICATED): same outcome.
  await page.evaluate(() => {
    const key = 'pricebook.session';
    const sess = JSON.parse(sessionStorage.getItem(key));
    sess.token = `${sess.token.slice(0, -4)}AAAA`;
    sessionStorage.setItem(key, JSON.stringify(sess));
  });
  await go(page, '/connections');
  await page.getByTestId('signin-message').filter({ hasText: 'Your session expired, sign in again' }).waitFor();
  assert(await page.evaluate(() => sessionStorage.getItem('pricebook.session')) === null, 'the dead token is still stored');
});

scenario('screenshots at 1280 and 375 px', [], async (caps) => {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const item = (await api('{ items(first: 1) { edges { node { id } } } }')).items.edges[0].node;
  const conn = await firstConnection();
  const screens = [
    ['dashboard', '/', 'Dashboard'],
    ['items', '/items', 'Items'],
    ['item', `/items/${item.id}`, null],
    ['connections', '/connections', 'Connections'],
    ['connection', `/connections/${conn.id}`, conn.name],
    ['connection-new', '/connections/new', 'New connection'],
    ['users', '/users', 'Users'],
  ];
  if (caps.query.has('syncRuns')) {
    screens.push(['runs', '/runs', 'Runs']);
    const last = (await api('{ syncRuns(first: 1) { edges { node { id } } } }')).syncRuns.edges[0]?.node;
    if (last && caps.query.has('syncRun')) screens.push(['run', `/runs/${last.id}`, `Run #${last.id}`]);
  }
  if (caps.query.has('conflicts')) screens.push(['conflicts', '/conflicts', 'Conflicts']);
  if (caps.query.has('reviewQueue')) screens.push(['review', '/review', 'Review queue']);
  if (caps.mutation.has('uploadCsv')) screens.push(['csv-import', '/import', 'CSV import']);
  for (const [width, height] of [[1280, 900], [375, 812]]) {
    const s = await openPage({ width, height });
    const { page } = s;
    await page.goto(`${BASE_URL}/`);
    await page.getByLabel('Email').waitFor();
    await a11y(page, `sign-in at ${width} px`);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${width}-signin.png`), fullPage: true });
    await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    for (const [name, hash, heading] of screens) {
      await go(page, hash);
      if (heading) await page.getByRole('heading', { level: 1, name: heading }).waitFor();
      else await page.locator('h1').first().waitFor();
      await settle(page);
      await page.waitForTimeout(150);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert(overflow <= 1, `${name} at ${width} px is ${overflow} px wider than the window`);
      await a11y(page, `${name} at ${width} px`);
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${width}-${name}.png`), fullPage: true });
    }
    if (width === 375) {
      // The menu opens from its button on a phone.
      await page.getByRole('button', { name: 'Menu' }).click();
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Items' }).waitFor();
      await a11y(page, `menu at ${width} px`);
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${width}-menu.png`) });
    }
  }
});

scenario('keyboard navigation', [], async () => {
  const s = await openPage();
  const { page } = s;
  await page.goto(`${BASE_URL}/`);
  // Email has focus; type, tab to password, type, Enter submits.
  await page.getByLabel('Email').waitFor();
  await page.keyboard.type(ADMIN_EMAIL);
  await page.keyboard.press('Tab');
  await page.keyboard.type(ADMIN_PASSWORD);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  // Skip link first, then the brand and the navigation.
  await page.keyboard.press('Tab');
  const first = await page.evaluate(() => document.activeElement?.textContent?.trim());
  assert(first === 'Skip to content', `first Tab lands on ${first}`);
  await page.keyboard.press('Enter');
  assert(await page.evaluate(() => document.activeElement?.id) === 'main', 'skip link does not move focus to the content');
  // Every visible control has an accessible name.
  for (const p of ['/', '/items', '/connections/new']) {
    await go(page, p);
    await page.locator('h1').first().waitFor();
    await settle(page);
    const unnamed = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea, button')]
      .filter((el) => el.offsetParent !== null && el.type !== 'hidden')
      .filter((el) => {
        const label = el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || (el.tagName === 'BUTTON' && el.textContent.trim());
        return !label;
      }).map((el) => el.outerHTML.slice(0, 80)));
    assert(!unnamed.length, `unlabelled controls on ${p}: ${unnamed.join(' | ')}`);
  }
});

// ---- scenarios that need the sync API (skipped until the server has it)

scenario('full sync progress reaches 100 %', ['mutation:startSync', 'query:syncRun'], async () => {
  const conn = await firstConnection();
  const s = await openPage();
  const { page } = s;
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  const card = page.getByTestId('connection-card').filter({ has: page.getByRole('heading', { name: conn.name, exact: true }) });
  await card.waitFor();
  await card.getByRole('button', { name: 'Full sync' }).waitFor();
  // Wait for any run in progress to end (the buttons are disabled meanwhile).
  await page.waitForFunction((n) => {
    const cards = [...document.querySelectorAll('[data-testid="connection-card"]')];
    const c = cards.find((x) => x.querySelector('h2')?.textContent.trim() === n);
    const b = c && [...c.querySelectorAll('button')].find((x) => x.textContent.trim() === 'Full sync');
    return b && !b.disabled;
  }, conn.name, { timeout: SYNC_TIMEOUT });
  await card.getByRole('button', { name: 'Full sync' }).click();
  await expectToast(page, /Full sync started|already running/);
  const summary = card.getByTestId('run-summary');
  await summary.waitFor();
  const bar = summary.getByRole('progressbar');
  await page.waitForFunction((n) => {
    const c = [...document.querySelectorAll('[data-testid="connection-card"]')].find((x) => x.querySelector('h2')?.textContent.trim() === n);
    const s = c?.querySelector('[data-testid="run-summary"]');
    return s && ['SUCCEEDED', 'FAILED', 'CANCELLED', 'INTERRUPTED'].includes(s.dataset.status);
  }, conn.name, { timeout: SYNC_TIMEOUT });
  const status = await summary.getAttribute('data-status');
  assert(status === 'SUCCEEDED', `run ended ${status}`);
  assert(await bar.getAttribute('aria-valuenow') === '100', `bar at ${await bar.getAttribute('aria-valuenow')} %`);
  await expectToast(page, /succeeded/);
  // The run page shows it with its counters.
  await summary.getByRole('link', { name: /Run #/ }).click();
  await page.getByTestId('run-page').waitFor();
  assert(await page.getByTestId('run-page').getAttribute('data-status') === 'SUCCEEDED', 'run page status');
  await page.getByText('Fetched').first().waitFor();
});

scenario('cancel a running sync', ['mutation:startSync', 'mutation:cancelSync', 'query:syncRun'], async () => {
  const conn = await firstConnection();
  const provider = String(conn.provider).toLowerCase();
  // Slow the emulator down so the run is still going when we press cancel.
  let slowed = false;
  try {
    await sandboxControl(provider, 'POST', 'faults', { kind: 'latency', count: 200, ms: 400 });
    slowed = true;
  } catch { /* not a sandbox: hope the sync is slow enough */ }
  try {
    const run = await startSyncApi(conn.id, 'FULL');
    const s = await openPage();
    const { page } = s;
    await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await go(page, `/runs/${run.id}`);
    const runPage = page.getByTestId('run-page');
    await runPage.waitFor();
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await expectToast(page, /Cancellation requested/);
    await page.waitForFunction(() => document.querySelector('[data-testid="run-page"]')?.dataset.status === 'CANCELLED', null, { timeout: SYNC_TIMEOUT });
    assert(await page.getByRole('button', { name: 'Cancel run' }).count() === 0, 'Cancel button still shown');
  } finally {
    if (slowed) await sandboxControl(provider, 'DELETE', 'faults').catch(() => {});
  }
});

/** An open conflict: an existing one, or one made by editing both sides of a sandbox item. */
async function openConflict() {
  const existing = await api('{ conflicts(status: OPEN, kind: FIELDS, first: 1) { edges { node { id item { id code } fields { field } } } } }');
  if (existing.conflicts.edges.length) return existing.conflicts.edges[0].node;
  const conn = await firstConnection();
  const item = await linkedItem(conn.id, 5);
  const link = item.links.find((l) => String(l.connectionId) === String(conn.id));
  const provider = String(conn.provider).toLowerCase();
  await api('mutation($id: ID!) { updateItem(id: $id, input: { name: "Local edit from UI test", price: "111.11" }) { id } }', { id: item.id });
  await sandboxControl(provider, 'PATCH', `${link.entityType}/${link.remoteId}`, { displayName: 'Remote edit from UI test', price: 222.22 });
  const run = await startSyncApi(conn.id, 'INCREMENTAL');
  await waitForRun(run.id);
  const d = await api('{ conflicts(status: OPEN, kind: FIELDS, first: 50) { edges { node { id item { id code } fields { field } } } } }');
  const c = d.conflicts.edges.map((e) => e.node).find((x) => x.item?.id === item.id);
  if (!c) throw new Error(`editing ${item.code} on both sides made no conflict`);
  return c;
}

scenario('resolve a conflict with a field merge', ['query:conflicts', 'query:conflict', 'mutation:resolveConflict'], async () => {
  const conflict = await openConflict();
  const s = await openPage();
  const { page } = s;
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  await go(page, '/conflicts');
  await page.getByTestId('conflict-row').first().waitFor();
  await go(page, `/conflicts/${conflict.id}`);
  const cp = page.getByTestId('conflict-page');
  await cp.waitFor();
  assert(await page.locator('[data-testid="diff-table"] tr.row-diff').count() >= 1, 'no differing field is highlighted');
  // Merging without a pick for every field is refused.
  await page.getByRole('button', { name: 'Merge picked values' }).click();
  await page.getByRole('alert').filter({ hasText: /Pick a value for/ }).waitFor();
  const fields = conflict.fields.map((f) => f.field);
  const custom = fields.find((f) => /price|cost/i.test(f));
  for (const f of fields) {
    if (f === custom) {
      await page.getByTestId(`pick-${f}-CUSTOM`).check();
      await page.getByTestId(`custom-${f}`).fill('77.77');
    } else {
      await page.getByTestId(`pick-${f}-REMOTE`).check();
    }
  }
  await page.getByRole('button', { name: 'Merge picked values' }).click();
  await page.getByTestId('resolved-notice').waitFor();
  const after = await api('query($id: ID!) { conflict(id: $id) { status resolution item { id } } }', { id: conflict.id });
  assert(after.conflict.status === 'RESOLVED' && after.conflict.resolution === 'MERGED', `conflict is ${JSON.stringify(after.conflict)}`);
  if (custom && /^(cost|price|memberPrice|addOnPrice)$/.test(custom)) {
    const item = await api(`query($id: ID!) { item(id: $id) { ${custom} } }`, { id: after.conflict.item.id });
    assert(sameDecimal(item.item[custom], '77.77'), `${custom} is ${item.item[custom]} after the merge`);
  }
});

scenario('upload a CSV with a bad row, then apply', ['mutation:uploadCsv'], async () => {
  const conn = await firstConnection();
  const a = await linkedItem(conn.id, 7);
  const b = await linkedItem(conn.id, 8);
  const csv = ['sku,cost', `${a.code},12.34`, `${b.code},"$1,234.50"`, `${a.code.slice(0, 3)}-BAD,abc`, `NO-SUCH-SKU-${STAMP},5.00`, ''].join('\n');
  const file = path.join(os.tmpdir(), `ui-import-${STAMP}.csv`);
  fs.writeFileSync(file, csv);
  const s = await openPage();
  const { page } = s;
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  await go(page, '/import');
  await page.getByTestId('csv-file').setInputFiles(file);
  await page.getByTestId('csv-target').selectOption('ITEM_COSTS');
  if (await page.getByTestId('csv-connection').count()) await page.getByTestId('csv-connection').selectOption(String(conn.id));
  assert(await page.getByRole('button', { name: 'Apply import' }).isDisabled(), 'Apply is enabled before a preview');
  await page.getByRole('button', { name: 'Preview (dry run)' }).click();
  const preview = page.getByTestId('csv-preview');
  await preview.waitFor();
  const errors = page.getByTestId('csv-errors');
  await errors.waitFor();
  const errText = await errors.innerText();
  assert(/\b4\b/.test(errText) && /cost/i.test(errText), `row error should name line 4 and the cost column: ${errText}`);
  assert((await preview.innerText()).includes(`NO-SUCH-SKU-${STAMP}`) || Number(await page.getByText('SKUs not found').locator('..').locator('dd').innerText()) >= 1,
    'the unknown SKU is not reported');
  const unchanged = await api('query($id: ID!) { item(id: $id) { cost } }', { id: a.id });
  assert(sameDecimal(unchanged.item.cost, a.cost), 'the dry run changed the data');
  await page.getByRole('button', { name: 'Apply import' }).click();
  await page.getByTestId('csv-applied').waitFor();
  await expectToast(page, /Import (started|applied)/);
  const runSummary = page.getByTestId('run-summary');
  if (await runSummary.count()) {
    await page.waitForFunction(() => ['SUCCEEDED', 'FAILED', 'CANCELLED', 'INTERRUPTED'].includes(document.querySelector('[data-testid="run-summary"]')?.dataset.status), null, { timeout: SYNC_TIMEOUT });
  }
  const changed = await api('query($id: ID!) { item(id: $id) { cost } }', { id: a.id });
  assert(sameDecimal(changed.item.cost, '12.34'), `cost is ${changed.item.cost} after the import, expected 12.34`);
  const changedB = await api('query($id: ID!) { item(id: $id) { cost } }', { id: b.id });
  assert(sameDecimal(changedB.item.cost, '1234.50'), `cost is ${changedB.item.cost}, expected 1234.50 ("$1,234.50")`);
  fs.rmSync(file, { force: true });
});

scenario('connect Jobber through OAuth from the connection page', ['mutation:startOAuth'], async () => {
  const name = `ui-jobber-${STAMP}`;
  const created = await api('mutation($n: String!) { createConnection(input: { name: $n, provider: JOBBER, config: { sandbox: true } }) { id } }', { n: name });
  const id = created.createConnection.id;
  const runsOf = async () => (await api('query($c: ID!) { syncRuns(connectionId: $c) { edges { node { id trigger } } } }', { c: id }))
    .syncRuns.edges.map((e) => e.node);
  assert((await runsOf()).length === 0, 'a sync started before consent');
  const s = await openPage();
  const { page } = s;
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  await go(page, `/connections/${id}`);
  // The emulator approves at once; the callback stores the tokens, queues the first sync
  // and sends the browser back to this connection (a full page load).
  const backHere = page.waitForEvent('load', { timeout: 15000 });
  await page.getByTestId('oauth-connect').click();
  await backHere;
  await page.getByRole('heading', { level: 1, name }).waitFor();
  const end = Date.now() + 15000;
  while ((await runsOf()).length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
  const runs = await runsOf();
  assert(runs.length === 1 && runs[0].trigger === 'CONNECT', `expected one CONNECT run, got ${JSON.stringify(runs)}`);
  await waitForRun(runs[0].id);
  await api('mutation($id: ID!) { deleteConnection(id: $id) }', { id }).catch(() => {});
});

// ---- issue 17: the admin UI an admin can trust with prices (each at 1280 and 375 px)

/** `n` linked materials still in sync, from the end of the list (older scenarios use the start). */
async function freshItems(n) {
  const conn = await firstConnection();
  const d = await api(`query($c: ID!, $f: Int) { items(connectionId: $c, syncStatus: SYNCED, kind: MATERIAL, first: $f,
    sort: CODE, descending: true) { edges { node { id code name cost price links { connectionId entityType remoteId } } } } }`, { c: conn.id, f: n });
  const items = d.items.edges.map((e) => e.node);
  assert(items.length === n, `need ${n} synced materials, found ${items.length}`);
  return items.map((it) => ({ ...it, link: it.links.find((l) => String(l.connectionId) === String(conn.id)) }));
}

/** Name and price changed differently here and upstream (a FIELDS conflict at the next sync). */
async function editBothSides(item, tag) {
  const conn = await firstConnection();
  await api('mutation($id: ID!, $n: String!) { updateItem(id: $id, input: { name: $n, price: "111.11" }) { id } }', { id: item.id, n: `Local ${tag}` });
  await sandboxControl(String(conn.provider).toLowerCase(), 'PATCH', `${item.link.entityType}/${item.link.remoteId}`, { displayName: `Remote ${tag}`, price: 222.22 });
}

/** Edited here, deleted upstream: a DELETE conflict after a full sync, a failed push after an incremental one. */
async function editHereDeleteThere(item) {
  const conn = await firstConnection();
  await api('mutation($id: ID!) { updateItem(id: $id, input: { price: "19.95" }) { id } }', { id: item.id });
  await sandboxControl(String(conn.provider).toLowerCase(), 'DELETE', `${item.link.entityType}/${item.link.remoteId}`);
}

/** Edited here, and the upstream refuses the push (a validation error, until the sandbox's
 * faults are cleared): a failed record. */
async function editHereRefusedThere(items) {
  const conn = await firstConnection();
  for (const item of items) {
    // A price the item does not have yet, so there is always something to push.
    const price = (Number(item.price ?? 0) + 1.25).toFixed(2);
    await api('mutation($id: ID!, $p: Money!) { updateItem(id: $id, input: { price: $p }) { id } }', { id: item.id, p: price });
  }
  const ids = items.map((item) => Number(item.link.remoteId));
  await sandboxControl(String(conn.provider).toLowerCase(), 'POST', 'faults', { kind: 'invalid', ids });
}

async function syncDemo(mode) {
  await syncOf((await firstConnection()).id, mode);
}

async function openConflictIds(codes) {
  const d = await api('{ conflicts(status: OPEN, first: 500) { edges { node { id kind item { code } } } } }');
  return d.conflicts.edges.map((e) => e.node).filter((c) => codes.includes(c.item?.code));
}

async function resolveViaApi(conflicts, resolution = 'USE_REMOTE') {
  if (!conflicts.length) return;
  const d = await api('mutation($ids: [ID!]!, $r: Resolution!) { resolveConflicts(ids: $ids, resolution: $r) { id } }', { ids: conflicts.map((c) => c.id), r: resolution });
  await waitForRun(d.resolveConflicts.id);
}

async function conflictRow(page, code) {
  return page.getByTestId('conflict-row').filter({ has: page.getByRole('link', { name: code, exact: true }) });
}

scenario('money input: one unambiguous rule, the amount shown before saving (#17.1)', ['mutation:updateItem'], async () => {
  const items = await freshItems(4);
  await atBothWidths(async (page, width) => {
    const [onPage, inList] = width === 1280 ? items.slice(0, 2) : items.slice(2, 4);
    // The item page's form.
    await go(page, `/items/${onPage.id}`);
    const form = page.getByTestId('item-edit-form');
    await form.waitFor();
    const cost = form.getByTestId('edit-cost');
    await cost.fill('12,34');
    await form.getByTestId('edit-cost-error').filter({ hasText: 'use 12.34' }).waitFor();
    assert(await form.getByTestId('edit-cost-preview').count() === 0, 'an ambiguous amount still shows a preview');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForTimeout(300);
    const unchanged = await api('query($id: ID!) { item(id: $id) { cost } }', { id: onPage.id });
    assert(sameDecimal(unchanged.item.cost, onPage.cost), `12,34 was saved as ${unchanged.item.cost}`);
    await cost.fill('$1,234.50');
    await form.getByTestId('edit-cost-error').filter({ hasText: 'use 1234.50' }).waitFor();
    await cost.fill('12.34567');
    await form.getByTestId('edit-cost-error').filter({ hasText: 'at most 4 decimal places' }).waitFor();
    await a11y(page, 'money error on the item form');
    await cost.fill('12.34');
    const preview = await form.getByTestId('edit-cost-preview').innerText();
    assert(/\$12\.34\b/.test(preview), `preview says ${preview}`);
    await form.getByRole('button', { name: 'Save changes' }).click();
    await expectToast(page, new RegExp(`Saved ${onPage.code}`));
    const saved = await api('query($id: ID!) { item(id: $id) { cost } }', { id: onPage.id });
    assert(sameDecimal(saved.item.cost, '12.34'), `cost is ${saved.item.cost}, expected 12.34`);
    await page.getByTestId('item-cost').filter({ hasText: '$12.34' }).waitFor();

    // The same rule in the list's inline edit.
    await go(page, `/items?search=${encodeURIComponent(inList.code)}`);
    const row = page.locator(`[data-testid="item-row"][data-code="${inList.code}"]`);
    await row.getByRole('button', { name: `Edit ${inList.code}` }).click();
    const edit = page.getByTestId('edit-row');
    await edit.getByTestId('edit-price').fill('58,5');
    await edit.getByTestId('edit-price-error').filter({ hasText: 'use 58.5' }).waitFor();
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.getByRole('alert').filter({ hasText: /Price: .*use 58\.5/ }).waitFor();
    await edit.getByTestId('edit-price').fill('58.5');
    assert(/\$58\.50/.test(await edit.getByTestId('edit-price-preview').innerText()), 'no preview in the inline edit');
    await assertNoOverflow(page, `items inline edit at ${width} px`);
    await edit.getByRole('button', { name: 'Save' }).click();
    await expectToast(page, new RegExp(`Saved ${inList.code}`));
    const listed = await api('query($id: ID!) { item(id: $id) { price } }', { id: inList.id });
    assert(sameDecimal(listed.item.price, '58.5'), `price is ${listed.item.price}`);
  });
});

scenario('delete conflicts: banner, list badge, and a bulk dialog that names them (#17.2)', ['query:conflicts', 'mutation:resolveConflicts'], async () => {
  const [a, b, gone] = await freshItems(3);
  await editBothSides(a, 'A');
  await editBothSides(b, 'B');
  await editHereDeleteThere(gone);
  await syncDemo('FULL');
  const open = await openConflictIds([a.code, b.code, gone.code]);
  assert(open.length === 3 && open.find((c) => c.item.code === gone.code)?.kind === 'DELETE', `conflicts: ${JSON.stringify(open)}`);
  const conn = await firstConnection();
  await atBothWidths(async (page) => {
    await go(page, `/conflicts?connectionId=${conn.id}`);
    const deletedRow = await conflictRow(page, gone.code);
    await deletedRow.getByText('Deleted upstream').waitFor();
    assert(await (await conflictRow(page, a.code)).getByText('Deleted upstream').count() === 0, 'a field conflict has the deletion badge');
    await deletedRow.getByRole('link', { name: gone.code }).click();
    const banner = page.getByTestId('kind-banner');
    await banner.waitFor();
    assert(/Deleted upstream/.test(await banner.innerText()), `banner says ${await banner.innerText()}`);
    assert(/Accept the deletion/.test(await page.getByTestId('use-remote').innerText()), 'the use-remote button does not say it deletes');
    assert(await page.getByRole('button', { name: 'Merge picked values' }).count() === 0, 'a deletion offers a merge');
    await assertNoOverflow(page, 'delete conflict page');
    await a11y(page, 'delete conflict page');

    await go(page, `/conflicts?connectionId=${conn.id}`);
    for (const it of [a, b, gone]) await page.getByRole('checkbox', { name: `Select conflict on ${it.code}` }).check();
    await page.getByRole('button', { name: 'Use remote for selected' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    const summary = await dialog.getByTestId('bulk-summary').innerText();
    assert(/3 conflicts/.test(summary) && /2 with changed fields/.test(summary) && /1 deleted upstream/.test(summary), `dialog summary: ${summary}`);
    const deletions = await dialog.getByTestId('bulk-kind-DELETE').innerText();
    assert(deletions.includes(gone.code) && /deletes the item here/.test(deletions), `deletions line: ${deletions}`);
    assert(/deletes 1/.test(await dialog.getByRole('button', { name: /Resolve 3/ }).innerText()), 'the confirm button does not count the deletion');
    await a11y(page, 'bulk dialog');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
  });
  await resolveViaApi(await openConflictIds([a.code, b.code]));
  await resolveViaApi(await openConflictIds([gone.code]), 'USE_REMOTE');
});

scenario('the conflict list refreshes itself after a bulk resolve and on new conflicts (#17.3)', ['query:conflicts', 'mutation:resolveConflicts', 'subscription:conflictCreated'], async () => {
  const conn = await firstConnection();
  const openCount = async () => (await api('query($c: ID) { conflicts(status: OPEN, connectionId: $c) { totalCount } }', { c: conn.id })).conflicts.totalCount;
  await atBothWidths(async (page, width) => {
    const batch = await freshItems(3);
    for (const [i, it] of batch.entries()) await editBothSides(it, `bulk-${width}-${i}`);
    await syncDemo('INCREMENTAL');
    await go(page, `/conflicts?connectionId=${conn.id}`);
    for (const it of batch) await page.getByRole('checkbox', { name: `Select conflict on ${it.code}` }).check();
    await page.getByRole('button', { name: 'Use remote for selected' }).click();
    await page.getByRole('dialog').getByRole('button', { name: /Resolve 3/ }).click();
    // No Refresh: the rows go and the tab count follows by themselves.
    for (const it of batch) await (await conflictRow(page, it.code)).waitFor({ state: 'detached', timeout: 20000 });
    await expectToast(page, /3 conflicts resolved/);
    const expected = await openCount();
    await page.waitForFunction((n) => {
      const t = document.querySelector('[data-testid="tab-OPEN"] .tab-count');
      return t && t.textContent.trim() === String(n);
    }, expected, { timeout: 10000 }).catch(async () => {
      throw new Error(`tab says ${await page.getByTestId('tab-OPEN').innerText()}, API ${expected}`);
    });
    // A conflict found by a sync appears without a refresh (the conflictCreated feed).
    const [late] = await freshItems(1);
    await editBothSides(late, `late-${width}`);
    await syncDemo('INCREMENTAL');
    await (await conflictRow(page, late.code)).waitFor({ timeout: 15000 });
    await resolveViaApi(await openConflictIds([late.code]));
  });
});

scenario('errors read as one line with the raw detail folded away, nothing overflows (#17.5)', ['mutation:startSync'], async () => {
  const name = `errors-${STAMP}`;
  const created = await api('mutation($n: String!) { createConnection(input: { name: $n, provider: SERVICETITAN, config: { sandbox: true, maxRetries: 0 }, startSync: false }) { id } }', { n: name });
  const id = created.createConnection.id;
  try {
    await sandboxControl('servicetitan', 'POST', 'faults', { kind: '500', count: 1 });
    const failedRun = await waitForRun((await startSyncApi(id, 'INCREMENTAL')).id);
    assert(failedRun.status === 'FAILED' && failedRun.error.includes('{'), `expected a raw upstream error, got ${JSON.stringify(failedRun)}`);
    const [broken] = await freshItems(1);
    await editHereRefusedThere([broken]);
    await syncDemo('INCREMENTAL');
    const checkLine = async (scope, what, re) => {
      const line = await scope.getByTestId('error-line').first().innerText();
      assert(re.test(line) && !/[{}]/.test(line), `${what} shows "${line}"`);
      await scope.locator('details.error-detail summary').first().click();
      const raw = await scope.getByTestId('error-detail').first().innerText();
      assert(raw.includes('traceId'), `${what}: the detail does not hold the raw answer: ${raw}`);
    };
    await atBothWidths(async (page, width) => {
      const card = page.getByTestId('connection-card').filter({ has: page.getByRole('heading', { name, exact: true }) });
      await checkLine(card.getByTestId('last-error'), 'dashboard', /Upstream error: HTTP 500/);
      await assertNoOverflow(page, `dashboard at ${width} px`);
      // A run that fails while you watch: the toast is one line and fits.
      await sandboxControl('servicetitan', 'POST', 'faults', { kind: '500', count: 1 });
      await card.getByRole('button', { name: 'Incremental' }).click();
      const toast = page.getByTestId('toast').filter({ hasText: /failed: Upstream error: HTTP 500/ });
      await toast.waitFor({ timeout: 20000 });
      assert(!/[{}]/.test(await toast.innerText()), `toast: ${await toast.innerText()}`);
      await assertInView(toast, 'the error toast');
      await assertNoOverflow(page, `dashboard with a toast at ${width} px`);
      await a11y(page, 'dashboard with an error and a toast');

      await go(page, `/runs/${failedRun.id}`);
      await checkLine(page.getByTestId('run-error'), 'run page', /Upstream error: HTTP 500/);
      await assertNoOverflow(page, `run page at ${width} px`);
      await a11y(page, 'failed run page');

      await go(page, `/items/${broken.id}`);
      await checkLine(page.getByTestId('link-error'), 'item link', /HTTP 400/);
      await assertNoOverflow(page, `item page at ${width} px`);
    });
  } finally {
    await sandboxControl('servicetitan', 'DELETE', 'faults').catch(() => {});
    await api('mutation($id: ID!) { deleteConnection(id: $id) }', { id }).catch(() => {});
  }
});

scenario('CSV import: the connection says when it is required, and applying is idempotent (#17.7)', ['mutation:uploadCsv'], async () => {
  const conn = await firstConnection();
  const other = await api('mutation($n: String!) { createConnection(input: { name: $n, provider: SERVICETITAN, config: { sandbox: true }, startSync: false }) { id } }', { n: `csv-second-${STAMP}` });
  const csvRuns = async () => (await api('query($c: ID) { syncRuns(connectionId: $c, first: 200) { edges { node { id mode } } } }', { c: conn.id }))
    .syncRuns.edges.filter((e) => e.node.mode === 'CSV_IMPORT').length;
  try {
    await atBothWidths(async (page, width) => {
      const [it] = await freshItems(1);
      const file = path.join(os.tmpdir(), `ui-import-once-${STAMP}-${width}.csv`);
      fs.writeFileSync(file, ['sku,cost', `${it.code},${width === 1280 ? '21.5' : '31.5'}`, ''].join('\n'));
      await go(page, '/import');
      await page.getByTestId('csv-file').setInputFiles(file);
      await page.getByTestId('csv-target').selectOption('ITEM_COSTS');
      // The hint follows the chosen target and the loaded connections: give it time to render.
      const field = page.getByTestId('csv-connection').locator('xpath=..');
      const says = (text) => /Connection \(required\)/.test(text) && /has \d+ connections/.test(text);
      let label = await field.innerText();
      for (let i = 0; i < 50 && !says(label); i += 1) {
        await page.waitForTimeout(100);
        label = await field.innerText();
      }
      assert(says(label), `connection field says: ${label}`);
      await page.getByRole('button', { name: 'Preview (dry run)' }).click();
      await page.getByTestId('csv-error').filter({ hasText: /Choose the connection/ }).waitFor();
      await a11y(page, 'CSV connection required');
      await page.getByTestId('csv-connection').selectOption(String(conn.id));
      await page.getByRole('button', { name: 'Preview (dry run)' }).click();
      await page.getByTestId('csv-preview').waitFor();
      const before = await csvRuns();
      await page.getByTestId('csv-apply').click();
      await page.getByTestId('csv-applied').waitFor();
      await page.getByTestId('csv-apply').filter({ hasText: 'Applied' }).waitFor();
      assert(await page.getByTestId('csv-apply').isDisabled(), 'Apply is still enabled after applying');
      assert(await csvRuns() === before + 1, 'applying did not make exactly one run');
      // The same file again: it asks first, and Cancel sends nothing.
      await page.getByRole('button', { name: 'Preview (dry run)' }).click();
      await page.getByTestId('csv-preview').waitFor();
      await page.getByTestId('csv-apply').click();
      const dialog = page.getByRole('dialog');
      await dialog.getByTestId('csv-again').waitFor();
      await a11y(page, 'CSV apply-again dialog');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await page.waitForTimeout(300);
      assert(await csvRuns() === before + 1, 'Cancel still started an import');
      await assertNoOverflow(page, `CSV import at ${width} px`);
      fs.rmSync(file, { force: true });
    });
  } finally {
    await api('mutation($id: ID!) { deleteConnection(id: $id) }', { id: other.createConnection.id }).catch(() => {});
  }
});

scenario('an expired session keeps the unsaved edit and the email, and returns to the same screen (#17.8)', ['mutation:updateItem'], async () => {
  const items = await freshItems(2);
  await atBothWidths(async (page, width) => {
    const it = width === 1280 ? items[0] : items[1];
    await go(page, `/items/${it.id}`);
    const form = page.getByTestId('item-edit-form');
    await form.waitFor();
    const newName = `Kept through expiry ${width}`;
    await form.getByLabel('Name').fill(newName);
    await form.getByTestId('edit-cost').fill('44.4');
    // The server stops accepting the token while the form is being filled in.
    await page.evaluate(() => {
      const key = 'pricebook.session';
      const sess = JSON.parse(sessionStorage.getItem(key));
      sess.token = `${sess.token.slice(0, -4)}AAAA`;
      sessionStorage.setItem(key, JSON.stringify(sess));
    });
    await form.getByRole('button', { name: 'Save changes' }).click();
    const dialog = page.getByTestId('signin-dialog');
    await dialog.waitFor();
    await dialog.getByTestId('signin-message').waitFor();
    const email = await dialog.getByLabel('Email').inputValue();
    assert(email === ADMIN_EMAIL, `the email field holds "${email}"`);
    assert(await page.evaluate(() => document.activeElement?.name) === 'password', 'focus is not on the password');
    await a11y(page, 'sign-in dialog over an expired screen');
    await dialog.getByLabel('Password').fill(ADMIN_PASSWORD);
    await dialog.getByRole('button', { name: 'Sign in' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert(await form.getByLabel('Name').inputValue() === newName, 'the typed name is gone');
    assert(await form.getByTestId('edit-cost').inputValue() === '44.4', 'the typed cost is gone');
    assert(page.url().endsWith(`#/items/${it.id}`), `back on ${page.url()}`);
    await form.getByRole('button', { name: 'Save changes' }).click();
    await expectToast(page, new RegExp(`Saved ${it.code}`));
    const saved = await api('query($id: ID!) { item(id: $id) { name cost } }', { id: it.id });
    assert(saved.item.name === newName && sameDecimal(saved.item.cost, '44.4'), `saved ${JSON.stringify(saved.item)}`);
    // A reload after expiry: the sign-in page keeps the email, and signing in returns here.
    await page.evaluate(() => {
      const key = 'pricebook.session';
      const sess = JSON.parse(sessionStorage.getItem(key));
      sess.expiresAt = new Date(Date.now() - 60000).toISOString();
      sessionStorage.setItem(key, JSON.stringify(sess));
    });
    await page.reload();
    await page.getByTestId('signin-message').waitFor();
    assert(await page.getByLabel('Email').inputValue() === ADMIN_EMAIL, 'the email is not kept after a reload');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: newName }).waitFor();
  });
});

scenario('review queue: conflicts and failed records in one list, bulk retry / ignore / resolve (#17.9)', ['query:reviewQueue', 'mutation:setItemSyncPaused'], async () => {
  const conn = await firstConnection();
  const queue = async () => (await api('query($c: ID) { reviewQueue(connectionId: $c) { openConflicts failedRecords } }', { c: conn.id })).reviewQueue;
  await atBothWidths(async (page, width) => {
    const [toIgnore, toRetry, conflicted] = await freshItems(3);
    await editHereRefusedThere([toIgnore, toRetry]);
    await editBothSides(conflicted, `queue-${width}`);
    await syncDemo('INCREMENTAL');
    // From the dashboard's error count.
    await go(page, '/');
    const card = page.getByTestId('connection-card').filter({ has: page.getByRole('heading', { name: conn.name, exact: true }) });
    await card.getByTestId('stat-errors').getByRole('link').click();
    await page.getByRole('heading', { level: 1, name: 'Review queue' }).waitFor();
    assert(page.url().includes('type=failed') && page.url().includes(`connectionId=${conn.id}`), `dashboard led to ${page.url()}`);
    const row = (code) => page.locator(`[data-testid="queue-row"][data-code="${code}"]`);
    await row(toIgnore.code).waitFor();
    assert(await row(conflicted.code).count() === 0, 'the failed-records filter shows a conflict');
    // Everything, in one list.
    await page.getByTestId('queue-tab-all').click();
    await row(conflicted.code).waitFor();
    assert(await row(toRetry.code).getAttribute('data-type') === 'failed', 'the failed record is missing from the full list');
    const problem = await row(toRetry.code).getByTestId('error-line').innerText();
    assert(/HTTP 400/.test(problem) && !/[{}]/.test(problem), `failed record shows ${problem}`);
    await assertNoOverflow(page, `review queue at ${width} px`);
    await a11y(page, 'review queue');

    const before = await queue();
    await page.getByRole('checkbox', { name: `Select failed record ${toIgnore.code}` }).check();
    await page.getByRole('button', { name: 'Ignore 1 failed' }).click();
    await row(toIgnore.code).waitFor({ state: 'detached' });
    assert((await queue()).failedRecords === before.failedRecords - 1, 'ignoring did not take the record out of the queue');

    // The upstream takes the value now: the retry goes through.
    await sandboxControl(String(conn.provider).toLowerCase(), 'DELETE', 'faults');
    await page.getByRole('checkbox', { name: `Select failed record ${toRetry.code}` }).check();
    await page.getByRole('button', { name: 'Retry 1 failed' }).click();
    await expectToast(page, /Retried 1 record/, 30000);
    await page.waitForFunction((code) => ![...document.querySelectorAll('[data-testid="queue-row"][data-type="failed"]')]
      .some((r) => r.dataset.code === code), toRetry.code, { timeout: 15000 });

    await page.getByRole('checkbox', { name: `Select conflict ${conflicted.code}` }).check();
    await page.getByRole('button', { name: 'Use local for 1' }).click();
    await page.getByRole('dialog').getByRole('button', { name: /Resolve 1/ }).click();
    await row(conflicted.code).waitFor({ state: 'detached', timeout: 20000 });
    // The retry went through: the price is upstream and nothing about it is left to decide.
    assert((await openConflictIds([toRetry.code])).length === 0, 'the retried record left a conflict');
  });
});

scenario('money as currency, readable field names and vendors, sortable items that fit at 375 px (#17.10)', ['query:conflict'], async () => {
  const [it] = await freshItems(1);
  await editBothSides(it, 'display');
  await syncDemo('INCREMENTAL');
  const [conflict] = await openConflictIds([it.code]);
  const withVendor = (await api('{ items(first: 50, kind: MATERIAL) { edges { node { id attributes } } } }'))
    .items.edges.map((e) => e.node).find((n) => n.attributes?.primary_vendor?.vendor_name);
  assert(withVendor, 'no item with a primary vendor to show');
  await atBothWidths(async (page, width) => {
    await go(page, `/conflicts/${conflict.id}`);
    const table = page.getByTestId('diff-table');
    await table.waitFor();
    const price = await table.locator('tr[data-field="price"] td').allInnerTexts();
    assert(price.length >= 3 && price.slice(0, 3).every((t) => /^\$\d[\d,]*\.\d{2,4}$/.test(t.replace(/\s*\(changed\)/, '').trim())), `price cells: ${price.join(' | ')}`);
    const cells = (await table.locator('td .value').allInnerTexts()).join(' | ');
    assert(!/\b\d+\.\d{4}\b/.test(cells.replace(/\$[\d,.]+/g, '')), `raw decimals in the comparison: ${cells}`);
    const names = await table.locator('th[scope="row"]').allInnerTexts();
    assert(names.some((n) => n.startsWith('Price')) && !names.some((n) => /_/.test(n)), `field names: ${names.join(', ')}`);
    await page.getByTestId('pick-price-CUSTOM').check();
    await page.getByTestId('custom-price').fill('99,5');
    await page.getByTestId('custom-price-error').filter({ hasText: 'use 99.5' }).waitFor();
    await assertNoOverflow(page, `conflict page at ${width} px`);
    await a11y(page, 'conflict comparison');

    await go(page, `/items/${withVendor.id}`);
    const vendor = page.locator('[data-field="primary_vendor"]');
    await vendor.waitFor();
    const text = await vendor.innerText();
    assert(/Primary vendor/.test(text) && text.includes(withVendor.attributes.primary_vendor.vendor_name) && !/[{}"]/.test(text) && /\$\d/.test(text), `vendor shows ${text}`);

    // Sorting by clicking a column header, with paging that follows the sort.
    await go(page, '/items');
    await page.getByTestId('item-row').first().waitFor();
    const apiNames = async (desc, after = null) => (await api('query($d: Boolean!, $a: String) { items(first: 25, after: $a, sort: NAME, descending: $d) { pageInfo { endCursor } edges { node { name } } } }', { d: desc, a: after })).items;
    const shownNames = async () => (await page.getByTestId('item-row').locator('td.cell-name').allInnerTexts()).map((t) => t.split('\n')[0].replace(/\s*Deleted$/, '').trim());
    await page.getByTestId('sort-NAME').click();
    const asc = await apiNames(false);
    await page.waitForFunction((first) => document.querySelector('[data-testid="item-row"] td.cell-name')?.textContent.startsWith(first), asc.edges[0].node.name);
    assert(await page.locator('th[aria-sort="ascending"]').innerText() === 'NAME▲' || /Name/i.test(await page.locator('th[aria-sort="ascending"]').innerText()), 'the Name column is not marked as sorted');
    assert((await shownNames()).join('|') === asc.edges.map((e) => e.node.name).join('|'), 'ascending names differ from the API');
    await page.getByTestId('sort-NAME').click();
    const desc = await apiNames(true);
    await page.waitForFunction((first) => document.querySelector('[data-testid="item-row"] td.cell-name')?.textContent.startsWith(first), desc.edges[0].node.name);
    assert(await page.locator('th[aria-sort="descending"]').count() === 1, 'no column marked descending');
    await page.getByRole('button', { name: /Next/ }).click();
    const page2 = await apiNames(true, desc.pageInfo.endCursor);
    await page.waitForFunction((first) => document.querySelector('[data-testid="item-row"] td.cell-name')?.textContent.startsWith(first), page2.edges[0].node.name);
    assert((await shownNames()).join('|') === page2.edges.map((e) => e.node.name).join('|'), 'page 2 of the descending sort differs from the API');
    // Price and Edit are on screen, without scrolling sideways.
    const firstRow = page.getByTestId('item-row').first();
    await assertInView(firstRow.getByTestId('cell-price'), `the price at ${width} px`);
    await assertInView(firstRow.getByRole('button', { name: /^Edit / }), `the Edit button at ${width} px`);
    const wrap = await page.locator('.table-wrap').first().evaluate((el) => el.scrollWidth - el.clientWidth);
    assert(wrap <= 1, `the items table scrolls sideways by ${wrap} px at ${width} px`);
  });
  await resolveViaApi([conflict]);
});

scenario('navigation moves focus to the new page heading and announces it (#17.11)', [], async () => {
  await atBothWidths(async (page, width) => {
    for (const [label, heading] of [['Items', 'Items'], ['Runs', 'Runs'], ['Dashboard', 'Dashboard']]) {
      if (width < 1000) await page.getByRole('button', { name: 'Menu' }).click();
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label, exact: true }).click();
      await page.getByRole('heading', { level: 1, name: heading }).waitFor();
      await page.waitForFunction((h) => document.activeElement?.tagName === 'H1' && document.activeElement.textContent.trim() === h, heading, { timeout: 5000 })
        .catch(async () => { throw new Error(`after going to ${label}, focus is on ${await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 80))}`); });
      await page.getByTestId('route-announcer').filter({ hasText: heading }).waitFor({ state: 'attached' });
    }
    // Changing a filter stays where it is: focus is not pulled away.
    await go(page, '/items');
    await page.getByTestId('items-search').waitFor();
    await page.getByTestId('items-search').fill('MAT');
    await page.waitForTimeout(600);
    assert(await page.evaluate(() => document.activeElement?.dataset.testid) === 'items-search', 'typing a search lost focus');
  });
});

scenario('first load is small, assets are compressed and cached, the schema is not fetched again (#17.12)', [], async () => {
  const figures = [];
  for (const [width, height] of WIDTHS) {
    const s = await openPage({ width, height });
    const { page } = s;
    const cdp = await s.context.newCDPSession(page);
    await cdp.send('Network.enable');
    const requests = new Map();
    cdp.on('Network.requestWillBeSent', (e) => {
      requests.set(e.requestId, { url: e.request.url, body: e.request.postData || '', bytes: 0, cached: false, done: false, encoding: null });
    });
    cdp.on('Network.requestServedFromCache', (e) => { const r = requests.get(e.requestId); if (r) r.cached = true; });
    cdp.on('Network.responseReceived', (e) => {
      const r = requests.get(e.requestId);
      if (!r) return;
      r.status = e.response.status;
      r.encoding = e.response.headers['content-encoding'] || e.response.headers['Content-Encoding'] || null;
      r.cacheControl = e.response.headers['cache-control'] || '';
      if (e.response.fromDiskCache || e.response.fromMemoryCache) r.cached = true;
    });
    cdp.on('Network.loadingFinished', (e) => { const r = requests.get(e.requestId); if (r) { r.bytes = e.encodedDataLength; r.done = true; } });
    const measure = () => {
      const all = [...requests.values()].filter((r) => r.url.startsWith(BASE_URL) && !r.url.startsWith('data:'));
      const network = all.filter((r) => !r.cached);
      const isStatic = (r) => !new URL(r.url).pathname.startsWith('/graphql');
      return {
        staticRequests: network.filter(isStatic).length,
        apiRequests: network.filter((r) => !isStatic(r)).length,
        bytes: network.reduce((n, r) => n + r.bytes, 0),
        staticBytes: network.filter(isStatic).reduce((n, r) => n + r.bytes, 0),
        introspection: all.some((r) => r.body.includes('__schema')),
        uncompressed: network.filter((r) => isStatic(r) && r.status === 200 && r.bytes > 1500 && r.encoding !== 'gzip' && r.encoding !== 'br').map((r) => r.url),
        notCached: network.filter((r) => isStatic(r) && r.status === 200 && !new URL(r.url).pathname.endsWith('/') && !/immutable/.test(r.cacheControl)).map((r) => r.url),
      };
    };
    await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await page.getByTestId('stat-total').first().waitFor();
    await settle(page);
    const first = measure();
    assert(!first.uncompressed.length, `sent uncompressed: ${first.uncompressed.join(', ')}`);
    assert(!first.notCached.length, `not long-cached: ${first.notCached.join(', ')}`);
    assert(first.bytes < 80 * 1024, `first load moved ${first.bytes} bytes`);
    // Second visit in the same browser: the shell is revalidated, everything else is cached.
    requests.clear();
    await page.goto('about:blank');
    await page.goto(`${BASE_URL}/`);
    await page.getByTestId('stat-total').first().waitFor();
    await settle(page);
    const second = measure();
    assert(second.staticRequests <= 2, `the second load fetched ${second.staticRequests} static files`);
    assert(!second.introspection, 'the second load introspected the schema again');
    // Signing in again (a new tab) reuses the schema learned before.
    requests.clear();
    const tab = await s.context.newPage();
    const cdp2 = await s.context.newCDPSession(tab);
    await cdp2.send('Network.enable');
    let introspected = false;
    cdp2.on('Network.requestWillBeSent', (e) => { if ((e.request.postData || '').includes('__schema')) introspected = true; });
    await signIn(tab, ADMIN_EMAIL, ADMIN_PASSWORD);
    await tab.getByTestId('stat-total').first().waitFor();
    assert(!introspected, 'signing in again fetched the whole schema');
    await tab.close();
    figures.push(`${width} px: first load ${first.staticRequests} static + ${first.apiRequests} API requests, ${(first.bytes / 1024).toFixed(1)} KB `
      + `(static ${(first.staticBytes / 1024).toFixed(1)} KB); second load ${second.staticRequests} static + ${second.apiRequests} API requests, ${(second.bytes / 1024).toFixed(1)} KB`);
  }
  for (const f of figures) console.log(`# payload ${f}`);
});
// Amazon recoveries: an empty connection's screen starts the sync itself, then shows the
// claims with their evidence; file one with a case id, dismiss another, export the rest.
/** A sandbox ServiceTitan connection of its own (no first sync unless `startSync`), and its first run. */
async function extraConnection(name, { startSync = false, config = {} } = {}) {
  const d = await api('mutation($n: String!, $s: Boolean!, $cfg: JSON!) { createConnection(input: { name: $n, provider: SERVICETITAN, config: $cfg, startSync: $s }) { id } }',
    { n: name, s: startSync, cfg: { sandbox: true, ...config } });
  const id = d.createConnection.id;
  if (!startSync) return { id, name };
  const runs = (await api('query($c: ID!) { syncRuns(connectionId: $c) { edges { node { id } } } }', { c: id })).syncRuns.edges;
  const run = await waitForRun(runs[0].node.id);
  assert(run.status === 'SUCCEEDED', `the first sync of ${name} ended ${run.status}: ${run.error}`);
  return { id, name };
}

const dropConnection = (id) => api('mutation($id: ID!) { deleteConnection(id: $id) }', { id }).catch(() => {});

scenario('one-sided changes read as such and are pre-picked; only fields changed on both sides need a pick (#17.4)', ['query:conflict', 'mutation:resolveConflict'], async () => {
  const conn = await firstConnection();
  const provider = String(conn.provider).toLowerCase();
  const items = await freshItems(2);
  // Here: renamed and a new cost; upstream: a new price and another cost.
  for (const [i, it] of items.entries()) {
    await api('mutation($id: ID!, $n: String!) { updateItem(id: $id, input: { name: $n, cost: "11.11" }) { id } }', { id: it.id, n: `Renamed here ${STAMP} ${i}` });
    await sandboxControl(provider, 'PATCH', `${it.link.entityType}/${it.link.remoteId}`, { price: 333.33, cost: 44.44 });
  }
  await syncDemo('INCREMENTAL');
  const conflicts = await openConflictIds(items.map((it) => it.code));
  assert(conflicts.length === 2, `conflicts: ${JSON.stringify(conflicts)}`);
  const sides = (await api('query($id: ID!) { conflict(id: $id) { fields { field change } } }', { id: conflicts[0].id })).conflict.fields;
  assert(JSON.stringify(sides) === JSON.stringify([{ field: 'cost', change: 'BOTH' }, { field: 'name', change: 'LOCAL' }, { field: 'price', change: 'REMOTE' }]),
    `the API reports ${JSON.stringify(sides)}`);
  let n = 0;
  await atBothWidths(async (page, width) => {
    const it = items[n];
    n += 1;
    const c = conflicts.find((x) => x.item.code === it.code);
    await go(page, `/conflicts/${c.id}`);
    const table = page.getByTestId('diff-table');
    await table.waitFor();
    const conflicting = await table.locator('tr.row-diff').evaluateAll((rows) => rows.map((r) => r.dataset.field));
    assert(conflicting.join() === 'cost', `highlighted as conflicts: ${conflicting.join()}`);
    await table.locator('tr[data-field="name"]').getByText('Changed here', { exact: true }).waitFor();
    await table.locator('tr[data-field="price"]').getByText('Changed upstream', { exact: true }).waitFor();
    await table.locator('tr[data-field="cost"]').getByText('Changed on both sides', { exact: true }).waitFor();
    assert(await page.getByTestId('pick-name-LOCAL').isChecked(), 'the local-only rename is not pre-picked as local');
    assert(await page.getByTestId('pick-price-REMOTE').isChecked(), 'the upstream-only price is not pre-picked as remote');
    assert(!(await page.getByTestId('pick-cost-LOCAL').isChecked()) && !(await page.getByTestId('pick-cost-REMOTE').isChecked()), 'the real conflict is pre-picked');
    const useRemote = await page.getByTestId('use-remote').innerText();
    assert(/drops your change to name/i.test(useRemote) && !/price/i.test(useRemote), `use remote says "${useRemote}"`);
    const useLocal = await page.getByTestId('use-local').innerText();
    assert(/drops the upstream change to price/i.test(useLocal) && !/name/i.test(useLocal), `use local says "${useLocal}"`);
    await assertNoOverflow(page, `conflict with one-sided changes at ${width} px`);
    await a11y(page, 'conflict with one-sided changes');
    await page.getByRole('button', { name: 'Merge picked values' }).click();
    const alert = page.getByRole('alert').filter({ hasText: /Pick a value for/ });
    await alert.waitFor();
    const said = (await alert.innerText()).replace(/^.*Pick a value for/s, '');
    assert(/Cost/.test(said) && !/Name|Price/.test(said), `the merge asks for: ${said}`);
    await page.getByTestId('pick-cost-LOCAL').check();
    await page.getByRole('button', { name: 'Merge picked values' }).click();
    await page.getByTestId('resolved-notice').waitFor();
    const after = (await api('query($id: ID!) { item(id: $id) { name price cost } }', { id: it.id })).item;
    assert(after.name === `Renamed here ${STAMP} ${n - 1}` && sameDecimal(after.price, '333.33') && sameDecimal(after.cost, '11.11'),
      `after the merge the item is ${JSON.stringify(after)}`);
  });

  // A second connection's first sync meets an existing item with other values: FIRST_LINK.
  const [met] = await freshItems(1);
  const localName = `Named here before linking ${STAMP}`;
  await api('mutation($id: ID!, $n: String!) { updateItem(id: $id, input: { name: $n }) { id } }', { id: met.id, n: localName });
  const second = await extraConnection(`second-${STAMP}`, { startSync: true });
  try {
    const firstLink = (await api('query($c: ID) { conflicts(status: OPEN, connectionId: $c, kind: FIRST_LINK, first: 500) { edges { node { id item { code } } } } }', { c: second.id }))
      .conflicts.edges.map((e) => e.node).find((x) => x.item.code === met.code);
    assert(firstLink, `no FIRST_LINK conflict for ${met.code}`);
    await atBothWidths(async (page, width) => {
      await go(page, `/conflicts/${firstLink.id}`);
      const banner = page.getByTestId('kind-banner');
      await banner.waitFor();
      const text = await banner.innerText();
      assert(text.includes(second.name) && text.includes(met.code) && text.includes(localName), `first-link banner: ${text}`);
      assert(/first sync/i.test(text), `the banner does not say it was the first sync: ${text}`);
      assert(/Use remote/.test(await page.getByTestId('use-remote').innerText()) && /Use local/.test(await page.getByTestId('use-local').innerText()), 'first link lost its choices');
      await page.getByRole('button', { name: 'Merge picked values' }).waitFor();
      await assertNoOverflow(page, `first-link conflict at ${width} px`);
      await a11y(page, 'first-link conflict');
    });
  } finally {
    await dropConnection(second.id);
  }
  await syncDemo('INCREMENTAL');
});

scenario('health at a glance: a badge from the API, last successful sync, runs with record errors, connect (#17.6)', ['mutation:startSync', 'mutation:startOAuth'], async () => {
  const health = await extraConnection(`health-${STAMP}`, { config: { maxRetries: 0 } });
  const jobberName = `health-jobber-${STAMP}`;
  const jobber = (await api('mutation($n: String!) { createConnection(input: { name: $n, provider: JOBBER, config: { sandbox: true } }) { id } }', { n: jobberName })).createConnection.id;
  const cardOf = (page, name) => page.getByTestId('connection-card').filter({ has: page.getByRole('heading', { name, exact: true }) });
  try {
    await sandboxControl('servicetitan', 'POST', 'faults', { kind: '500', count: 1 });
    const failed = await waitForRun((await startSyncApi(health.id, 'INCREMENTAL')).id);
    assert(failed.status === 'FAILED', `expected a failed run, got ${failed.status}`);
    await atBothWidths(async (page, width) => {
      const card = cardOf(page, health.name);
      const badge = card.getByTestId('health-badge');
      await badge.waitFor();
      const said = await badge.innerText();
      assert(!/^\s*Active\s*$/.test(said) && /failed/i.test(said), `beside a failed run the badge says "${said}"`);
      assert(!(await badge.locator('.badge-ok').count()) && !/badge-ok/.test(await badge.getAttribute('class')), 'the badge is green beside a failed run');
      await card.getByTestId('last-success').filter({ hasText: /Never/ }).waitFor();
      // Before consent: Connect instead of sync buttons.
      const jcard = cardOf(page, jobberName);
      await jcard.getByTestId('health-badge').filter({ hasText: 'Not connected' }).waitFor();
      await jcard.getByRole('button', { name: 'Connect to Jobber' }).waitFor();
      assert(await jcard.getByRole('button', { name: 'Full sync' }).count() === 0, 'an unconnected Jobber offers Full sync');
      await assertNoOverflow(page, `dashboard health at ${width} px`);
      await a11y(page, 'dashboard health');
      await go(page, `/connections/${health.id}`);
      await page.getByTestId('health-badge').filter({ hasText: /failed/i }).waitFor();
      await page.getByTestId('last-success').filter({ hasText: /Never/ }).waitFor();
      await go(page, `/connections/${jobber}`);
      await page.getByTestId('health-badge').filter({ hasText: 'Not connected' }).waitFor();
      await page.getByTestId('health-notice').filter({ hasText: /Connect/ }).waitFor();
      await assertNoOverflow(page, `connection health at ${width} px`);
    });

    // A first full sync, then a run in which one record is refused upstream.
    await syncOf(health.id, 'FULL');
    const [refused] = await freshItems(1);
    await editHereRefusedThere([refused]);
    const partial = await waitForRun((await startSyncApi(health.id, 'INCREMENTAL')).id);
    await sandboxControl('servicetitan', 'DELETE', 'faults');
    const outcome = (await api('query($id: ID!) { syncRun(id: $id) { status finishedWithRecordErrors counters { errors } } }', { id: partial.id })).syncRun;
    assert(outcome.status === 'SUCCEEDED' && outcome.finishedWithRecordErrors && outcome.counters.errors === 1, `run: ${JSON.stringify(outcome)}`);
    await atBothWidths(async (page, width) => {
      const card = cardOf(page, health.name);
      const last = card.getByTestId('last-run');
      await last.filter({ hasText: 'Succeeded with 1 error' }).waitFor();
      assert(await last.locator('.badge-ok').count() === 0, 'a run with a record error is shown green');
      assert(!/Never/.test(await card.getByTestId('last-success').innerText()), 'last successful sync still says never');
      await go(page, `/runs/${partial.id}`);
      await page.getByTestId('run-page').getByText('Succeeded with 1 error').first().waitFor();
      await assertNoOverflow(page, `run with record errors at ${width} px`);
      await a11y(page, 'run with record errors');
    });

    // Consent from the dashboard card; back on the connection page it is confirmed.
    const s = await openPage();
    await signIn(s.page, ADMIN_EMAIL, ADMIN_PASSWORD);
    const backHere = s.page.waitForEvent('load', { timeout: 15000 });
    await cardOf(s.page, jobberName).getByRole('button', { name: 'Connect to Jobber' }).click();
    await backHere;
    await s.page.getByTestId('oauth-connected').filter({ hasText: /Connected to Jobber/ }).waitFor();
    await s.page.getByTestId('health-badge').filter({ hasText: 'Active' }).waitFor();
    await a11y(s.page, 'consent confirmed');
    await closeSession(s);
  } finally {
    await sandboxControl('servicetitan', 'DELETE', 'faults').catch(() => {});
    await dropConnection(health.id);
    await dropConnection(jobber);
  }
});

scenario('sync policy tab: own a field upstream, preview equals the API, save, reload (#22)', ['mutation:setConnectionPolicy', 'query:connectionPolicy', 'query:syncRun'], async () => {
  const conn = await firstConnection();
  const policyOf = async () => (await api('query($c: ID!) { connectionPolicy(connectionId: $c) { entities { entityType localEdits fields { field ownership } } } }', { c: conn.id })).connectionPolicy;
  const before = await policyOf();
  assert(!before.entities.some((e) => e.fields.some((f) => f.field === 'price')), `price already owned: ${JSON.stringify(before)}`);
  const proposed = { entities: [{ entityType: 'materials', localEdits: 'REFUSE', fields: [{ field: 'price', ownership: 'REMOTE_OWNS' }],
    filter: { activeOnly: false, categoryId: null, kinds: [], codePattern: null, changedSince: null } }] };
  const s = await openPage();
  const { page } = s;
  try {
    await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await go(page, `/connections/${conn.id}`);
    await page.getByRole('button', { name: 'Sync policy' }).click();
    const price = page.getByTestId('policy-materials-price');
    await price.waitFor();
    assert(await price.inputValue() === 'BOTH', `price starts as ${await price.inputValue()}`);
    // A refused input reads as an error with its code.
    await page.getByTestId('policy-materials-category').fill('not-a-category');
    await page.getByTestId('policy-preview-button').click();
    await page.getByTestId('policy-error').filter({ hasText: '(BAD_USER_INPUT)' }).waitFor();
    await page.getByTestId('policy-materials-category').fill('');
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'policy-tab.png'), fullPage: true });
    // Keyboard: the select is reachable and labelled by its field.
    await page.getByLabel('Price').first().focus();
    await price.selectOption('REMOTE_OWNS');
    const save = page.getByTestId('policy-save');
    assert(await save.isDisabled(), 'Save is enabled before any preview');
    await page.getByTestId('policy-preview-button').click();
    const shown = page.getByTestId('policy-preview');
    await shown.and(page.locator('[data-status="SUCCEEDED"]')).waitFor({ timeout: SYNC_TIMEOUT });
    const counters = page.getByTestId('policy-preview-counters');
    await counters.waitFor();
    const names = await textsOf(counters.locator('dt'));
    const values = (await textsOf(counters.locator('dd'))).map((v) => Number(v.replace(/\D/g, '')));
    const ui = Object.fromEntries(names.map((n, i) => [n.toLowerCase(), values[i]]));
    await a11y(page, 'policy preview');
    // The same preview through the API answers the same numbers.
    const run = (await api(`mutation($c: ID!, $i: ConnectionPolicyInput!) { setConnectionPolicy(connectionId: $c, input: $i, preview: true) {
      applied preview { id } } }`, { c: conn.id, i: proposed })).setConnectionPolicy;
    assert(run.applied === false && run.preview, `API preview: ${JSON.stringify(run)}`);
    const done = await waitForRun(run.preview.id);
    assert(done.status === 'SUCCEEDED', `API preview ended ${done.status}`);
    const c = (await api('query($id: ID!) { syncRun(id: $id) { dryRun counters { fetched created updated deleted pushed conflicts skipped errors } } }', { id: run.preview.id })).syncRun;
    assert(c.dryRun, 'the API preview is not a dry run');
    const apiCounters = Object.fromEntries(Object.entries(c.counters).map(([k, v]) => [k, v]));
    assert(JSON.stringify(Object.keys(apiCounters).sort()) === JSON.stringify(Object.keys(ui).sort()), `shown counters ${JSON.stringify(ui)}, API ${JSON.stringify(apiCounters)}`);
    for (const [k, v] of Object.entries(apiCounters)) assert(ui[k] === v, `preview ${k}: shown ${ui[k]}, API ${v}`);
    assert(apiCounters.fetched > 0, `the preview fetched nothing: ${JSON.stringify(apiCounters)}`);
    // Still nothing saved; Save follows the preview of these edits, and an edit after it needs another.
    assert(JSON.stringify(await policyOf()) === JSON.stringify(before), 'a preview saved the policy');
    assert(!(await save.isDisabled()), 'Save stays disabled after the preview');
    await page.getByTestId('policy-materials-cost').selectOption('LOCAL_OWNS');
    assert(await save.isDisabled(), 'Save is enabled for edits that were not previewed');
    await page.getByTestId('policy-materials-cost').selectOption('BOTH');
    assert(!(await save.isDisabled()), 'Save is disabled for the previewed edits');
    await save.focus();
    await page.keyboard.press('Enter');
    await expectToast(page, /Sync policy saved/);
    const after = await policyOf();
    assert(JSON.stringify(after.entities) === JSON.stringify([{ entityType: 'materials', localEdits: 'REFUSE', fields: [{ field: 'price', ownership: 'REMOTE_OWNS' }] }]),
      `saved: ${JSON.stringify(after)}`);
    await page.reload();
    await page.getByTestId('policy-materials-price').waitFor();
    assert(await page.getByTestId('policy-materials-price').inputValue() === 'REMOTE_OWNS', 'REMOTE_OWNS did not persist across a reload');
    await assertNoOverflow(page, 'policy tab');
    await a11y(page, 'policy tab after reload');
    // A viewer (on a phone-sized window) reads the same policy and cannot change it.
    const v = await openPage({ width: 375, height: 812 });
    await signIn(v.page, VIEWER_EMAIL, VIEWER_PASSWORD);
    await go(v.page, `/connections/${conn.id}?tab=policy`);
    const vprice = v.page.getByTestId('policy-materials-price');
    await vprice.waitFor();
    assert(await vprice.inputValue() === 'REMOTE_OWNS' && await vprice.isDisabled(), 'a viewer can edit the policy');
    assert(await v.page.getByTestId('policy-save').count() === 0, 'a viewer is offered Save');
    await v.page.getByText('Only admins change the sync policy.').waitFor();
    await assertNoOverflow(v.page, 'policy tab at 375 px');
    await closeSession(v);
  } finally {
    // Later scenarios edit prices here: put the policy back.
    await api('mutation($c: ID!) { setConnectionPolicy(connectionId: $c, input: { entities: [] }) { applied } }', { c: conn.id }).catch(() => {});
  }
});

/** A webhook receiver on a free port: every POST it gets, with headers and raw body. */
async function startReceiver() {
  const http = await import('node:http');
  const got = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { got.push({ headers: req.headers, body }); res.writeHead(200).end('ok'); });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { got, url: `http://127.0.0.1:${server.address().port}/hooks/T0/B0/ui-s3cret`, close: () => server.close() };
}

scenario('alerts: add a webhook, the secret shown once, a signed test alert arrives, delete (#21)', ['query:alertTargets', 'mutation:createAlertTarget'], async () => {
  const crypto = await import('node:crypto');
  const receiver = await startReceiver();
  const name = `ops-${STAMP}`;
  try {
    const s = await openPage();
    const { page } = s;
    await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await go(page, '/alerts');
    await page.getByRole('heading', { level: 1, name: 'Alerts' }).waitFor();
    await page.getByTestId('alert-name').fill(name);
    await page.getByTestId('alert-url').fill(receiver.url);
    await page.getByTestId('alert-event-CONFLICTS_WAITING').uncheck();
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await expectToast(page, new RegExp(`Added alert target “${name}”`));
    const secret = (await page.getByTestId('alert-secret-value').innerText()).trim();
    assert(/^whsec_[0-9a-f]{64}$/.test(secret), `secret shown: ${secret}`);
    await a11y(page, 'alert secret shown');
    const row = page.locator(`[data-testid="alert-target-row"][data-name="${name}"]`);
    await row.waitFor();
    const shown = await row.innerText();
    assert(!shown.includes('ui-s3cret'), `the URL path is hidden: ${shown}`);
    const listed = (await api('{ alertTargets { id name events } }')).alertTargets.find((t) => t.name === name);
    assert(listed && JSON.stringify(listed.events) === '["CONNECTION_HEALTH"]', `stored as ${JSON.stringify(listed)}`);
    // Dismissed, the secret is gone from the page for good.
    await page.getByRole('button', { name: 'I have copied it' }).click();
    assert(await page.getByTestId('alert-secret').count() === 0, 'the secret is still shown');

    await row.getByRole('button', { name: `Send test alert to ${name}` }).click();
    await expectToast(page, /Test alert queued/);
    const deadline = Date.now() + 20000;
    while (!receiver.got.length && Date.now() < deadline) await page.waitForTimeout(200);
    assert(receiver.got.length === 1, `the receiver got ${receiver.got.length} requests`);
    const [hit] = receiver.got;
    const parts = Object.fromEntries(hit.headers['x-pricebook-signature'].split(',').map((p) => p.split('=')));
    const expected = crypto.createHmac('sha256', secret).update(`${parts.t}.${hit.body}`).digest('hex');
    assert(parts.sha256 === expected, 'the signature verifies with the secret the page showed');
    assert(JSON.parse(hit.body).event === 'test', `body: ${hit.body}`);
    // The delivery log says it was delivered.
    const log = page.getByTestId('alert-deliveries');
    const delivered = log.locator('tr[data-event="test"][data-status="DELIVERED"]');
    for (let i = 0; i < 20 && !(await delivered.count()); i += 1) {
      await page.getByRole('button', { name: 'Refresh' }).click();
      await page.waitForTimeout(300);
    }
    assert(await delivered.count() >= 1, 'the delivery log shows the test alert delivered');

    await row.getByRole('button', { name: `Delete alert target ${name}` }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Delete alert target' }).click();
    await expectToast(page, /Deleted alert target/);
    await row.waitFor({ state: 'detached' });
    const still = (await api('{ alertTargets { name } }')).alertTargets.some((t) => t.name === name);
    assert(!still, 'the target still exists in the API');
  } finally {
    receiver.close();
  }
});

async function syncOf(connectionId, mode) {
  const run = await waitForRun((await startSyncApi(connectionId, mode)).id);
  assert(run.status === 'SUCCEEDED', `${mode} sync ended ${run.status}: ${run.error}`);
}

async function recoveriesScenario() {
  const name = `ui-amazon-${STAMP}`;
  const created = await api(`mutation($n: String!) { createConnection(input: { name: $n, provider: AMAZON, startSync: false,
    config: { sandbox: true, reportAlignMinutes: 0, reportPollMs: 50, financesLookbackDays: 100 } }) { id } }`, { n: name });
  const id = created.createConnection.id;
  const claimsOf = async (status) => (await api(`query($c: ID!, $s: ClaimStatus) { amazonClaims(connectionId: $c, status: $s, first: 500) {
    totalCount edges { node { id status caseId } } } }`, { c: id, s: status })).amazonClaims;
  try {
    const s = await openPage();
    const { page } = s;
    await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await page.getByRole('link', { name: 'Recoveries' }).first().waitFor();
    await go(page, `/recoveries?connectionId=${id}`);
    await page.getByTestId('recoveries-page').waitFor();
    // Nothing pulled yet: the screen's request queued the sync and follows it.
    await page.getByTestId('recoveries-syncing').or(page.getByTestId('claim-row').first()).first().waitFor({ timeout: SYNC_TIMEOUT });
    await page.getByTestId('claim-row').first().waitFor({ timeout: SYNC_TIMEOUT });
    const runs = (await api('query($c: ID!) { syncRuns(connectionId: $c) { totalCount } }', { c: id })).syncRuns.totalCount;
    assert(runs === 1, `expected the one run the screen started, found ${runs}`);
    const claimable = await page.getByTestId('claimable-total').innerText();
    assert(/\$[1-9]/.test(claimable), `claimable value is ${claimable}`);
    const before = await claimsOf('DETECTED');
    assert(before.totalCount >= 2, `expected detected claims, got ${before.totalCount}`);

    const first = page.getByTestId('claim-row').first();
    await first.getByTestId('claim-evidence').locator('summary').click();
    await first.getByTestId('claim-evidence').locator('tbody tr').first().waitFor();
    const filedId = await first.getAttribute('data-claim-id');
    await first.getByRole('button', { name: 'Mark filed' }).click();
    await page.getByTestId('claim-case-id').fill(`CASE-${STAMP}`);
    await page.getByRole('dialog').getByRole('button', { name: 'Mark filed' }).click();
    await expectToast(page, /marked filed/);
    const row2 = page.locator(`[data-testid="claim-row"]:not([data-claim-id="${filedId}"])`).first();
    await row2.waitFor();
    const dismissedId = await row2.getAttribute('data-claim-id');
    await row2.getByRole('button', { name: 'Dismiss' }).click();
    await expectToast(page, /dismissed/);
    const filed = (await claimsOf('FILED')).edges.map((e) => e.node);
    assert(filed.some((c) => c.id === filedId && c.caseId === `CASE-${STAMP}`), `claim ${filedId} is not filed: ${JSON.stringify(filed)}`);
    assert((await claimsOf('DISMISSED')).edges.some((e) => e.node.id === dismissedId), `claim ${dismissedId} is not dismissed`);

    const detected = await claimsOf('DETECTED');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="claim-row"]').length === Math.min(n, 25), detected.totalCount);
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('claims-export').click()]);
    const csv = fs.readFileSync(await dl.path(), 'utf8').trim().split(/\r?\n/);
    assert(csv[0].startsWith('id,kind,status,sku'), `CSV header is ${csv[0]}`);
    assert(csv.length === detected.totalCount + 1, `CSV has ${csv.length - 1} claims, ${detected.totalCount} are detected`);
    assert(csv.slice(1).every((l) => l.includes(',DETECTED,')), 'the export holds other statuses');
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, '1280-recoveries.png'), fullPage: true });

    // Viewers see the claims, not the case work.
    const v = await openPage();
    await signIn(v.page, VIEWER_EMAIL, VIEWER_PASSWORD);
    await go(v.page, `/recoveries?connectionId=${id}`);
    await v.page.getByTestId('claim-row').first().waitFor();
    assert(await v.page.getByRole('button', { name: 'Mark filed' }).count() === 0, 'a viewer can file claims');
  } finally {
    await api('mutation($id: ID!) { deleteConnection(id: $id) }', { id }).catch(() => {});
  }
}

scenario('Amazon recoveries: sync on first view, evidence, file, dismiss, export', ['query:amazonRecoveries'], recoveriesScenario);

// ---------------------------------------------------------------- runner

async function closeSession(s) {
  if (s.closed) return;
  s.closed = true;
  await s.context.close().catch(() => {});
}

async function ensureViewer() {
  if (VIEWER_EMAIL && VIEWER_PASSWORD) return;
  VIEWER_EMAIL = `ui-viewer-${STAMP}@example.com`;
  VIEWER_PASSWORD = `viewer-${STAMP}-pw`;
  await api('mutation($e: String!, $p: String!) { createUser(email: $e, password: $p, role: VIEWER) { id } }', { e: VIEWER_EMAIL, p: VIEWER_PASSWORD });
}

function missingNeeds(caps, needs) {
  return needs.filter((n) => {
    const [root, field] = n.split(':');
    return !caps[root].has(field);
  });
}

async function main() {
  console.log(`# admin UI tests against ${BASE_URL}; screenshots in ${SCREENSHOT_DIR}`);
  adminToken = await login(ADMIN_EMAIL, ADMIN_PASSWORD);
  const caps = await rootFields();
  await ensureViewer();
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: LAUNCH_ARGS });
  let failed = 0;
  let passed = 0;
  let skipped = 0;
  for (const sc of scenarios) {
    if (ONLY.length && !ONLY.some((o) => sc.name.includes(o))) continue;
    const missing = missingNeeds(caps, sc.needs);
    if (missing.length) {
      console.log(`skip ${sc.name}: the server has no ${missing.join(', ')}`);
      skipped += 1;
      continue;
    }
    const started = Date.now();
    sessions = [];
    try {
      await sc.fn(caps);
      const live = sessions.filter((y) => !y.closed && !y.page.isClosed());
      await live.at(-1)?.page.waitForTimeout(200);
      for (const x of live) {
        await settle(x.page);
        await a11y(x.page, 'end of scenario');
      }
      const errors = sessions.flatMap((x) => x.errors);
      if (errors.length) throw new Error(`browser reported: ${errors.join(' | ')}`);
      console.log(`ok ${sc.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      passed += 1;
    } catch (e) {
      failed += 1;
      const msg = String(e?.message || e).split('\n')[0];
      console.log(`FAIL ${sc.name}: ${msg}`);
      const page = (failedPage || sessions.at(-1)?.page);
      failedPage = null;
      if (page && !page.isClosed()) {
        fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
        await page.screenshot({ path: path.join(SCREENSHOT_DIR, `failed-${sc.name.replace(/\W+/g, '-')}.png`), fullPage: true }).catch(() => {});
      }
    } finally {
      for (const x of sessions) await closeSession(x);
    }
  }
  await browser.close();
  console.log(`# ${passed} passed, ${failed} failed, ${skipped} skipped; ${a11yChecks} axe checks`);
  process.exit(failed ? 1 : 0);
}

main().catch(async (e) => {
  console.log(`FAIL setup: ${e?.message || e}`);
  await browser?.close().catch(() => {});
  process.exit(1);
});
