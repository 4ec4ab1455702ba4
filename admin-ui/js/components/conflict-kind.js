// The kind of a conflict at a glance (deleted upstream, first link…), for lists.

import { html } from '../lib.js';
import { Badge } from './badges.js';
import { kindInfo } from '../conflict-data.js';

/** The kind of a conflict as a badge when it is not a plain field conflict. */
export function KindBadge({ kind }) {
  const info = kindInfo(kind);
  return info ? html`<${Badge} value=${kind} tone=${info.tone} label=${info.badge} />` : null;
}
