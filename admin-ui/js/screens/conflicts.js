// Conflicts: open / resolved counts, filters, list, bulk resolution.

import { html, useState, useEffect, useRef } from '../lib.js';
import { gql } from '../api.js';
import { useApp } from '../context.js';
import { useLoader, useConnections, connectionName } from '../data.js';
import { href, setQuery } from '../router.js';
import { pageArgs, pageControls, pageSize } from '../paging.js';
import { PageHeader } from '../components/layout.js';
import { Loading, ErrorBox, Empty } from '../components/feedback.js';
import { Unavailable } from './not-found.js';
import { Pager } from '../components/pager.js';
import { SelectField, enumOptions } from '../components/fields.js';
import { FilterBar } from '../components/filters.js';
import { KindBadge } from '../components/conflict-kind.js';
import { useBulkResolve } from '../components/bulk-resolve.js';
import { formatRelative, formatDateTime, formatInt, humanize, fieldLabel } from '../format.js';
import { CONFLICT_SPEC, conflictType, useConflictFeed } from '../conflict-data.js';

function filterArgs(caps, q, { withStatus = true } = {}) {
  const defs = [];
  const args = [];
  const vars = {};
  const add = (name, value, fallback) => {
    if (value === null || value === undefined || value === '' || !caps.arg('query', 'conflicts', name)) return;
    defs.push(`$${name}: ${caps.argType('query', 'conflicts', name) || fallback}`);
    args.push(`${name}: $${name}`);
    vars[name] = value;
  };
  add('connectionId', q.connectionId, 'ID');
  if (withStatus) add('status', q.status || 'OPEN', 'ConflictStatus');
  add('kind', q.kind, 'String');
  add('search', q.search, 'String');
  return { defs, args, vars };
}

function countsQuery(caps, q) {
  const f = filterArgs(caps, q, { withStatus: false });
  const statusType = caps.argType('query', 'conflicts', 'status') || 'ConflictStatus';
  const statuses = caps.enumValues(statusType) || ['OPEN', 'RESOLVED'];
  const parts = statuses.map((s) => `${s}: conflicts(${[...f.args, `status: ${s}`, 'first: 0'].join(', ')}) { totalCount }`);
  return { query: `query${f.defs.length ? `(${f.defs.join(', ')})` : ''} { ${parts.join(' ')} }`, vars: f.vars, statuses };
}

export function Conflicts({ route }) {
  const { caps } = useApp();
  if (!caps.query('conflicts')) return html`<${Unavailable} title="Conflicts" what="conflict review" />`;
  return html`<${ConflictList} route=${route} />`;
}

