// Drives a running pricebook-sync with the ecosystem's own stock clients — no client code
// of this project — the way Retool, GraphiQL, codegen, Apollo/urql, a browser EventSource
// and Prometheus would. Started by tests/api/conformance.rs; runs alone too:
//
//   BASE_URL=http://127.0.0.1:8080 TOKEN=<jwt> RUN_ID=<finished run> node tests/ui/conformance.mjs
//
// Optional: CORS_ORIGIN_PORT (a port whose origin the server allows, for a real browser's
// cross-origin call), CHROMIUM_PATH (for that and for GraphiQL offline), INIT_TIMEOUT_S
// and KEEPALIVE_S (the server's graphql-transport-ws settings).
// Prints `ok <check>` / `skip <check>: why` / `FAIL <check>: why`; exits 1 on any failure.

import { getIntrospectionQuery, buildClientSchema, printSchema } from 'graphql';
import { auditServer } from 'graphql-http';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { EventSource } from 'eventsource';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import http from 'node:http';
import fs from 'node:fs';

const BASE = (process.env.BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
const TOKEN = process.env.TOKEN;
const RUN_ID = process.env.RUN_ID;
const WS_URL = BASE.replace(/^http/, 'ws') + '/graphql/ws';
const INIT_TIMEOUT_S = Number(process.env.INIT_TIMEOUT_S || 10);
const KEEPALIVE_S = Number(process.env.KEEPALIVE_S || 15);
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

let failed = 0;
async function check(name, fn) {
  try {
    const note = await fn();
    if (typeof note === 'string' && note.startsWith('skip:')) console.log(`skip ${name}: ${note.slice(5).trim()}`);
    else console.log(`ok ${name}${note ? ` (${note})` : ''}`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message);
}
const withTimeout = (promise, ms, what) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms))]);

async function gql(query, variables = {}, token = TOKEN) {
  const r = await fetch(`${BASE}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return r.json();
}

assert(TOKEN && RUN_ID, 'TOKEN and RUN_ID are required');

// --- graphql-js: the introspection every tool sends, with and without its options -------
for (const [label, options] of [
  ['defaults', undefined],
  ['all options', { descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true, oneOf: true }],
]) {
  await check(`graphql-js getIntrospectionQuery (${label}) builds a client schema`, async () => {
    const body = await gql(getIntrospectionQuery(options));
    assert(!body.errors, JSON.stringify(body.errors));
    const schema = buildClientSchema(body.data);
    const sdl = printSchema(schema);
    assert(sdl.includes('syncProgress'), 'schema without syncProgress');
    return `${Object.keys(schema.getTypeMap()).length} types`;
  });
}

// --- graphql-http: the GraphQL-over-HTTP audit ---------------------------------------------
await check('graphql-http audit: every audit ok (no error, warning or notice)', async () => {
  const fetchFn = (input, init = {}) => {
    const headers = new Headers(init.headers || {});
    headers.set('authorization', `Bearer ${TOKEN}`);
    return fetch(input, { ...init, headers });
  };
  const results = await auditServer({ url: `${BASE}/graphql`, fetchFn });
  const bad = results.filter((r) => r.status !== 'ok');
  assert(bad.length === 0, bad.map((r) => `${r.status} ${r.id} ${r.name}: ${r.reason}`).join('\n'));
  return `${results.length} audits`;
});

// --- graphql-ws: the stock client, subscriptions, pings, close codes -------------------------
function wsClient(connectionParams, extra = {}) {
  return createClient({ url: WS_URL, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: false, ...extra });
}
function closeCodeOf(client) {
  return new Promise((resolve) => client.on('closed', (event) => resolve(event.code)));
}

await check('graphql-ws client: syncProgress streams the run and completes', async () => {
  const client = wsClient({ authorization: `Bearer ${TOKEN}` });
  const results = [];
  await withTimeout(
    new Promise((resolve, reject) => {
      client.subscribe(
        { query: 'subscription($id: ID!) { syncProgress(runId: $id) { id status progress } }', variables: { id: RUN_ID } },
        { next: (r) => results.push(r), error: reject, complete: resolve },
      );
    }),
    10000,
    'syncProgress',
  );
  await client.dispose();
  assert(results.length >= 1, 'no result');
  const last = results[results.length - 1];
  assert(!last.errors, JSON.stringify(last.errors));
  assert(last.data.syncProgress.id === String(RUN_ID), JSON.stringify(last));
  return `${results.length} result(s), last ${last.data.syncProgress.status}`;
});

await check('graphql-ws client: queries too, and server pings answered by the client', async () => {
  let serverPings = 0;
  const client = wsClient({ authorization: `Bearer ${TOKEN}` }, {
    keepAlive: 500, // the client's own pings: the server must pong or the client closes 4504
    on: { ping: (received) => { if (received) serverPings += 1; } },
  });
  const result = await withTimeout(
    new Promise((resolve, reject) => {
      let value;
      client.subscribe({ query: '{ me { email } }' }, { next: (r) => (value = r), error: reject, complete: () => resolve(value) });
    }),
    10000,
    'query over ws',
  );
  assert(result.data && result.data.me.email, JSON.stringify(result));
  await new Promise((r) => setTimeout(r, (KEEPALIVE_S + 1) * 1000));
  await client.dispose();
  assert(serverPings >= 1, `no server ping within ${KEEPALIVE_S + 1} s`);
  return `${serverPings} server ping(s)`;
});

await check('graphql-ws client: a refused connection_init closes 4403', async () => {
  const client = wsClient({ authorization: 'Bearer not-a-token' });
  const code = await withTimeout(closeCodeOf(client), 5000, 'close');
  client.subscribe({ query: '{ __typename }' }, { next() {}, error() {}, complete() {} });
  assert(code === 4403, `closed with ${code}`);
});

await check('graphql-ws client: a duplicate operation id closes 4409', async () => {
  const client = wsClient({ authorization: `Bearer ${TOKEN}` }, { generateID: () => 'same-id' });
  const closed = closeCodeOf(client);
  const sink = { next() {}, error() {}, complete() {} };
  client.subscribe({ query: 'subscription { heartbeat(seconds: 60) }' }, sink);
  client.subscribe({ query: 'subscription { heartbeat(seconds: 60) }' }, sink);
  const code = await withTimeout(closed, 5000, 'close');
  assert(code === 4409, `closed with ${code}`);
});

function rawSocket() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(WS_URL, 'graphql-transport-ws');
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}
const closeOf = (ws) => new Promise((resolve) => ws.once('close', (code) => resolve(code)));

await check('WebSocket: subscribe before connection_init closes 4401', async () => {
  const ws = await rawSocket();
  const closed = closeOf(ws);
  ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ __typename }' } }));
  const code = await withTimeout(closed, 5000, 'close');
  assert(code === 4401, `closed with ${code}`);
});

await check('WebSocket: a second connection_init closes 4429', async () => {
  const ws = await rawSocket();
  const closed = closeOf(ws);
  const init = JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${TOKEN}` } });
  ws.send(init);
  ws.send(init);
  const code = await withTimeout(closed, 5000, 'close');
  assert(code === 4429, `closed with ${code}`);
});

