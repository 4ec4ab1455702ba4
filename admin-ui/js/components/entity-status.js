// A connection's numbers per entity type, its last full and incremental runs and its newest
// errors: one compact block under a dashboard card's totals (from `syncStatus`).

import { html } from '../lib.js';
import { href } from '../router.js';
import { RunBadge } from './badges.js';
import { ErrorText } from './feedback.js';
import { formatInt, formatRelative, formatDateTime, humanize } from '../format.js';

const RUN = ['id', 'status', 'startedAt', 'finishedAt', 'finishedWithRecordErrors', ['counters', ['errors']]];

/** What the block reads from `syncStatus` (fields the server lacks are left out). */
export const ENTITY_STATUS_SPEC = [
  ['entities', ['entityType', 'total', 'synced', 'pendingPush', 'conflicts', 'errors']],
  ['lastFullRun', RUN],
  ['lastIncrementalRun', RUN],
  ['recentErrors', ['at', 'runId', 'kind', 'message', 'code']],
];

function RunCell({ run }) {
  if (!run) return html`<span class="muted">none yet</span>`;
  const at = run.finishedAt || run.startedAt;
  return html`<a href=${href(`/runs/${run.id}`)}><${RunBadge} run=${run} /></a>
    ${' '}<span title=${formatDateTime(at)}>${formatRelative(at)}</span>`;
}

export function EntityStatus({ stats }) {
  const entities = stats.entities || [];
  const errors = stats.recentErrors || [];
  if (!stats.entities && !stats.recentErrors) return null;
  return html`
    <div class="entity-status" data-testid="entity-status">
      ${entities.length ? html`<div class="scroll-x" tabindex="0" role="region" aria-label="Numbers per entity type">
        <table class="table table-compact" data-testid="entity-table">
          <thead><tr>
            <th scope="col">Entity</th><th scope="col" class="num">Items</th><th scope="col" class="num">Synced</th>
            <th scope="col" class="num">Pending</th><th scope="col" class="num">Conflicts</th><th scope="col" class="num">Errors</th>
          </tr></thead>
          <tbody>${entities.map((e) => html`
            <tr data-testid="entity-row" data-entity=${e.entityType}>
              <th scope="row">${humanize(e.entityType)}</th>
              <td class="num">${formatInt(e.total)}</td><td class="num">${formatInt(e.synced)}</td>
              <td class="num">${formatInt(e.pendingPush)}</td>
              <td class=${`num ${e.conflicts ? 'text-warn' : ''}`}>${formatInt(e.conflicts)}</td>
              <td class=${`num ${e.errors ? 'text-bad' : ''}`}>${formatInt(e.errors)}</td>
            </tr>`)}
          </tbody>
        </table></div>` : null}
      <dl class="kv">
        <div><dt>Last full run</dt><dd><${RunCell} run=${stats.lastFullRun} /></dd></div>
        <div><dt>Last incremental</dt><dd><${RunCell} run=${stats.lastIncrementalRun} /></dd></div>
      </dl>
      ${errors.length ? html`
        <details class="recent-errors" data-testid="recent-errors">
          <summary>Recent errors (${errors.length})</summary>
          <ul>${errors.map((e) => html`
            <li><a href=${href(`/runs/${e.runId}`)} title=${formatDateTime(e.at)}>${formatRelative(e.at)}</a>
              ${' '}<span class="muted">${humanize(e.kind)}${e.code ? ` · ${e.code}` : ''}</span> <${ErrorText} message=${e.message} /></li>`)}
          </ul>
        </details>` : null}
    </div>`;
}