function ConflictList({ route }) {
  const { caps, canEdit } = useApp();
  const q = route.query;
  const status = q.status || 'OPEN';
  const connections = useConnections();
  const backwards = caps.arg('query', 'conflicts', 'before');
  const page = pageArgs(q, pageSize(q), backwards);
  const f = filterArgs(caps, q);
  const variables = { ...page.vars, ...f.vars };
  const key = JSON.stringify(variables);
  const cType = conflictType(caps);
  const listType = caps.returns('query', 'conflicts');
  const result = useLoader(() => gql(`query(${[page.defs, ...f.defs].join(', ')}) {
      conflicts(${[page.args, ...f.args].join(', ')}) {
        ${caps.has(listType, 'totalCount') ? 'totalCount' : ''} pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { node { ${caps.select(cType, CONFLICT_SPEC)} } } } }`, variables).then((d) => d.conflicts), [key]);
  const counts = countsQuery(caps, q);
  const countResult = useLoader(() => (caps.has(listType, 'totalCount') ? gql(counts.query, counts.vars) : Promise.resolve(null)),
    [JSON.stringify(counts.vars)]);
  const [selected, setSelected] = useState(new Set());
  const reloadAll = () => { result.reload(); countResult.reload(); };
  const bulk = useBulkResolve(caps, () => { setSelected(new Set()); reloadAll(); });
  useConflictFeed(caps, reloadAll, q.connectionId || null);
  const [searchText, setSearchText] = useState(q.search || '');
  const debounce = useRef(null);
  useEffect(() => setSelected(new Set()), [key]);
  useEffect(() => setSearchText(q.search || ''), [q.search]);

  const data = result.data;
  const nodes = data ? data.edges.map((e) => e.node) : [];
  const selectable = canEdit && status === 'OPEN' && (caps.mutation('resolveConflicts') || caps.mutation('resolveConflict'));
  const allSelected = nodes.length > 0 && nodes.every((n) => selected.has(n.id));
  const toggle = (id) => setSelected((s) => { const n = new Set(s); if (n.has(id)) n.delete(id); else n.add(id); return n; });
  const toggleAll = () => setSelected(allSelected ? new Set() : new Set(nodes.map((n) => n.id)));
  const nav = pageControls(q, data?.pageInfo, backwards);
  const kindType = caps.argType('query', 'conflicts', 'kind');
  const kindValues = kindType ? caps.enumValues(kindType) : null;

  const statusValues = counts.statuses;
  const filtered = q.connectionId || q.kind || q.search;
  return html`
    <section>
      <${PageHeader} title="Conflicts" subtitle="Items changed both here and upstream since the last sync">
        <button type="button" class="btn" onClick=${reloadAll}>Refresh</button>
      <//>
      <div class="tabs" role="group" aria-label="Conflict status">
        ${statusValues.map((s) => html`
          <button key=${s} type="button" class=${`tab ${status === s ? 'active' : ''}`} aria-pressed=${status === s}
            onClick=${() => setQuery({ status: s === 'OPEN' ? undefined : s })} data-testid=${`tab-${s}`}>
            ${humanize(s)} <span class="tab-count">${countResult.data ? formatInt(countResult.data[s]?.totalCount) : '…'}</span>
          </button>`)}
      </div>
      <${FilterBar} label="Filter conflicts" active=${[q.connectionId, q.kind].filter(Boolean).length}
        onSubmit=${() => setQuery({ search: searchText.trim() || undefined })}
        search=${caps.arg('query', 'conflicts', 'search') ? html`
          <label class="field field-search"><span>Search</span>
            <input type="search" placeholder="Item code or name" value=${searchText}
              onInput=${(e) => { const v = e.currentTarget.value; setSearchText(v); clearTimeout(debounce.current); debounce.current = setTimeout(() => setQuery({ search: v.trim() || undefined }), 300); }} /></label>` : null}>
        ${caps.arg('query', 'conflicts', 'connectionId') ? html`<${SelectField} label="Connection" value=${q.connectionId} onChange=${(v) => setQuery({ connectionId: v })}
          options=${[{ value: '', label: 'All connections' }, ...connections.map((c) => ({ value: c.id, label: c.name }))]} />` : null}
        ${caps.arg('query', 'conflicts', 'kind') ? (kindValues
          ? html`<${SelectField} label="Kind" value=${q.kind} onChange=${(v) => setQuery({ kind: v })} options=${enumOptions(kindValues, 'All kinds', humanize)} />`
          : html`<label class="field"><span>Kind</span><input value=${q.kind || ''} placeholder="e.g. update" onChange=${(e) => setQuery({ kind: e.currentTarget.value.trim() || undefined })} /></label>`) : null}
        ${filtered ? html`<button type="button" class="btn btn-link" onClick=${() => { setSearchText(''); setQuery({ connectionId: undefined, kind: undefined, search: undefined }); }}>Clear filters</button>` : null}
      <//>

      ${bulk.working ? html`<div class="notice notice-info" role="status" data-testid="bulk-working">
        Resolving ${formatInt(bulk.working.total)} conflict${bulk.working.total === 1 ? '' : 's'}… the list updates as they are done.</div>` : null}
      ${selectable && selected.size ? html`
        <div class="bulkbar" role="region" aria-label="Bulk actions" data-testid="bulkbar">
          <span>${formatInt(selected.size)} selected</span>
          <button type="button" class="btn btn-primary" onClick=${() => bulk.ask('USE_REMOTE', nodes.filter((n) => selected.has(n.id)))}>Use remote for selected</button>
          <button type="button" class="btn" onClick=${() => bulk.ask('USE_LOCAL', nodes.filter((n) => selected.has(n.id)))}>Use local for selected</button>
          <button type="button" class="btn btn-link" onClick=${() => setSelected(new Set())}>Clear selection</button>
        </div>` : null}

      ${result.error ? html`<${ErrorBox} error=${result.error} onRetry=${result.reload} />` : null}
      ${!data && !result.error ? html`<${Loading} />` : null}
      ${data && !nodes.length ? html`<${Empty} title=${status === 'OPEN' ? (filtered ? 'No open conflicts match' : 'No open conflicts') : 'Nothing here'}>
        ${status === 'OPEN' && !filtered ? 'Everything is in agreement. Conflicts appear when an item changes both here and upstream.' : null}<//>` : null}
      ${nodes.length ? html`
        <div class=${`table-wrap ${result.loading ? 'is-loading' : ''}`} tabindex="0">
          <table class="table" data-testid="conflicts-table">
            <thead><tr>
              ${selectable ? html`<th scope="col" class="check"><input type="checkbox" aria-label="Select all conflicts on this page" checked=${allSelected} onChange=${toggleAll} /></th>` : null}
              <th scope="col">Item</th><th scope="col">Fields</th><th scope="col" class="hide-sm">Kind</th>
              <th scope="col" class="hide-sm">Connection</th><th scope="col" class="hide-sm">Detected</th>
              ${status !== 'OPEN' ? html`<th scope="col">Resolution</th>` : null}
            </tr></thead>
            <tbody>${nodes.map((c) => html`
              <tr key=${c.id} data-testid="conflict-row" class=${selected.has(c.id) ? 'selected' : ''}>
                ${selectable ? html`<td class="check"><input type="checkbox" checked=${selected.has(c.id)} onChange=${() => toggle(c.id)}
                  aria-label=${`Select conflict on ${c.item?.code || c.id}`} /></td>` : null}
                <td><a href=${href(`/conflicts/${c.id}`)}>${c.item?.code || `Conflict ${c.id}`}</a> <${KindBadge} kind=${c.kind} />
                  ${c.item?.name ? html`<div class="small muted">${c.item.name}</div>` : null}</td>
                <td>${(c.fields || []).map((fd) => html`<span key=${fd.field} class="chip">${fieldLabel(fd.field)}</span>`)}</td>
                <td class="hide-sm">${humanize(c.kind)}</td>
                <td class="hide-sm">${connectionName(connections, c.connectionId)}</td>
                <td class="hide-sm" title=${formatDateTime(c.createdAt)}>${formatRelative(c.createdAt)}</td>
                ${status !== 'OPEN' ? html`<td>${c.resolution ? humanize(c.resolution) : '—'}</td>` : null}
              </tr>`)}
            </tbody>
          </table>
        </div>
        <${Pager} pageInfo=${data.pageInfo} totalCount=${data.totalCount} shown=${nodes.length} label="conflicts"
          hasPrev=${nav.hasPrev} onPrev=${nav.prev} onNext=${nav.next} />` : null}

      ${bulk.dialog}
    </section>`;
}
