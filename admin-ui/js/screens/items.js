// Items: search, filters, cursor pagination, inline edit of name / cost / price.

import { html, useState, useEffect, useLayoutEffect, useRef } from '../lib.js';
import { gql, describeError } from '../api.js';
import { useApp } from '../context.js';
import { useLoader, useConnections } from '../data.js';
import { href, setQuery } from '../router.js';
import { pageArgs, pageControls, pageSize, PAGE_SIZES } from '../paging.js';
import { PageHeader } from '../components/layout.js';
import { Loading, ErrorBox, Empty } from '../components/feedback.js';
import { Badge } from '../components/badges.js';
import { Pager } from '../components/pager.js';
import { SelectField, MoneyField, enumOptions } from '../components/fields.js';
import { FilterBar } from '../components/filters.js';
import { toast } from '../components/toast.js';
import { formatMoney, formatRelative, formatDateTime, humanize, decimalForInput } from '../format.js';
import { buildItemInput, saveItem, MONEY_FIELDS } from '../item-edit.js';

const ROW = `id code name kind cost price active deletedAt updatedAt category { id name }
  links { connectionId syncStatus paused }`;

function itemsQuery(defs, args) {
  return `query(${defs}, $search: String, $kind: ItemKind, $active: Boolean, $deleted: Boolean,
      $syncStatus: LinkStatus, $connectionId: ID, $sort: ItemSort!, $descending: Boolean!) {
    items(${args}, search: $search, kind: $kind, active: $active, deleted: $deleted,
      syncStatus: $syncStatus, connectionId: $connectionId, sort: $sort, descending: $descending) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { ${ROW} } }
    }
  }`;
}

const bool = (v) => (v === 'true' ? true : v === 'false' ? false : null);

function SyncCell({ links }) {
  if (!links || links.length === 0) return html`<span class="muted">local only</span>`;
  return html`${links.map((l) => html`<span key=${l.connectionId} class="sync-cell">
    <${Badge} value=${l.syncStatus} />${l.paused ? html` <${Badge} value="PAUSED" label="Paused" />` : null}</span>`)}`;
}

function EditRow({ item, onSaved, onCancel, colSpan }) {
  const [draft, setDraft] = useState({ name: item.name, cost: decimalForInput(item.cost), price: decimalForInput(item.price) });
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const first = useRef(null);
  // Before the browser paints, so nothing typed right away lands elsewhere.
  useLayoutEffect(() => first.current?.focus(), []);
  const set = (k) => (v) => { setDraft({ ...draft, [k]: v }); setErrors((e) => ({ ...e, [k]: undefined })); };

  const save = async () => {
    const { input, errors: errs } = buildItemInput(item, draft);
    setErrors(errs);
    if (Object.keys(errs).length) return;
    if (Object.keys(input).length === 0) { onCancel(); return; }
    setBusy(true);
    setError(null);
    try {
      const saved = await saveItem(item.id, input, ROW);
      toast(`Saved ${saved.code}.`);
      onSaved(saved);
    } catch (e) {
      setError(describeError(e));
      setBusy(false);
    }
  };
  const onKey = (e) => {
    if (e.key === 'Enter') { e.preventDefault(); save(); }
    if (e.key === 'Escape') { e.preventDefault(); onCancel(); }
  };
  const label = Object.fromEntries(MONEY_FIELDS);
  const messages = [errors.name, ...['cost', 'price'].filter((k) => errors[k]).map((k) => `${label[k]}: ${errors[k]}`), error].filter(Boolean);
  return html`
    <tr class="editing" data-testid="edit-row" onKeyDown=${onKey}>
      <td colspan=${colSpan}>
        <div class="inline-edit">
          <strong class="inline-edit-code">${item.code}</strong>
          <label class="field"><span>Name</span>
            <input ref=${first} value=${draft.name} onInput=${(e) => set('name')(e.currentTarget.value)} aria-invalid=${errors.name ? 'true' : undefined} data-testid="edit-name" /></label>
          <${MoneyField} label="Cost" value=${draft.cost} onInput=${set('cost')} testid="edit-cost" />
          <${MoneyField} label="Price" value=${draft.price} onInput=${set('price')} testid="edit-price" />
          <div class="inline-edit-actions">
            <button type="button" class="btn btn-primary" disabled=${busy} onClick=${save}>${busy ? 'Saving…' : 'Save'}</button>
            <button type="button" class="btn" disabled=${busy} onClick=${onCancel}>Cancel</button>
          </div>
        </div>
        ${messages.length ? html`<div class="inline-error" role="alert">${messages.join('. ')}</div>` : null}
      </td>
    </tr>`;
}