await check('WebSocket: an invalid message closes 4400', async () => {
  const ws = await rawSocket();
  const closed = closeOf(ws);
  ws.send(JSON.stringify({ type: 'no-such-type' }));
  const code = await withTimeout(closed, 5000, 'close');
  assert(code === 4400, `closed with ${code}`);
});

await check('WebSocket: no connection_init closes 4408 after the timeout', async () => {
  const ws = await rawSocket();
  const started = Date.now();
  const code = await withTimeout(closeOf(ws), (INIT_TIMEOUT_S + 3) * 1000, 'close');
  assert(code === 4408, `closed with ${code}`);
  return `after ${((Date.now() - started) / 1000).toFixed(1)} s`;
});

// --- EventSource: a browser's SSE client, with a ticket instead of a header ------------------
await check('EventSource: follows a run with a ticket, gets finished once, then stops', async () => {
  const ticket = await gql('mutation($r: ID!) { createRunEventsTicket(runId: $r) { url } }', { r: RUN_ID });
  assert(!ticket.errors, JSON.stringify(ticket.errors));
  const es = new EventSource(ticket.data.createRunEventsTicket.url);
  let opens = 0;
  const finished = [];
  es.onopen = () => (opens += 1);
  es.addEventListener('finished', (e) => finished.push(JSON.parse(e.data)));
  // The stream ends after `finished`; the client reconnects after `retry:` (3 s) with
  // Last-Event-ID, gets 204 and must give up for good (readyState CLOSED).
  const deadline = Date.now() + 10000;
  while (es.readyState !== EventSource.CLOSED && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const state = es.readyState;
  es.close();
  assert(state === EventSource.CLOSED, `still ${state === 0 ? 'connecting' : 'open'} after 10 s`);
  assert(finished.length === 1, `${finished.length} finished events`);
  assert(String(finished[0].id) === String(RUN_ID), JSON.stringify(finished[0]));
  return `${opens} connection(s)`;
});

// --- Prometheus: the text format, parsed ----------------------------------------------------
await check('Prometheus text format parses; every family has HELP and TYPE; process_* present', async () => {
  const r = await fetch(`${BASE}/metrics`);
  assert(r.ok, `HTTP ${r.status}`);
  assert((r.headers.get('content-type') || '').startsWith('text/plain'), r.headers.get('content-type'));
  const families = parsePrometheusTextFormat(await r.text());
  const missing = families.filter((f) => !f.help || !f.type).map((f) => f.name);
  assert(missing.length === 0, `no HELP/TYPE: ${missing.join(', ')}`);
  for (const name of ['http_requests_total', 'process_resident_memory_bytes', 'process_cpu_seconds_total']) {
    assert(families.some((f) => f.name === name), `no ${name}`);
  }
  return `${families.length} families`;
});

// --- CORS: a preflight as a browser sends it, and a real cross-origin call -------------------
const corsPort = process.env.CORS_ORIGIN_PORT;
const corsOrigin = corsPort ? `http://127.0.0.1:${corsPort}` : null;
await check('CORS preflight for /graphql, /graphql/ws and the SSE route', async () => {
  if (!corsOrigin) return 'skip: CORS_ORIGIN_PORT not set';
  for (const path of ['/graphql', '/graphql/ws', `/api/sync/runs/${RUN_ID}/events`]) {
    const headers = await new Promise((resolve, reject) => {
      const req = http.request(`${BASE}${path}`, {
        method: 'OPTIONS',
        headers: { origin: corsOrigin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      }, (res) => { res.resume(); resolve({ status: res.statusCode, ...res.headers }); });
      req.on('error', reject);
      req.end();
    });
    assert(headers.status >= 200 && headers.status < 300, `${path}: HTTP ${headers.status}`);
    assert(headers['access-control-allow-origin'] === corsOrigin, `${path}: ${JSON.stringify(headers)}`);
    assert(/authorization/i.test(headers['access-control-allow-headers'] || ''), `${path}: ${JSON.stringify(headers)}`);
  }
});

const chromium = fs.existsSync(CHROMIUM) ? CHROMIUM : null;
let browser = null;
if (chromium) {
  const { chromium: pw } = await import('playwright-core');
  browser = await pw.launch({ executablePath: chromium, args: ['--no-sandbox'] });
}

await check('CORS: a page on another origin calls /graphql from a real browser', async () => {
  if (!corsOrigin) return 'skip: CORS_ORIGIN_PORT not set';
  if (!browser) return `skip: no Chromium at ${CHROMIUM}`;
  const server = http.createServer((_, res) => { res.setHeader('content-type', 'text/html'); res.end('<!doctype html><title>dashboard</title>'); });
  await new Promise((r) => server.listen(Number(corsPort), '127.0.0.1', r));
  try {
    const page = await browser.newPage();
    await page.goto(`${corsOrigin}/`);
    const answer = await page.evaluate(async ({ base, token }) => {
      const r = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ me { email } }' }),
      });
      return r.json();
    }, { base: BASE, token: TOKEN });
    assert(answer.data && answer.data.me.email, JSON.stringify(answer));
    await page.close();
  } finally {
    server.close();
  }
});

