// Run history: filters (connection, status, mode), cursor pagination, live refresh.

import { html, useEffect, useRef } from '../lib.js';
import { gql } from '../api.js';
import { useApp } from '../context.js';
import { useLoader, useConnections, connectionName } from '../data.js';
import { href, setQuery } from '../router.js';
import { pageArgs, pageControls, pageSize } from '../paging.js';
import { subscribe } from '../ws.js';
import { PageHeader } from '../components/layout.js';
import { Loading, ErrorBox, Empty } from '../components/feedback.js';
import { Unavailable } from './not-found.js';
import { Badge, RunBadge } from '../components/badges.js';
import { Pager } from '../components/pager.js';
import { ProgressBar } from '../components/progress.js';
import { SelectField, enumOptions } from '../components/fields.js';
import { FilterBar } from '../components/filters.js';
import { runSelection, runType, isActive, runDuration } from '../live-run.js';
import { formatDateTime, formatRelative, formatDuration, formatInt, humanize } from '../format.js';

const STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'INTERRUPTED'];
const MODES = ['FULL', 'INCREMENTAL', 'ENTITY'];

function runsQuery(caps, page, filters) {
  const defs = [page.defs];
  const args = [page.args];
  const filterTypes = { connectionId: 'ID', status: 'SyncStatus', mode: 'SyncMode', trigger: 'SyncTrigger' };
  for (const [name, fallback] of Object.entries(filterTypes)) {
    if (filters[name] && caps.arg('query', 'syncRuns', name)) {
      defs.push(`$${name}: ${caps.argType('query', 'syncRuns', name) || fallback}`);
      args.push(`${name}: $${name}`);
    }
  }
  const total = caps.has(caps.returns('query', 'syncRuns'), 'totalCount') ? 'totalCount' : '';
  return `query(${defs.join(', ')}) { syncRuns(${args.join(', ')}) {
    ${total} pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { node { ${runSelection(caps)} } } } }`;
}

function CounterSummary({ c }) {
  if (!c) return '—';
  const parts = [['created', c.created], ['updated', c.updated], ['pushed', c.pushed], ['conflicts', c.conflicts], ['errors', c.errors]]
    .filter(([, v]) => v);
  return parts.length ? parts.map(([k, v]) => `${formatInt(v)} ${k}`).join(', ') : html`<span class="muted">no changes</span>`;
}

export function Runs({ route }) {
  const { caps } = useApp();
  if (!caps.query('syncRuns')) return html`<${Unavailable} title="Runs" what="a sync run history" />`;
  return html`<${RunList} route=${route} />`;
}

