// One run: live progress, stage, counters, ETA, cancel, and its events.

import { html, useState, useEffect, useCallback } from '../lib.js';
import { gql } from '../api.js';
import { useApp } from '../context.js';
import { useLoader, useConnections, connectionName } from '../data.js';
import { href } from '../router.js';
import { PageHeader } from '../components/layout.js';
import { Loading, ErrorBox, Empty, ErrorText } from '../components/feedback.js';
import { Unavailable } from './not-found.js';
import { Badge, RunBadge } from '../components/badges.js';
import { ProgressBar, Counters } from '../components/progress.js';
import { useLiveRun, isActive, runSelection, runType, runDuration } from '../live-run.js';
import { cancelSync, runEndMessage } from '../sync-actions.js';
import { formatDateTime, formatDuration, humanize, humanizeAny, formatInt, fieldLabel, formatFieldValue } from '../format.js';

const EVENT_SPEC = ['id', 'level', 'kind', 'message', 'code', 'remoteId', 'itemId', 'createdAt'];
const EVENTS_PAGE = 50;

function Events({ runId, active, refreshKey }) {
  const { caps } = useApp();
  const [rows, setRows] = useState([]);
  const [cursor, setCursor] = useState(null);
  const [more, setMore] = useState(false);
  const [total, setTotal] = useState(null);
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(true);
  const [level, setLevel] = useState('');
  const rt = runType(caps);
  const evType = caps.fieldType(rt, 'events');
  const sel = caps.select((evType && caps.nodeType(evType)) || 'SyncEvent', EVENT_SPEC);
  const hasTotal = evType ? caps.has(evType, 'totalCount') : false;

  const load = useCallback((after) => {
    setLoading(true);
    return gql(`query($id: ID!, $first: Int, $after: String) { syncRun(id: $id) {
        events(first: $first, after: $after) { ${hasTotal ? 'totalCount' : ''} pageInfo { hasNextPage endCursor } edges { node { ${sel} } } } } }`,
    { id: runId, first: EVENTS_PAGE, after }).then((d) => {
      const conn = d.syncRun.events;
      const nodes = conn.edges.map((e) => e.node);
      setRows((r) => (after ? [...r, ...nodes] : nodes));
      setCursor(conn.pageInfo.endCursor);
      setMore(conn.pageInfo.hasNextPage);
      setTotal(conn.totalCount ?? null);
      setError(null);
    }, setError).finally(() => setLoading(false));
  }, [runId, sel, hasTotal]);

  useEffect(() => { load(null); }, [load, refreshKey]);
  // While the run works, keep the first page fresh (unless more pages were opened).
  useEffect(() => {
    if (!active) return undefined;
    const t = setInterval(() => { if (rows.length <= EVENTS_PAGE) load(null); }, 4000);
    return () => clearInterval(t);
  }, [active, load, rows.length]);

  if (!caps.has(rt, 'events')) return html`<p class="muted">This server does not list run events.</p>`;
  if (error && !rows.length) return html`<${ErrorBox} error=${error} onRetry=${() => load(null)} title="Could not load the events" />`;
  if (loading && !rows.length) return html`<${Loading} />`;
  if (!rows.length) return html`<${Empty} title="No events">${active ? 'Events appear here as the run works.' : 'This run recorded no per-item events.'}<//>`;
  const levels = [...new Set(rows.map((r) => r.level).filter(Boolean))];
  const shown = level ? rows.filter((r) => r.level === level) : rows;
  return html`
    ${levels.length > 1 ? html`<label class="field field-inline"><span>Level</span>
      <select value=${level} onChange=${(e) => setLevel(e.currentTarget.value)}>
        <option value="">All levels</option>${levels.map((l) => html`<option key=${l} value=${l}>${humanize(l)}</option>`)}
      </select></label>` : null}
    <div class="table-wrap" tabindex="0">
      <table class="table" data-testid="events-table">
        <thead><tr><th scope="col">Time</th><th scope="col">Level</th><th scope="col" class="hide-sm">Kind</th><th scope="col">Message</th><th scope="col" class="hide-sm">Item</th></tr></thead>
        <tbody>${shown.map((ev) => html`
          <tr key=${ev.id}>
            <td class="nowrap">${formatDateTime(ev.createdAt)}</td>
            <td><${Badge} value=${ev.level} /></td>
            <td class="hide-sm">${humanize(ev.kind)}</td>
            <td class="cell-message"><${ErrorText} message=${ev.message} className="" />${ev.code ? html` <code>${ev.code}</code>` : null}</td>
            <td class="hide-sm">${ev.itemId ? html`<a href=${href(`/items/${ev.itemId}`)}>Item ${ev.itemId}</a>` : null}
              ${ev.remoteId ? html` <span class="muted">remote ${ev.remoteId}</span>` : null}</td>
          </tr>`)}
        </tbody>
      </table>
    </div>
    <div class="pager">
      <span class="pager-info">${formatInt(rows.length)}${total !== null ? ` of ${formatInt(total)}` : ''} events</span>
      ${more ? html`<button type="button" class="btn" disabled=${loading} onClick=${() => load(cursor)}>Load more</button>` : null}
    </div>`;
}

