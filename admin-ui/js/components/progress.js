// Progress bar and the live summary of a sync run.

import { html } from '../lib.js';
import { RunBadge } from './badges.js';
import { formatInt, formatDuration, humanize } from '../format.js';
import { href } from '../router.js';
import { isActive, runDuration } from '../live-run.js';
import { ErrorText } from './feedback.js';

export function ProgressBar({ value, label, status }) {
  const v = Math.max(0, Math.min(100, Math.round(Number(value) || 0)));
  const tone = status && !isActive({ status }) ? String(status).toLowerCase() : 'running';
  return html`
    <div class="progress-wrap">
      <div class=${`progress progress-${tone}`} role="progressbar" aria-label=${label || 'Sync progress'}
        aria-valuemin="0" aria-valuemax="100" aria-valuenow=${v} data-testid="progress">
        <div class="progress-fill" style=${{ width: `${v}%` }}></div>
      </div>
      <span class="progress-value">${v} %</span>
    </div>`;
}

export const COUNTERS = ['fetched', 'created', 'updated', 'deleted', 'pushed', 'conflicts', 'skipped', 'errors'];

export function Counters({ counters, compact = false }) {
  if (!counters) return null;
  const keys = COUNTERS.filter((k) => k in counters);
  return html`
    <dl class=${`counters ${compact ? 'counters-compact' : ''}`}>
      ${keys.map((k) => html`
        <div key=${k} class=${`counter ${k === 'errors' && counters[k] ? 'counter-bad' : ''} ${k === 'conflicts' && counters[k] ? 'counter-warn' : ''}`}>
          <dt>${humanize(k)}</dt><dd>${formatInt(counters[k])}</dd>
        </div>`)}
    </dl>`;
}

/** Compact live block for a run: status, bar, stage, ETA, link to the run page. */
export function RunSummary({ run, live, showLink = true }) {
  if (!run) return null;
  const active = isActive(run);
  return html`
    <div class="run-summary" data-testid="run-summary" data-status=${run.status}>
      <div class="run-summary-head">
        <${RunBadge} run=${run} />
        <span>${humanize(run.mode)}${run.dryRun ? ' (dry run)' : ''}</span>
        ${showLink ? html`<a href=${href(`/runs/${run.id}`)}>Run #${run.id}</a>` : null}
        ${live ? html`<span class="live-dot" title="Live updates">live</span>` : null}
      </div>
      <${ProgressBar} value=${active ? run.progress : (run.status === 'SUCCEEDED' ? 100 : run.progress)} status=${run.status}
        label=${`Progress of run ${run.id}`} />
      <div class="run-summary-meta">
        ${run.stage ? html`<span>${run.stage}</span>` : null}
        ${active && run.etaSeconds !== null && run.etaSeconds !== undefined ? html`<span>ETA ${formatDuration(run.etaSeconds)}</span>` : null}
        ${!active && run.startedAt ? html`<span>took ${formatDuration(runDuration(run))}</span>` : null}
        ${run.error ? html`<${ErrorText} message=${run.error} />` : null}
      </div>
    </div>`;
}
