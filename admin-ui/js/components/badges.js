// Coloured status labels (runs, links, connections, conflicts, roles).

import { html } from '../lib.js';
import { humanize, formatInt } from '../format.js';

const TONE = {
  SUCCEEDED: 'ok', SYNCED: 'ok', ACTIVE: 'ok', RESOLVED: 'ok',
  RUNNING: 'busy', QUEUED: 'busy', PENDING_PUSH: 'busy', PENDING_PULL: 'busy',
  FAILED: 'bad', ERROR: 'bad', CONFLICT: 'warn', OPEN: 'warn', INTERRUPTED: 'warn',
  CANCELLED: 'muted', PAUSED: 'muted', DELETED: 'muted', INACTIVE: 'muted',
  WARN: 'warn', WARNING: 'warn', INFO: 'muted', DEBUG: 'muted',
};

export function Badge({ value, label, tone }) {
  if (value === null || value === undefined) return html`<span class="badge badge-muted">—</span>`;
  const key = String(value).toUpperCase();
  return html`<span class=${`badge badge-${tone || TONE[key] || 'muted'}`}>${label || humanize(value)}</span>`;
}

/** A run's outcome: a success that skipped records reads "Succeeded with N errors", not green. */
export function RunBadge({ run }) {
  if (run?.status === 'SUCCEEDED' && run.finishedWithRecordErrors) {
    const n = run.counters?.errors;
    const label = n ? `Succeeded with ${formatInt(n)} error${n === 1 ? '' : 's'}` : 'Succeeded with errors';
    return html`<${Badge} value="SUCCEEDED_WITH_ERRORS" tone="warn" label=${label} />`;
  }
  return html`<${Badge} value=${run?.status} />`;
}