/** The engine's summary: counts per three-way category and sample changes (dry runs). */
export function Summary({ run }) {
  const summary = run.summary;
  if (!summary || typeof summary !== 'object') return null;
  const cats = summary.categories && typeof summary.categories === 'object' ? Object.entries(summary.categories) : [];
  const samples = Array.isArray(summary.samples) ? summary.samples.filter((x) => x && x.code) : [];
  const notes = Array.isArray(summary.samples) ? summary.samples.filter((x) => x && x.note).map((x) => x.note) : [];
  if (!cats.length && !samples.length && !notes.length) return null;
  return html`
    <div class="card" data-testid="run-summary-card">
      <h2>${run.dryRun ? 'What this dry run would do' : 'Summary'}</h2>
      ${cats.length ? html`<dl class="counters">${cats.map(([k, v]) => html`
        <div key=${k} class=${`counter ${/conflict/i.test(k) && v ? 'counter-warn' : ''}`}><dt>${humanizeAny(k)}</dt><dd>${formatInt(v)}</dd></div>`)}</dl>` : null}
      ${notes.map((n) => html`<p class="notice notice-warn small">${n}</p>`)}
      ${samples.length ? html`
        <h3>Examples</h3>
        <div class="table-wrap" tabindex="0">
          <table class="table">
            <thead><tr><th scope="col">Code</th><th scope="col">Category</th><th scope="col">Changes</th></tr></thead>
            <tbody>${samples.map((x, i) => html`
              <tr key=${i}><td class="code">${x.code}</td><td>${humanizeAny(x.category)}</td>
                <td><ul class="changes">${(x.fields || []).map((f) => html`<li key=${f.field}><strong>${fieldLabel(f.field)}</strong>:
                  <span class="old">${formatFieldValue(f.field, f.base)}</span> → local ${formatFieldValue(f.field, f.local)}, remote ${formatFieldValue(f.field, f.remote)}</li>`)}</ul></td></tr>`)}
            </tbody>
          </table>
        </div>` : null}
    </div>`;
}

