// The review queue: everything waiting for an admin in one list — open conflicts and
// records whose last sync failed — with filters and bulk retry / ignore / resolve.

import { html, useState, useEffect, useRef } from '../lib.js';
import { gql, describeError } from '../api.js';
import { useApp } from '../context.js';
import { useLoader, useConnections, connectionName } from '../data.js';
import { href, setQuery } from '../router.js';
import { PageHeader } from '../components/layout.js';
import { Loading, ErrorBox, Empty, ErrorText } from '../components/feedback.js';
import { Unavailable } from './not-found.js';
import { Badge } from '../components/badges.js';
import { KindBadge } from '../components/conflict-kind.js';
import { SelectField, enumOptions } from '../components/fields.js';
import { FilterBar } from '../components/filters.js';
import { toast, toastError } from '../components/toast.js';
import { useBulkResolve } from '../components/bulk-resolve.js';
import { formatInt, formatRelative, formatDateTime, humanize, fieldLabel } from '../format.js';
import { CONFLICT_SPEC, conflictType, useConflictFeed } from '../conflict-data.js';
import { runSelection, followRuns } from '../live-run.js';

const PAGE = 50;
const TYPES = [['', 'All'], ['conflicts', 'Conflicts'], ['failed', 'Failed records']];

const FAILED_SPEC = `error attempts remoteId connectionId
  link { id entityType syncStatus paused lastSyncedAt }
  item { id code name }`;

/** Counts for the tabs, and (withPage) one page of failed records. */
function queueQuery(withPage) {
  if (!withPage) return 'query($c: ID) { reviewQueue(connectionId: $c) { openConflicts failedRecords conflictsByKind { kind count } } }';
  return `query($c: ID, $first: Int, $after: String) { reviewQueue(connectionId: $c, first: $first, after: $after) {
    failed { pageInfo { hasNextPage endCursor } edges { node { ${FAILED_SPEC} } } } } }`;
}

function conflictsQuery(caps) {
  const kindType = caps.argType('query', 'conflicts', 'kind') || 'ConflictKind';
  return `query($c: ID, $kind: ${kindType}, $first: Int, $after: String) {
    conflicts(status: OPEN, connectionId: $c, kind: $kind, first: $first, after: $after) {
      pageInfo { hasNextPage endCursor } edges { node { ${caps.select(conflictType(caps), CONFLICT_SPEC)} } } } }`;
}

/** Starts a run and waits for it; a run already going on that connection is waited out first. */
function runToEnd(caps, start) {
  const wait = (run) => new Promise((resolve) => {
    let stop = null;
    let done = null;
    stop = followRuns(caps, [run], { onAllDone: ([ended]) => { done = ended; stop?.(); resolve(ended); } });
    if (done) stop();
  });
  return (async () => {
    for (let left = 3; ; left -= 1) {
      const { run, alreadyRunning } = await start();
      const ended = await wait(run);
      if (!alreadyRunning || left === 0) return ended;
    }
  })();
}

/**
 * Syncs the given failed records again: one ENTITY run per connection and entity type
 * (a connection runs one sync at a time, so they go one after the other).
 */
async function retryRecords(caps, records, onProgress) {
  const groups = new Map();
  for (const r of records) {
    const key = `${r.connectionId}|${r.link.entityType}`;
    groups.set(key, [...(groups.get(key) || []), r]);
  }
  const sel = runSelection(caps);
  const ended = [];
  for (const list of groups.values()) {
    const { connectionId, link } = list[0];
    const start = () => gql(`mutation($c: ID!, $e: [String!]!, $ids: [String!]!) {
        startSync(connectionId: $c, mode: ENTITY, entityTypes: $e, remoteIds: $ids) { run { ${sel} } alreadyRunning } }`,
    { c: connectionId, e: [link.entityType], ids: list.map((r) => r.remoteId) }).then((d) => d.startSync);
    ended.push(await runToEnd(caps, start));
    onProgress();
  }
  return ended;
}

