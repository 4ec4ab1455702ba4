// GraphQL over HTTP: JSON requests and multipart uploads, errors carrying `extensions.code`.

import { currentToken, clearSession, EXPIRED_MESSAGE } from './session.js';
import { summarizeError } from './format.js';

export const GRAPHQL_URL = () => new URL('graphql', document.baseURI).href;

export class ApiError extends Error {
  constructor(message, code, { errors = [], extensions = {}, data = null } = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.errors = errors;
    this.extensions = extensions;
    this.data = data;
  }
}

const FRIENDLY = {
  NETWORK: 'Cannot reach the server. Check your connection and try again.',
  FORBIDDEN: 'You do not have permission to do that.',
  RATE_LIMITED: 'Too many attempts. Wait a moment and try again.',
  INTERNAL: 'The server hit an internal error. Try again; if it keeps happening, check the server log.',
};

function rawMessage(err) {
  if (!err) return '';
  if (err instanceof ApiError && (err.code === 'NETWORK' || err.code === 'INTERNAL')) return FRIENDLY[err.code];
  return typeof err === 'string' ? err : (err.message || (err instanceof ApiError && FRIENDLY[err.code]) || String(err));
}

/** A message fit for a person, from any error: one line (status and title), never raw JSON. */
export function describeError(err) {
  if (!err) return '';
  return summarizeError(rawMessage(err)).line || 'Something went wrong.';
}

/** The raw text behind describeError's line, when the line left something out (else null). */
export function errorDetail(err) {
  return err ? summarizeError(rawMessage(err)).detail : null;
}

function authHeaders(auth) {
  if (!auth) return {};
  const token = currentToken();
  if (!token) throw new ApiError(EXPIRED_MESSAGE, 'UNAUTHENTICATED');
  return { authorization: `Bearer ${token}` };
}

// A `503` with `RATE_LIMITED` is the server's admission control refusing a request before
// running it, so sending it again is safe, mutations included: the page waits the
// `Retry-After` it was given (bounded) a few times before it shows the error.
const BUSY_RETRIES = 4;
const BUSY_WAIT_MAX_MS = 5000;

function busyWaitMs(response) {
  const seconds = Number(response.headers.get('retry-after'));
  return Math.min(Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1000, BUSY_WAIT_MAX_MS);
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new DOMException('Aborted', 'AbortError'));
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason ?? new DOMException('Aborted', 'AbortError'));
    }, { once: true });
  });
}

async function fetchBody(init) {
  let response;
  try {
    response = await fetch(GRAPHQL_URL(), init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(FRIENDLY.NETWORK, 'NETWORK');
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`The server answered ${response.status} without a GraphQL body.`, `HTTP_${response.status}`);
  }
  return { response, body };
}

async function send(init, auth) {
  let { response, body } = await fetchBody(init);
  for (let retry = 0; retry < BUSY_RETRIES && response.status === 503
    && body?.errors?.[0]?.extensions?.code === 'RATE_LIMITED'; retry += 1) {
    await sleep(busyWaitMs(response), init.signal);
    ({ response, body } = await fetchBody(init));
  }
  if (body.errors && body.errors.length) {
    const first = body.errors[0];
    const code = first.extensions?.code || (response.ok ? 'GRAPHQL_ERROR' : `HTTP_${response.status}`);
    if (code === 'UNAUTHENTICATED' && auth) {
      clearSession(EXPIRED_MESSAGE);
    }
    throw new ApiError(first.message, code, {
      errors: body.errors, extensions: first.extensions || {}, data: body.data ?? null,
    });
  }
  if (!response.ok) throw new ApiError(`The server answered ${response.status}.`, `HTTP_${response.status}`);
  return body.data;
}

/** Runs a query or mutation; resolves to `data`, rejects with ApiError. */
export async function gql(query, variables = {}, { auth = true, signal } = {}) {
  const headers = { 'content-type': 'application/json', accept: 'application/json', ...authHeaders(auth) };
  return send({ method: 'POST', headers, body: JSON.stringify({ query, variables }), signal }, auth);
}

/**
 * A mutation with files, per the GraphQL multipart request spec:
 * `files` maps a variable path (e.g. "file") to a File; those variables are sent as null.
 */
export async function gqlUpload(query, variables, files, { signal } = {}) {
  const vars = { ...variables };
  const map = {};
  const form = new FormData();
  Object.keys(files).forEach((path, i) => {
    vars[path] = null;
    map[String(i)] = [`variables.${path}`];
  });
  form.append('operations', JSON.stringify({ query, variables: vars }));
  form.append('map', JSON.stringify(map));
  Object.values(files).forEach((file, i) => form.append(String(i), file, file.name));
  // multipart/form-data needs no CORS preflight, so the server asks for this header to
  // tell an upload from this page apart from a cross-site form post (CSRF prevention).
  const headers = { accept: 'application/json', 'x-pricebook-csrf': '1', ...authHeaders(true) };
  return send({ method: 'POST', headers, body: form, signal }, true);
}
