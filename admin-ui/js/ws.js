// Subscriptions over one shared WebSocket (graphql-transport-ws), opened on demand,
// re-opened with back-off while anyone listens, closed shortly after the last one leaves.

import { currentToken, clearSession, onSessionChange, EXPIRED_MESSAGE } from './session.js';

const subs = new Map(); // id -> { payload, sink }
let socket = null;
let ready = false;
let nextId = 1;
let retries = 0;
let retryTimer = null;
let idleTimer = null;

function wsUrl() {
  const u = new URL('graphql/ws', document.baseURI);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.href;
}

function send(msg) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(msg));
}

function open() {
  const token = currentToken();
  if (!token) {
    failAll({ message: EXPIRED_MESSAGE, code: 'UNAUTHENTICATED' });
    return;
  }
  ready = false;
  const ws = new WebSocket(wsUrl(), 'graphql-transport-ws');
  socket = ws;
  ws.onopen = () => send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
  ws.onmessage = (ev) => {
    let msg;
    try { msg = JSON.parse(ev.data); } catch { return; }
    const sub = msg.id ? subs.get(msg.id) : null;
    switch (msg.type) {
      case 'connection_ack':
        ready = true;
        retries = 0;
        for (const [id, s] of subs) send({ id, type: 'subscribe', payload: s.payload });
        break;
      case 'ping':
        send({ type: 'pong' });
        break;
      case 'next':
        if (sub) sub.sink.next?.(msg.payload);
        break;
      case 'error':
        if (sub) {
          subs.delete(msg.id);
          const e = Array.isArray(msg.payload) ? msg.payload[0] : msg.payload;
          sub.sink.error?.({ message: e?.message || 'subscription failed', code: e?.extensions?.code });
        }
        break;
      case 'complete':
        if (sub) {
          subs.delete(msg.id);
          sub.sink.complete?.();
        }
        break;
      default:
        break;
    }
  };
  ws.onclose = (ev) => {
    if (socket !== ws) return;
    socket = null;
    ready = false;
    if (ev.code === 4401 || ev.code === 4403) {
      failAll({ message: EXPIRED_MESSAGE, code: 'UNAUTHENTICATED' });
      clearSession(EXPIRED_MESSAGE);
      return;
    }
    if (subs.size === 0) return;
    for (const s of subs.values()) s.sink.reconnecting?.();
    const delay = Math.min(30000, 500 * 2 ** retries) * (0.75 + Math.random() / 2);
    retries += 1;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => { if (subs.size && !socket) open(); }, delay);
  };
}

function failAll(error) {
  const all = [...subs.values()];
  subs.clear();
  for (const s of all) s.sink.error?.(error);
}

function closeSoon() {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    if (subs.size === 0 && socket) {
      const ws = socket;
      socket = null;
      ready = false;
      ws.close(1000, 'idle');
    }
  }, 1500);
}

/**
 * Starts a subscription. `sink` gets next(payload {data, errors}), error({message, code}),
 * complete(), and reconnecting(). Returns a function that stops it.
 */
export function subscribe(query, variables, sink) {
  const id = String(nextId++);
  const payload = { query, variables };
  subs.set(id, { payload, sink });
  clearTimeout(idleTimer);
  if (!socket) open();
  else if (ready) send({ id, type: 'subscribe', payload });
  return () => {
    if (!subs.has(id)) return;
    subs.delete(id);
    if (ready) send({ id, type: 'complete' });
    if (subs.size === 0) closeSoon();
  };
}

// Signed out or expired: close the socket. Subscriptions stay registered (their screens
// unmount on sign-out, which stops them); after signing in again they resume.
onSessionChange((session) => {
  clearTimeout(retryTimer);
  if (session) {
    if (subs.size && !socket) open();
    return;
  }
  if (socket) {
    const ws = socket;
    socket = null;
    ready = false;
    ws.close(1000, 'signed out');
  }
});