function RunDetails({ id }) {
  const { caps, canEdit } = useApp();
  const connections = useConnections();
  const [eventsKey, setEventsKey] = useState(0);
  const [cancelling, setCancelling] = useState(false);
  const extra = caps.select(runType(caps), ['attempts', 'summary', 'params']);
  const first = useLoader(() => gql(`query($id: ID!) { syncRun(id: $id) { ${runSelection(caps)} ${extra} } }`, { id }).then((d) => d.syncRun), [id]);
  const [final, setFinal] = useState(null);
  const onDone = useCallback((r) => {
    if (first.data && isActive(first.data)) runEndMessage(r);
    setEventsKey((k) => k + 1);
    // The summary is written when the run ends: read it once more.
    if (extra) gql(`query($id: ID!) { syncRun(id: $id) { ${extra} } }`, { id }).then((d) => setFinal(d.syncRun), () => {});
  }, [first.data]); // eslint-disable-line react-hooks/exhaustive-deps
  const live = useLiveRun(caps, first.data && isActive(first.data) ? id : null, first.data, onDone);
  const run = live.run || first.data ? { ...(first.data || {}), ...(live.run || {}), ...(final || {}) } : null;

  if (first.error && !run) {
    return html`<section><${PageHeader} title=${`Run #${id}`} /><${ErrorBox} error=${first.error} onRetry=${first.reload}
      title=${first.error.code === 'NOT_FOUND' ? 'This run does not exist' : 'Could not load this run'} /></section>`;
  }
  if (!run) return html`<section><${PageHeader} title=${`Run #${id}`} /><${Loading} /></section>`;
  const active = isActive(run);
  const cancel = async () => {
    setCancelling(true);
    await cancelSync(caps, run.id);
    setCancelling(false);
  };
  return html`
    <section data-testid="run-page" data-status=${run.status}>
      <p class="breadcrumb"><a href="#/runs">Runs</a> / #${run.id}</p>
      <${PageHeader} title=${`Run #${run.id}`}
        subtitle=${`${connectionName(connections, run.connectionId)} · ${humanize(run.mode)}${run.dryRun ? ' · dry run' : ''} · started by ${humanize(run.trigger).toLowerCase()}`}>
        <${RunBadge} run=${run} />
        ${active && canEdit && caps.mutation('cancelSync') ? html`
          <button type="button" class="btn btn-danger" disabled=${cancelling || run.cancelRequested} onClick=${cancel}>
            ${cancelling || run.cancelRequested ? 'Cancelling…' : 'Cancel run'}</button>` : null}
      <//>
      <div class="card">
        <h2 class="sr-only">Progress</h2>
        <${ProgressBar} value=${run.status === 'SUCCEEDED' ? 100 : run.progress} status=${run.status} label=${`Progress of run ${run.id}`} />
        <dl class="kv kv-inline">
          <div><dt>Stage</dt><dd data-testid="run-stage">${run.stage || '—'}</dd></div>
          ${active ? html`<div><dt>ETA</dt><dd>${run.etaSeconds !== null && run.etaSeconds !== undefined ? formatDuration(run.etaSeconds) : 'estimating…'}</dd></div>` : null}
          <div><dt>Queued</dt><dd>${formatDateTime(run.queuedAt)}</dd></div>
          <div><dt>Started</dt><dd>${formatDateTime(run.startedAt)}</dd></div>
          <div><dt>Finished</dt><dd>${formatDateTime(run.finishedAt)}</dd></div>
          <div><dt>Duration</dt><dd>${run.startedAt ? formatDuration(runDuration(run)) : '—'}</dd></div>
          ${live.live ? html`<div><dt>Updates</dt><dd><span class="live-dot">live</span></dd></div>` : null}
        </dl>
        ${run.error ? html`<div class=${`notice ${run.status === 'CANCELLED' ? 'notice-warn' : 'notice-bad'}`} role="alert" data-testid="run-error">
          ${run.status === 'CANCELLED' ? 'Cancelled' : html`<${ErrorText} message=${run.error} className="" />`}
          ${run.errorCode && run.status !== 'CANCELLED' && run.errorCode.toLowerCase() !== String(run.error).toLowerCase() ? html`<code>${run.errorCode}</code>` : null}
          ${run.status === 'CANCELLED' && !run.dryRun ? html`<span class="small"> — pages applied before the cancellation stay applied.</span>` : null}</div>` : null}
        ${live.error ? html`<p class="inline-error">Live updates stopped: ${live.error.message}</p>` : null}
        ${run.attempts > 1 ? html`<p class="small muted">Attempt ${run.attempts} (resumed after an interruption)</p>` : null}
        <${Counters} counters=${run.counters} />
      </div>
      <${Summary} run=${run} />
      <div class="card">
        <h2>Events</h2>
        <${Events} runId=${run.id} active=${active} refreshKey=${eventsKey} />
      </div>
    </section>`;
}

export function RunPage({ id }) {
  const { caps } = useApp();
  if (!caps.query('syncRun')) return html`<${Unavailable} title=${`Run #${id}`} what="run details" />`;
  return html`<${RunDetails} id=${id} />`;
}
