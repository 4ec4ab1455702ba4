// The signed-in session: JWT, its expiry and the user, kept in sessionStorage (per tab).

const KEY = 'pricebook.session';
const EMAIL_KEY = 'pricebook.email';
const listeners = new Set();

export const EXPIRED_MESSAGE = 'Your session expired, sign in again';

export function getSession() {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw);
    return s && typeof s.token === 'string' ? s : null;
  } catch {
    return null;
  }
}

export function isExpired(session) {
  if (!session) return true;
  const at = Date.parse(session.expiresAt);
  return Number.isFinite(at) && at <= Date.now();
}

export function setSession({ token, expiresAt, user }) {
  const session = { token, expiresAt, user: { ...user, role: String(user.role).toUpperCase() } };
  sessionStorage.setItem(KEY, JSON.stringify(session));
  try { localStorage.setItem(EMAIL_KEY, session.user.email); } catch { /* storage off: type it again */ }
  notify(session, null);
  return session;
}

/** The email of the last sign-in on this browser, to fill the sign-in form. */
export function lastEmail() {
  try { return localStorage.getItem(EMAIL_KEY) || ''; } catch { return ''; }
}

/** Ends the session; `message` is shown on the sign-in screen (e.g. EXPIRED_MESSAGE). */
export function clearSession(message = null) {
  const had = getSession() !== null;
  sessionStorage.removeItem(KEY);
  if (had || message) notify(null, message);
}

export function onSessionChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function notify(session, message) {
  for (const fn of [...listeners]) fn(session, message);
}

/** The token for a request, or null when there is none or it has expired (which ends it). */
export function currentToken() {
  const s = getSession();
  if (!s) return null;
  if (isExpired(s)) {
    clearSession(EXPIRED_MESSAGE);
    return null;
  }
  return s.token;
}

export const ROLES = ['ADMIN', 'EDITOR', 'VIEWER'];
export const canEdit = (user) => user?.role === 'ADMIN' || user?.role === 'EDITOR';
export const isAdmin = (user) => user?.role === 'ADMIN';