await check('GraphiQL works offline from the binary', async () => {
  if (!browser) return `skip: no Chromium at ${CHROMIUM}`;
  const page = await browser.newPage();
  const outside = [];
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // Nothing but this server may be reached: a CDN request fails (and is recorded).
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(BASE) || url.startsWith('data:')) return route.continue();
    outside.push(url);
    return route.abort();
  });
  const me = await gql('{ me { id email role } }');
  await page.goto(`${BASE}/`);
  await page.evaluate(({ token, user }) => {
    sessionStorage.setItem('pricebook.session', JSON.stringify({ token, expiresAt: new Date(Date.now() + 3600e3).toISOString(), user }));
    localStorage.removeItem('graphiql:headers');
  }, { token: TOKEN, user: me.data.me });
  await page.goto(`${BASE}/graphql`);
  await page.waitForSelector('.graphiql-container', { timeout: 15000 });
  await page.click('.graphiql-execute-button');
  await page.waitForFunction(
    (email) => (document.querySelector('.result-window') || {}).textContent?.includes(email),
    me.data.me.email,
    { timeout: 15000 },
  );
  await page.close();
  assert(outside.length === 0, `requests outside the server: ${outside.join(', ')}`);
  assert(errors.length === 0, errors.join('\n'));
});

if (browser) await browser.close();
console.log(failed ? `${failed} check(s) failed` : 'all checks passed');
process.exit(failed ? 1 : 0);