/** A column header that sorts the list by `sort` when clicked (again: the other way). */
function SortHeader({ label, sort, q, className = '' }) {
  const current = (q.sort || 'CODE') === sort;
  const desc = current && q.desc === 'true';
  const next = () => setQuery({ sort, desc: current && !desc ? 'true' : undefined });
  return html`
    <th scope="col" class=${className} aria-sort=${current ? (desc ? 'descending' : 'ascending') : 'none'}>
      <button type="button" class="sort-btn" onClick=${next} data-testid=${`sort-${sort}`}>
        ${label}<span class="sort-mark" aria-hidden="true">${current ? (desc ? '▼' : '▲') : '↕'}</span>
      </button>
    </th>`;
}

export function Items({ route }) {
  const { caps, canEdit } = useApp();
  const q = route.query;
  const connections = useConnections();
  const size = pageSize(q);
  const backwards = caps.arg('query', 'items', 'before');
  const page = pageArgs(q, size, backwards);
  const [searchText, setSearchText] = useState(q.search || '');
  const [editing, setEditing] = useState(null);
  const debounce = useRef(null);

  useEffect(() => setSearchText(q.search || ''), [q.search]);

  const variables = {
    ...page.vars,
    search: q.search || null,
    kind: q.kind || null,
    active: bool(q.active),
    deleted: q.deleted === 'true' ? true : null,
    syncStatus: q.syncStatus || null,
    connectionId: q.connectionId || null,
    sort: q.sort || 'CODE',
    descending: q.desc === 'true',
  };
  const key = JSON.stringify(variables);
  const result = useLoader(() => gql(itemsQuery(page.defs, page.args), variables).then((d) => d.items), [key]);
  useEffect(() => setEditing(null), [key]);

  const onSearch = (value) => {
    setSearchText(value);
    clearTimeout(debounce.current);
    debounce.current = setTimeout(() => setQuery({ search: value.trim() || undefined }), 300);
  };

  const data = result.data;
  const nav = pageControls(q, data?.pageInfo, backwards);
  const kinds = caps.enumValues('ItemKind') || ['SERVICE', 'MATERIAL', 'EQUIPMENT', 'PRODUCT'];
  const statuses = caps.enumValues('LinkStatus') || ['SYNCED', 'PENDING_PUSH', 'PENDING_PULL', 'CONFLICT', 'ERROR'];
  const sorts = caps.enumValues('ItemSort') || ['CODE', 'NAME', 'UPDATED_AT'];
  const cols = canEdit ? 10 : 9;
  const filtered = q.search || q.kind || q.active || q.syncStatus || q.deleted || q.connectionId;

  const replaceRow = (saved) => {
    result.setData((d) => ({ ...d, edges: d.edges.map((e) => (e.node.id === saved.id ? { ...e, node: saved } : e)) }));
    setEditing(null);
  };

  return html`
    <section>
      <${PageHeader} title="Items" subtitle="The price book: services, materials, equipment and products" />
      <${FilterBar} label="Filter items" active=${[q.kind, q.active, q.syncStatus, q.connectionId, q.deleted].filter(Boolean).length}
        onSubmit=${() => { clearTimeout(debounce.current); setQuery({ search: searchText.trim() || undefined }); }}
        search=${html`<label class="field field-search">
          <span>Search</span>
          <input type="search" placeholder="Code or name" value=${searchText} data-testid="items-search"
            onInput=${(e) => onSearch(e.currentTarget.value)} />
        </label>`}>
        <${SelectField} label="Kind" value=${q.kind} options=${enumOptions(kinds, 'All kinds', humanize)} onChange=${(v) => setQuery({ kind: v })} />
        <${SelectField} label="Active" value=${q.active} onChange=${(v) => setQuery({ active: v })}
          options=${[{ value: '', label: 'Active and inactive' }, { value: 'true', label: 'Active' }, { value: 'false', label: 'Inactive' }]} />
        <${SelectField} label="Sync status" value=${q.syncStatus} options=${enumOptions(statuses, 'Any status', humanize)} onChange=${(v) => setQuery({ syncStatus: v })} />
        <${SelectField} label="Connection" value=${q.connectionId} onChange=${(v) => setQuery({ connectionId: v })}
          options=${[{ value: '', label: 'All connections' }, ...connections.map((c) => ({ value: c.id, label: c.name }))]} />
        <${SelectField} label="Deleted" value=${q.deleted} onChange=${(v) => setQuery({ deleted: v })}
          options=${[{ value: '', label: 'Live items' }, { value: 'true', label: 'Deleted items' }]} />
        <${SelectField} label="Sort by" value=${q.sort || 'CODE'} options=${sorts.map((v) => ({ value: v, label: humanize(v) }))} onChange=${(v) => setQuery({ sort: v })} />
        <${SelectField} label="Order" value=${q.desc === 'true' ? 'true' : ''} onChange=${(v) => setQuery({ desc: v })}
          options=${[{ value: '', label: 'Ascending' }, { value: 'true', label: 'Descending' }]} />
        <${SelectField} label="Per page" value=${String(size)} onChange=${(v) => setQuery({ size: v })}
          options=${PAGE_SIZES.map((n) => ({ value: String(n), label: String(n) }))} />
        ${filtered ? html`<button type="button" class="btn btn-link" onClick=${() => { setSearchText(''); setQuery({ search: undefined, kind: undefined, active: undefined, syncStatus: undefined, deleted: undefined, connectionId: undefined }); }}>Clear filters</button>` : null}
      <//>

      ${result.error ? html`<${ErrorBox} error=${result.error} onRetry=${result.reload} />` : null}
      ${!data && !result.error ? html`<${Loading} />` : null}
      ${data && data.edges.length === 0 ? html`<${Empty} title=${filtered ? 'No items match these filters' : 'No items yet'}>
        ${filtered ? 'Try another search or clear the filters.' : 'Items appear here after the first sync of a connection.'}<//>` : null}
      ${data && data.edges.length ? html`
        <div class=${`table-wrap ${result.loading ? 'is-loading' : ''}`} tabindex="0" aria-busy=${result.loading}>
          <table class="table" data-testid="items-table">
            <caption class="sr-only">Items, ${data.totalCount} in total</caption>
            <thead><tr>
              <${SortHeader} label="Code" sort="CODE" q=${q} className="hide-xs" /><${SortHeader} label="Name" sort="NAME" q=${q} />
              <th scope="col" class="hide-sm">Kind</th>
              <th scope="col" class="hide-sm">Category</th><th scope="col" class="num hide-xs">Cost</th><th scope="col" class="num">Price</th>
              <th scope="col" class="hide-sm">Active</th><th scope="col" class="hide-sm">Sync</th>
              <${SortHeader} label="Updated" sort="UPDATED_AT" q=${q} className="hide-sm" />
              ${canEdit ? html`<th scope="col"><span class="sr-only">Actions</span></th>` : null}
            </tr></thead>
            <tbody>
              ${data.edges.map(({ node: it }) => (editing === it.id
                ? html`<${EditRow} key=${it.id} item=${it} colSpan=${cols} onSaved=${replaceRow} onCancel=${() => setEditing(null)} />`
                : html`
                <tr key=${it.id} data-testid="item-row" data-code=${it.code}>
                  <td class="code hide-xs"><a href=${href(`/items/${it.id}`)}>${it.code}</a></td>
                  <td class="cell-name">${it.name}${it.deletedAt ? html` <${Badge} value="DELETED" label="Deleted" />` : null}
                    <div class="show-xs small"><a href=${href(`/items/${it.id}`)}>${it.code}</a> · cost ${formatMoney(it.cost)}</div></td>
                  <td class="hide-sm">${humanize(it.kind)}</td>
                  <td class="hide-sm">${it.category?.name || html`<span class="muted">—</span>`}</td>
                  <td class="num hide-xs" data-testid="cell-cost">${formatMoney(it.cost)}</td>
                  <td class="num" data-testid="cell-price">${formatMoney(it.price)}</td>
                  <td class="hide-sm">${it.active ? 'Yes' : 'No'}</td>
                  <td class="hide-sm"><${SyncCell} links=${it.links} /></td>
                  <td class="hide-sm nowrap" title=${formatDateTime(it.updatedAt)}>${formatRelative(it.updatedAt)}</td>
                  ${canEdit ? html`<td class="actions">${it.deletedAt ? null : html`
                    <button type="button" class="btn btn-small" aria-label=${`Edit ${it.code}`} onClick=${() => setEditing(it.id)}>Edit</button>`}</td>` : null}
                </tr>`))}
            </tbody>
          </table>
        </div>
        <${Pager} pageInfo=${data.pageInfo} totalCount=${data.totalCount} shown=${data.edges.length} label="items"
          hasPrev=${nav.hasPrev} onPrev=${nav.prev} onNext=${nav.next} />` : null}
    </section>`;
}