function ProblemCell({ row }) {
  if (row.type === 'conflict') {
    const c = row.node;
    return html`<${KindBadge} kind=${c.kind} />${c.kind === 'DELETE' ? null : html`<${Badge} value="CONFLICT" tone="warn" label="Conflict" />`}
      <div class="small">${(c.fields || []).map((f) => html`<span key=${f.field} class="chip">${fieldLabel(f.field)}</span>`)}</div>`;
  }
  const f = row.node;
  return html`<${Badge} value="ERROR" label="Sync failed" />
    <span class="small muted"> ${f.attempts} attempt${f.attempts === 1 ? '' : 's'}</span>
    <${ErrorText} message=${f.error || 'No error recorded'} />`;
}

function QueueList({ route }) {
  const { caps, canEdit } = useApp();
  const q = route.query;
  const type = q.type || '';
  const connections = useConnections();
  const vars = { c: q.connectionId || null };
  const key = JSON.stringify([q.connectionId, q.kind, type]);
  const counts = useLoader(() => gql(queueQuery(false), vars).then((d) => d.reviewQueue), [q.connectionId]);
  const [pages, setPages] = useState({ conflicts: [], failed: [], conflictCursor: null, failedCursor: null,
    moreConflicts: false, moreFailed: false });
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState(null);
  const [selected, setSelected] = useState(new Map()); // key -> row
  const [working, setWorking] = useState(null);
  const generation = useRef(0);

  const wantConflicts = type !== 'failed' && caps.query('conflicts');
  const wantFailed = type !== 'conflicts';
  const load = (more = false) => {
    const mine = ++generation.current;
    setLoading(true);
    setError(null);
    const p = more ? pages : { conflictCursor: null, failedCursor: null };
    const conflictsPart = wantConflicts && (!more || pages.moreConflicts)
      ? gql(conflictsQuery(caps), { ...vars, kind: q.kind || null, first: PAGE, after: p.conflictCursor }).then((d) => d.conflicts)
      : Promise.resolve(null);
    const failedPart = wantFailed && (!more || pages.moreFailed)
      ? gql(queueQuery(true), { ...vars, first: PAGE, after: p.failedCursor }).then((d) => d.reviewQueue.failed)
      : Promise.resolve(null);
    Promise.all([conflictsPart, failedPart]).then(([c, f]) => {
      if (mine !== generation.current) return;
      setPages((prev) => ({
        conflicts: [...(more ? prev.conflicts : []), ...(c ? c.edges.map((e) => e.node) : [])],
        failed: [...(more ? prev.failed : []), ...(f ? f.edges.map((e) => e.node) : [])],
        conflictCursor: c ? c.pageInfo.endCursor : (more ? prev.conflictCursor : null),
        failedCursor: f ? f.pageInfo.endCursor : (more ? prev.failedCursor : null),
        moreConflicts: c ? c.pageInfo.hasNextPage : (more ? prev.moreConflicts : false),
        moreFailed: f ? f.pageInfo.hasNextPage : (more ? prev.moreFailed : false),
      }));
      setLoading(false);
    }, (e) => { if (mine === generation.current) { setError(e); setLoading(false); } });
  };
  const reloadAll = () => { load(false); counts.reload(); };
  useEffect(() => { setSelected(new Map()); load(false); }, [key]); // eslint-disable-line react-hooks/exhaustive-deps
  useConflictFeed(caps, reloadAll, q.connectionId || null);
  const bulk = useBulkResolve(caps, () => { setSelected(new Map()); reloadAll(); });

  const rows = [
    ...pages.conflicts.map((node) => ({ key: `c${node.id}`, type: 'conflict', node, connectionId: node.connectionId, item: node.item })),
    ...pages.failed.map((node) => ({ key: `f${node.link.id}`, type: 'failed', node, connectionId: node.connectionId, item: node.item })),
  ];
  const chosen = [...selected.values()];
  const chosenConflicts = chosen.filter((r) => r.type === 'conflict').map((r) => r.node);
  const chosenFailed = chosen.filter((r) => r.type === 'failed').map((r) => r.node);
  const allSelected = rows.length > 0 && rows.every((r) => selected.has(r.key));
  const toggle = (row) => setSelected((s) => { const n = new Map(s); if (n.has(row.key)) n.delete(row.key); else n.set(row.key, row); return n; });
  const toggleAll = () => setSelected(allSelected ? new Map() : new Map(rows.map((r) => [r.key, r])));

  const retry = async () => {
    const list = chosenFailed;
    setWorking(`Retrying ${formatInt(list.length)} record${list.length === 1 ? '' : 's'}…`);
    setSelected(new Map());
    try {
      const ended = await retryRecords(caps, list, reloadAll);
      const failedRuns = ended.filter((r) => r.status !== 'SUCCEEDED');
      if (failedRuns.length) toastError(`Retry run #${failedRuns[0].id} ${String(failedRuns[0].status).toLowerCase()}.`, { link: { href: href(`/runs/${failedRuns[0].id}`), label: 'Details' } });
      else toast(`Retried ${formatInt(list.length)} record${list.length === 1 ? '' : 's'}.`, ended.length === 1 ? { link: { href: href(`/runs/${ended[0].id}`), label: 'Open run' } } : {});
    } catch (e) {
      toastError(`Retry failed: ${describeError(e)}`);
    } finally {
      setWorking(null);
      reloadAll();
    }
  };

  const ignore = async () => {
    const items = [...new Set(chosenFailed.map((f) => f.item?.id).filter(Boolean))];
    setWorking(`Ignoring ${formatInt(items.length)} record${items.length === 1 ? '' : 's'}…`);
    setSelected(new Map());
    let failed = 0;
    for (const id of items) {
      try {
        await gql(`mutation($id: ID!) { setItemSyncPaused(itemId: $id, paused: true) ${caps.minimalSelection('mutation', 'setItemSyncPaused')} }`, { id });
      } catch { failed += 1; }
    }
    setWorking(null);
    if (failed) toastError(`${formatInt(failed)} could not be ignored.`);
    toast(`Ignored ${formatInt(items.length - failed)}: their sync is paused until you resume it on the item.`);
    reloadAll();
  };

  const c = counts.data;
  const countOf = (t) => (!c ? null : t === 'conflicts' ? c.openConflicts : t === 'failed' ? c.failedRecords : c.openConflicts + c.failedRecords);
  const kindValues = caps.enumValues(caps.argType('query', 'conflicts', 'kind')) || [];
  const canResolve = canEdit && (caps.mutation('resolveConflicts') || caps.mutation('resolveConflict'));
  const canRetry = canEdit && caps.mutation('startSync');
  const canIgnore = canEdit && caps.mutation('setItemSyncPaused');
  const selectable = canResolve || canRetry || canIgnore;
  const filtered = q.connectionId || q.kind;
  return html`
    <section>
      <${PageHeader} title="Review queue" subtitle="Open conflicts and records whose last sync failed">
        <button type="button" class="btn" onClick=${reloadAll}>Refresh</button>
      <//>
      <div class="tabs" role="group" aria-label="What to show">
        ${TYPES.map(([t, label]) => html`
          <button key=${t} type="button" class=${`tab ${type === t ? 'active' : ''}`} aria-pressed=${type === t}
            onClick=${() => setQuery({ type: t || undefined, kind: t === 'failed' ? undefined : q.kind })} data-testid=${`queue-tab-${t || 'all'}`}>
            ${label} <span class="tab-count">${countOf(t) === null ? '…' : formatInt(countOf(t))}</span>
          </button>`)}
      </div>
      <${FilterBar} label="Filter the queue" active=${[q.connectionId, q.kind].filter(Boolean).length}>
        <${SelectField} label="Connection" value=${q.connectionId} onChange=${(v) => setQuery({ connectionId: v })} testid="queue-connection"
          options=${[{ value: '', label: 'All connections' }, ...connections.map((x) => ({ value: String(x.id), label: x.name }))]} />
        ${type !== 'failed' && kindValues.length ? html`<${SelectField} label="Conflict kind" value=${q.kind} onChange=${(v) => setQuery({ kind: v })}
          options=${enumOptions(kindValues, 'All kinds', humanize)} testid="queue-kind" />` : null}
        ${filtered ? html`<button type="button" class="btn btn-link" onClick=${() => setQuery({ connectionId: undefined, kind: undefined })}>Clear filters</button>` : null}
      <//>
      ${working || bulk.working ? html`<div class="notice notice-info" role="status" data-testid="queue-working">
        ${working || `Resolving ${formatInt(bulk.working.total)} conflicts…`} The list updates as they are done.</div>` : null}
      ${selectable && selected.size ? html`
        <div class="bulkbar" role="region" aria-label="Bulk actions" data-testid="queue-bulkbar">
          <span>${formatInt(selected.size)} selected</span>
          ${canRetry && chosenFailed.length ? html`<button type="button" class="btn btn-primary" onClick=${retry}>Retry ${formatInt(chosenFailed.length)} failed</button>` : null}
          ${canIgnore && chosenFailed.length ? html`<button type="button" class="btn" onClick=${ignore}>Ignore ${formatInt(chosenFailed.length)} failed</button>` : null}
          ${canResolve && chosenConflicts.length ? html`
            <button type="button" class="btn" onClick=${() => bulk.ask('USE_REMOTE', chosenConflicts)}>Use remote for ${formatInt(chosenConflicts.length)}</button>
            <button type="button" class="btn" onClick=${() => bulk.ask('USE_LOCAL', chosenConflicts)}>Use local for ${formatInt(chosenConflicts.length)}</button>` : null}
          <button type="button" class="btn btn-link" onClick=${() => setSelected(new Map())}>Clear selection</button>
        </div>` : null}
      ${error ? html`<${ErrorBox} error=${error} onRetry=${reloadAll} />` : null}
      ${loading && !rows.length && !error ? html`<${Loading} />` : null}
      ${!loading && !error && !rows.length ? html`<${Empty} title=${filtered || type ? 'Nothing here matches' : 'Nothing to review'}>
        ${filtered || type ? 'Try other filters.' : 'No open conflicts and no failed records.'}<//>` : null}
      ${rows.length ? html`
        <div class=${`table-wrap ${loading ? 'is-loading' : ''}`} tabindex="0">
          <table class="table" data-testid="queue-table">
            <caption class="sr-only">Review queue</caption>
            <thead><tr>
              ${selectable ? html`<th scope="col" class="check"><input type="checkbox" aria-label="Select every row shown" checked=${allSelected} onChange=${toggleAll} /></th>` : null}
              <th scope="col">Item</th><th scope="col">Problem</th><th scope="col" class="hide-sm">Connection</th><th scope="col" class="hide-sm">Since</th>
            </tr></thead>
            <tbody>${rows.map((r) => html`
              <tr key=${r.key} data-testid="queue-row" data-type=${r.type} data-code=${r.item?.code} class=${selected.has(r.key) ? 'selected' : ''}>
                ${selectable ? html`<td class="check"><input type="checkbox" checked=${selected.has(r.key)} onChange=${() => toggle(r)}
                  aria-label=${`Select ${r.type === 'conflict' ? 'conflict' : 'failed record'} ${r.item?.code || ''}`} /></td>` : null}
                <td class="cell-item">${r.type === 'conflict'
                  ? html`<a href=${href(`/conflicts/${r.node.id}`)}>${r.item?.code || `Conflict ${r.node.id}`}</a>`
                  : html`<a href=${href(`/items/${r.item?.id}`)}>${r.item?.code || r.node.remoteId}</a>`}
                  ${r.item?.name ? html`<div class="small muted">${r.item.name}</div>` : null}</td>
                <td class="cell-problem"><${ProblemCell} row=${r} /></td>
                <td class="hide-sm">${connectionName(connections, r.connectionId)}</td>
                <td class="hide-sm nowrap">${r.type === 'conflict'
                  ? html`<span title=${formatDateTime(r.node.createdAt)}>${formatRelative(r.node.createdAt)}</span>`
                  : html`<span title=${formatDateTime(r.node.link.lastSyncedAt)}>${r.node.link.lastSyncedAt ? formatRelative(r.node.link.lastSyncedAt) : '—'}</span>`}</td>
              </tr>`)}
            </tbody>
          </table>
        </div>
        <div class="pager">
          <span class="pager-info">${formatInt(rows.length)} shown${countOf(type) !== null ? ` of ${formatInt(countOf(type))}` : ''}</span>
          ${pages.moreConflicts || pages.moreFailed ? html`<button type="button" class="btn" disabled=${loading} onClick=${() => load(true)}>Load more</button>` : null}
        </div>` : null}
      ${bulk.dialog}
    </section>`;
}

export function ReviewQueue({ route }) {
  const { caps } = useApp();
  if (!caps.query('reviewQueue')) return html`<${Unavailable} title="Review queue" what="a review queue" />`;
  return html`<${QueueList} route=${route} />`;
}
