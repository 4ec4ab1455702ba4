// Dashboard: one card per connection with its numbers, last and next run, sync buttons,
// and a live progress bar while a run is active.

import { html, useState, useEffect, useCallback } from '../lib.js';
import { gql } from '../api.js';
import { useApp } from '../context.js';
import { useLoader } from '../data.js';
import { subscribe } from '../ws.js';
import { href } from '../router.js';
import { PageHeader } from '../components/layout.js';
import { Loading, ErrorBox, Empty, ErrorText } from '../components/feedback.js';
import { Badge, RunBadge } from '../components/badges.js';
import {
  HealthBadge, HealthNotice, LastSuccess, HEALTH_SPEC, canRun,
} from '../components/health.js';
import { RunSummary } from '../components/progress.js';
import { EntityStatus, ENTITY_STATUS_SPEC } from '../components/entity-status.js';
import { useLiveRun, isActive, RUN_SPEC, runSelection, runType, runDuration } from '../live-run.js';
import { startSync, cancelSync, runEndMessage } from '../sync-actions.js';
import { providerLabel } from '../providers.js';
import {
  formatInt, formatRelative, formatDateTime, formatDuration, humanize,
} from '../format.js';

// `health` (and whatever else the API adds to Connection) is asked for once the server has it.
const CONNECTION_SPEC = ['id', 'name', 'provider', 'status', 'config', 'scheduleEnabled', 'incrementalCron',
  'fullCron', ...HEALTH_SPEC];

function connectionsQuery(caps) {
  const type = caps.nodeType(caps.returns('query', 'connections')) || 'Connection';
  return `{ connections(first: 200) { totalCount edges { node { ${caps.select(type, CONNECTION_SPEC)} } } } }`;
}

const STATUS_SPEC = [
  'totals', 'synced', 'pendingPush', 'conflicts', 'errors', ['lastRun', RUN_SPEC], ['runningRun', RUN_SPEC],
  'nextScheduledRun', 'schedulePaused', 'lastError', ['lastSuccessfulRun', ['id', 'finishedAt']], ...ENTITY_STATUS_SPEC,
];

/** Numbers for one connection, from syncStatus when the server has it, else from item counts. */
async function loadStats(caps, id) {
  const parts = [];
  if (caps.query('syncStatus')) {
    parts.push(`status: syncStatus(connectionId: $id) { ${caps.select(caps.returns('query', 'syncStatus'), STATUS_SPEC)} }`);
  }
  if (!caps.query('syncStatus')) {
    // Older servers: count linked items per link status instead.
    const count = (alias, extra = '') => parts.push(`${alias}: items(connectionId: $id${extra}, first: 0) { totalCount }`);
    count('total');
    count('synced', ', syncStatus: SYNCED');
    count('pendingPush', ', syncStatus: PENDING_PUSH');
    count('conflicted', ', syncStatus: CONFLICT');
    count('errored', ', syncStatus: ERROR');
  }
  if (caps.query('conflicts') && caps.arg('query', 'conflicts', 'connectionId') && caps.arg('query', 'conflicts', 'status')) {
    parts.push('openConflicts: conflicts(connectionId: $id, status: OPEN, first: 0) { totalCount }');
  }
  if (caps.query('syncRuns') && !caps.has(caps.returns('query', 'syncStatus'), 'lastRun')) {
    parts.push(`runs: syncRuns(connectionId: $id, first: 1) { edges { node { ${runSelection(caps)} } } }`);
  }
  const d = await gql(`query($id: ID!) { ${parts.join('\n')} }`, { id });
  const s = d.status || {};
  const lastRun = s.lastRun || d.runs?.edges?.[0]?.node || null;
  return {
    total: typeof s.totals === 'number' ? s.totals : d.total?.totalCount,
    synced: s.synced ?? d.synced?.totalCount,
    pendingPush: s.pendingPush ?? d.pendingPush?.totalCount,
    conflicts: d.openConflicts?.totalCount ?? s.conflicts ?? d.conflicted?.totalCount,
    errors: s.errors ?? d.errored?.totalCount,
    lastRun,
    runningRun: s.runningRun || (lastRun && isActive(lastRun) ? lastRun : null),
    nextScheduledRun: s.nextScheduledRun ?? null,
    schedulePaused: s.schedulePaused ?? null,
    lastError: s.lastError ?? null,
    hasLastSuccess: 'lastSuccessfulRun' in s,
    lastSuccessfulRun: s.lastSuccessfulRun,
    entities: s.entities,
    lastFullRun: s.lastFullRun,
    lastIncrementalRun: s.lastIncrementalRun,
    recentErrors: s.recentErrors,
  };
}

