// Hash routing (#/items/42?search=pipe): works from any static host and from the server's
// own fallback without server-side routes; the query string holds filters and cursors.

import { useState, useEffect } from './lib.js';

export function parseLocation(hash = location.hash) {
  const raw = hash.replace(/^#/, '') || '/';
  const [path, qs = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const query = Object.fromEntries(new URLSearchParams(qs));
  return { path: `/${parts.join('/')}`, parts, query };
}

/** `#/path?k=v`, leaving out empty values. */
export function href(path, query = {}) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '' && v !== false) qs.set(k, String(v));
  }
  const s = qs.toString();
  return `#${path}${s ? `?${s}` : ''}`;
}

export function navigate(path, query = {}, { replace = false } = {}) {
  const target = href(path, query);
  if (replace) {
    history.replaceState(null, '', target);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = target;
  }
}

/** Changes some query parameters of the current route (e.g. a filter), dropping cursors. */
export function setQuery(changes, { keepCursor = false, replace = true } = {}) {
  const { path, query } = parseLocation();
  const next = { ...query, ...changes };
  if (!keepCursor) {
    delete next.after;
    delete next.before;
  }
  navigate(path, next, { replace });
}

export function useRoute() {
  const [route, setRoute] = useState(parseLocation);
  useEffect(() => {
    const onChange = () => setRoute(parseLocation());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
