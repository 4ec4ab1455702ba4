// Cursor pagination driven by the URL (?after=… / ?before=…), for Relay connections.
// Servers that cannot page backwards get "previous" from a remembered trail of cursors.

import { setQuery } from './router.js';

const trail = new Map(); // after-cursor of a page -> after-cursor of the page before it

export const PAGE_SIZES = [25, 50, 100];

export function pageSize(query, fallback = 25) {
  const n = Number(query.size);
  return PAGE_SIZES.includes(n) ? n : fallback;
}

/** Arguments and variable definitions for the current page. */
export function pageArgs(query, size, backwards) {
  if (backwards && query.before) {
    return { vars: { last: size, before: query.before }, defs: '$last: Int, $before: String', args: 'last: $last, before: $before' };
  }
  return { vars: { first: size, after: query.after || null }, defs: '$first: Int, $after: String', args: 'first: $first, after: $after' };
}

export function pageControls(query, pageInfo, backwards) {
  const hasPrev = backwards ? !!pageInfo?.hasPreviousPage : !!query.after;
  return {
    hasPrev,
    next: () => {
      if (!pageInfo?.endCursor) return;
      trail.set(pageInfo.endCursor, query.after || '');
      setQuery({ after: pageInfo.endCursor, before: undefined }, { keepCursor: true, replace: false });
    },
    prev: () => {
      if (backwards && pageInfo?.startCursor) {
        setQuery({ before: pageInfo.startCursor, after: undefined }, { keepCursor: true, replace: false });
      } else {
        const back = trail.get(query.after);
        setQuery({ after: back || undefined, before: undefined }, { keepCursor: true, replace: false });
      }
    },
  };
}