function Stat({ label, value, to, tone, testid }) {
  return html`
    <div class=${`stat ${tone && value ? `stat-${tone}` : ''}`} data-testid=${testid}>
      <dt>${label}</dt>
      <dd>${to && value ? html`<a href=${to} aria-label=${`${formatInt(value)} ${label.toLowerCase()}`}>${formatInt(value)}</a>` : formatInt(value)}</dd>
    </div>`;
}

function ScheduleLine({ connection, stats }) {
  if (stats?.nextScheduledRun) {
    return html`<span>${formatRelative(stats.nextScheduledRun)} <span class="muted">(${formatDateTime(stats.nextScheduledRun)})</span></span>`;
  }
  if (stats?.schedulePaused || connection.schedulePausedReason) {
    return html`<span>Paused${connection.schedulePausedReason ? ` — ${connection.schedulePausedReason}` : ''}</span>`;
  }
  if (!connection.scheduleEnabled) return html`<span class="muted">Schedules off</span>`;
  return html`<span>incremental <code>${connection.incrementalCron || '—'}</code>, full <code>${connection.fullCron || '—'}</code></span>`;
}

function ConnectionCard({ connection, pushedRun }) {
  const { caps, canEdit, isAdmin } = useApp();
  const stats = useLoader(() => loadStats(caps, connection.id), [connection.id]);
  const [activeId, setActiveId] = useState(null);
  const [activeInitial, setActiveInitial] = useState(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const r = stats.data?.runningRun;
    if (r && !activeId) { setActiveInitial(r); setActiveId(r.id); }
  }, [stats.data]); // eslint-disable-line react-hooks/exhaustive-deps

  // A run of this connection reported by the account-wide syncEvents subscription.
  useEffect(() => {
    if (!pushedRun) return;
    if (isActive(pushedRun) && String(pushedRun.id) !== String(activeId)) {
      setActiveInitial(pushedRun);
      setActiveId(pushedRun.id);
    } else if (!isActive(pushedRun) && !activeId) {
      stats.reload();
    }
  }, [pushedRun]); // eslint-disable-line react-hooks/exhaustive-deps

  const onDone = useCallback((run) => {
    runEndMessage(run);
    stats.reload();
  }, [stats.reload]);
  const live = useLiveRun(caps, activeId, activeInitial, onDone);

  const start = async (mode, dryRun = false) => {
    setBusy(true);
    const run = await startSync(caps, connection.id, mode, { dryRun });
    setBusy(false);
    if (run) { setActiveInitial(run); setActiveId(run.id); }
  };

  const s = stats.data;
  const running = live.run && isActive(live.run) ? live.run : null;
  const shownRun = live.run || null;
  const last = s?.lastRun;
  const canSync = canEdit && caps.mutation('startSync') && canRun(connection);
  const sandbox = connection.config && connection.config.sandbox === true;

  return html`
    <article class="card conn-card" aria-labelledby=${`conn-${connection.id}-name`} data-testid="connection-card">
      <header class="conn-card-head">
        <h2 id=${`conn-${connection.id}-name`}><a href=${href(`/connections/${connection.id}`)}>${connection.name}</a></h2>
        <div class="conn-card-tags">
          <span class="provider">${providerLabel(connection.provider)}</span>
          ${sandbox ? html`<${Badge} value="sandbox" tone="muted" label="Sandbox" />` : null}
          ${s || connection.health !== 'ACTIVE' ? html`
            <${HealthBadge} connection=${connection} lastRun=${live.run && !isActive(live.run) ? live.run : last} />` : null}
        </div>
      </header>
      <${HealthNotice} connection=${connection} isAdmin=${isAdmin} />
      ${stats.error && !s ? html`<${ErrorBox} error=${stats.error} onRetry=${stats.reload} title="Could not load the numbers" />` : null}
      ${!s && !stats.error ? html`<${Loading} />` : null}
      ${s ? html`
        <dl class="stats">
          <${Stat} label="Items" value=${s.total} to=${href('/items', { connectionId: connection.id })} testid="stat-total" />
          <${Stat} label="Synced" value=${s.synced} testid="stat-synced" />
          <${Stat} label="Pending push" value=${s.pendingPush} tone="busy" testid="stat-pending"
            to=${href('/items', { connectionId: connection.id, syncStatus: 'PENDING_PUSH' })} />
          <${Stat} label="Open conflicts" value=${s.conflicts} tone="warn" testid="stat-conflicts"
            to=${caps.query('conflicts') ? href('/conflicts', { connectionId: connection.id, status: 'OPEN' }) : href('/items', { connectionId: connection.id, syncStatus: 'CONFLICT' })} />
          <${Stat} label="Errors" value=${s.errors} tone="bad" testid="stat-errors"
            to=${caps.query('reviewQueue') ? href('/review', { connectionId: connection.id, type: 'failed' })
              : href('/items', { connectionId: connection.id, syncStatus: 'ERROR' })} />
        </dl>
        <dl class="kv">
          <div><dt>Last run</dt><dd data-testid="last-run">${last ? html`
            <a href=${href(`/runs/${last.id}`)}><${RunBadge} run=${last} /></a>
            ${' '}${humanize(last.mode)}${last.dryRun ? ' (dry run)' : ''}, ${formatRelative(last.finishedAt || last.startedAt || last.queuedAt)}
            ${last.finishedAt && last.startedAt ? html`, took ${formatDuration(runDuration(last))}` : null}`
            : html`<span class="muted">${caps.query('syncRuns') || caps.query('syncStatus') ? 'No runs yet' : 'Run history not available on this server'}</span>`}</dd></div>
          ${s.hasLastSuccess ? html`<${LastSuccess} run=${s.lastSuccessfulRun} />` : null}
          <div><dt>Next run</dt><dd><${ScheduleLine} connection=${connection} stats=${s} /></dd></div>
          ${s.lastError && !(last?.status === 'CANCELLED' && /cancel/i.test(s.lastError))
            ? html`<div><dt>Last error</dt><dd data-testid="last-error"><${ErrorText} message=${s.lastError} /></dd></div>` : null}
        </dl>
        <${EntityStatus} stats=${s} />` : null}
      ${shownRun && (running || String(shownRun.id) === String(activeId)) ? html`<${RunSummary} run=${shownRun} live=${live.live} />` : null}
      ${live.error ? html`<p class="inline-error" role="alert">Live progress unavailable: ${live.error.message}</p>` : null}
      ${canSync ? html`
        <div class="card-actions" role="group" aria-label=${`Sync ${connection.name}`}>
          <button type="button" class="btn btn-primary" disabled=${busy || !!running} onClick=${() => start('FULL')}>Full sync</button>
          <button type="button" class="btn" disabled=${busy || !!running} onClick=${() => start('INCREMENTAL')}>Incremental</button>
          <button type="button" class="btn" disabled=${busy || !!running} onClick=${() => start('FULL', true)}
            title="Compute and report a full sync without writing anything">Dry run</button>
          ${running && caps.mutation('cancelSync') ? html`
            <button type="button" class="btn btn-danger" onClick=${() => cancelSync(caps, running.id)}>Cancel run</button>` : null}
        </div>` : null}
    </article>`;
}