function RunList({ route }) {
  const { caps } = useApp();
  const q = route.query;
  const connections = useConnections();
  const backwards = caps.arg('query', 'syncRuns', 'before');
  const page = pageArgs(q, pageSize(q), backwards);
  const filters = { connectionId: q.connectionId || null, status: q.status || null, mode: q.mode || null, trigger: q.trigger || null };
  const variables = { ...page.vars, ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v)) };
  const key = JSON.stringify(variables);
  const result = useLoader(() => gql(runsQuery(caps, page, filters), variables).then((d) => d.syncRuns), [key]);
  const reloadTimer = useRef(null);

  // New and finished runs appear without a manual refresh.
  useEffect(() => {
    if (!caps.subscription('syncEvents')) return undefined;
    const stop = subscribe(`subscription { syncEvents { ${caps.select(runType(caps), ['id', 'status'])} } }`, {}, {
      next: () => { clearTimeout(reloadTimer.current); reloadTimer.current = setTimeout(result.reload, 400); },
      error: () => {},
    });
    return () => { stop(); clearTimeout(reloadTimer.current); };
  }, [key]); // eslint-disable-line react-hooks/exhaustive-deps

  const data = result.data;
  const nav = pageControls(q, data?.pageInfo, backwards);
  const statusValues = caps.enumValues(caps.argType('query', 'syncRuns', 'status')) || STATUSES;
  const modeValues = caps.enumValues(caps.argType('query', 'syncRuns', 'mode')) || MODES;
  const triggerValues = caps.enumValues(caps.argType('query', 'syncRuns', 'trigger'));
  const filtered = q.connectionId || q.status || q.mode || q.trigger;
  return html`
    <section>
      <${PageHeader} title="Runs" subtitle="Sync history, newest first">
        <button type="button" class="btn" onClick=${result.reload}>Refresh</button>
      <//>
      <${FilterBar} label="Filter runs" active=${[q.connectionId, q.status, q.mode, q.trigger].filter(Boolean).length}>
        ${caps.arg('query', 'syncRuns', 'connectionId') ? html`<${SelectField} label="Connection" value=${q.connectionId} onChange=${(v) => setQuery({ connectionId: v })}
          options=${[{ value: '', label: 'All connections' }, ...connections.map((c) => ({ value: c.id, label: c.name }))]} />` : null}
        ${caps.arg('query', 'syncRuns', 'status') ? html`<${SelectField} label="Status" value=${q.status} onChange=${(v) => setQuery({ status: v })}
          options=${enumOptions(statusValues, 'Any status', humanize)} />` : null}
        ${caps.arg('query', 'syncRuns', 'mode') ? html`<${SelectField} label="Mode" value=${q.mode} onChange=${(v) => setQuery({ mode: v })}
          options=${enumOptions(modeValues, 'Any mode', humanize)} />` : null}
        ${caps.arg('query', 'syncRuns', 'trigger') && triggerValues ? html`<${SelectField} label="Started by" value=${q.trigger} onChange=${(v) => setQuery({ trigger: v })}
          options=${enumOptions(triggerValues, 'Any trigger', humanize)} />` : null}
        ${filtered ? html`<button type="button" class="btn btn-link" onClick=${() => setQuery({ connectionId: undefined, status: undefined, mode: undefined, trigger: undefined })}>Clear filters</button>` : null}
      <//>
      ${result.error ? html`<${ErrorBox} error=${result.error} onRetry=${result.reload} />` : null}
      ${!data && !result.error ? html`<${Loading} />` : null}
      ${data && !data.edges.length ? html`<${Empty} title=${filtered ? 'No runs match these filters' : 'No runs yet'}>
        ${filtered ? 'Try other filters.' : 'Start a sync from the dashboard.'}<//>` : null}
      ${data && data.edges.length ? html`
        <div class=${`table-wrap ${result.loading ? 'is-loading' : ''}`} tabindex="0">
          <table class="table" data-testid="runs-table">
            <thead><tr><th scope="col">Run</th><th scope="col" class="hide-sm">Connection</th><th scope="col">Mode</th><th scope="col">Status</th>
              <th scope="col" class="hide-sm">Trigger</th><th scope="col" class="hide-sm">Started</th><th scope="col" class="hide-sm">Duration</th>
              <th scope="col">Result</th></tr></thead>
            <tbody>${data.edges.map(({ node: r }) => html`
              <tr key=${r.id} data-testid="run-row">
                <td><a href=${href(`/runs/${r.id}`)}>#${r.id}</a></td>
                <td class="hide-sm">${connectionName(connections, r.connectionId)}</td>
                <td>${humanize(r.mode)}${r.dryRun ? html` <${Badge} value="dry" tone="muted" label="Dry run" />` : null}</td>
                <td><${RunBadge} run=${r} /></td>
                <td class="hide-sm">${humanize(r.trigger)}</td>
                <td class="hide-sm" title=${formatDateTime(r.startedAt || r.queuedAt)}>${formatRelative(r.startedAt || r.queuedAt)}</td>
                <td class="hide-sm">${r.startedAt ? formatDuration(runDuration(r)) : '—'}</td>
                <td>${isActive(r) ? html`<${ProgressBar} value=${r.progress} label=${`Progress of run ${r.id}`} />` : html`<${CounterSummary} c=${r.counters} />`}</td>
              </tr>`)}
            </tbody>
          </table>
        </div>
        <${Pager} pageInfo=${data.pageInfo} totalCount=${data.totalCount} shown=${data.edges.length} label="runs"
          hasPrev=${nav.hasPrev} onPrev=${nav.prev} onNext=${nav.next} />` : null}
    </section>`;
}