export function Dashboard() {
  const { caps, isAdmin } = useApp();
  const conns = useLoader(() => gql(connectionsQuery(caps)).then((d) => d.connections.edges.map((e) => e.node)), []);
  const [pushed, setPushed] = useState({});
  const [generation, setGeneration] = useState(0);
  const refresh = () => { setGeneration((g) => g + 1); conns.reload(); };

  useEffect(() => {
    if (!caps.subscription('syncEvents')) return undefined;
    return subscribe(`subscription { syncEvents { ${caps.select(runType(caps), RUN_SPEC)} } }`, {}, {
      next: (p) => {
        const run = p.data?.syncEvents;
        if (run?.connectionId) setPushed((m) => ({ ...m, [run.connectionId]: run }));
      },
      error: () => {},
    });
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  const list = conns.data;
  return html`
    <section>
      <${PageHeader} title="Dashboard" subtitle="Connections and their sync state">
        <button type="button" class="btn" onClick=${refresh}>Refresh</button>
      <//>
      ${conns.error ? html`<${ErrorBox} error=${conns.error} onRetry=${conns.reload} />` : null}
      ${!list && !conns.error ? html`<${Loading} />` : null}
      ${list && list.length === 0 ? html`
        <${Empty} title="No connections yet">
          ${isAdmin ? html`<a class="btn btn-primary" href="#/connections/new">Add a connection</a>` : 'Ask an admin to connect a system.'}
        <//>` : null}
      ${list && list.length ? html`
        <div class="card-grid">
          ${list.map((c) => html`<${ConnectionCard} key=${`${c.id}-${generation}`} connection=${c} pushedRun=${pushed[c.id]} />`)}
        </div>` : null}
    </section>`;
}
