// One item: its fields (editable by editors), links per connection, vendor prices, history.

import { html, useState, useEffect } from '../lib.js';
import { gql, describeError } from '../api.js';
import { useApp } from '../context.js';
import { useLoader, useConnections, connectionName } from '../data.js';
import { href } from '../router.js';
import { PageHeader } from '../components/layout.js';
import { Loading, ErrorBox, Empty, InlineError, ErrorText } from '../components/feedback.js';
import { Badge } from '../components/badges.js';
import { TextField, CheckboxField, MoneyField } from '../components/fields.js';
import { toast, toastError } from '../components/toast.js';
import {
  formatMoney, formatDateTime, formatDate, formatRelative, formatInt, humanize, decimalForInput, fieldLabel, formatFieldValue,
} from '../format.js';
import { buildItemInput, saveItem, MONEY_FIELDS } from '../item-edit.js';

const ITEM = `id code name kind description cost price memberPrice addOnPrice active categoryId
  weightKg lengthCm widthCm heightCm quantity attributes localModifiedAt deletedAt createdAt updatedAt
  category { id name }
  links { id connectionId entityType remoteId syncStatus lastSyncedAt remoteModifiedOn deletedRemotely paused lastError attempts }
  vendorPrices { id vendor vendorSku price effectiveDate importRunId updatedAt }`;

function EditForm({ item, onSaved }) {
  const initial = () => ({
    name: item.name, description: item.description || '', active: item.active,
    ...Object.fromEntries(MONEY_FIELDS.map(([k]) => [k, decimalForInput(item[k])])),
  });
  const [draft, setDraft] = useState(initial);
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setDraft(initial()), [item]); // eslint-disable-line react-hooks/exhaustive-deps
  // Typing in a field retires the message a save attempt left on it.
  const set = (k) => (v) => { setDraft((d) => ({ ...d, [k]: v })); setErrors((e) => ({ ...e, [k]: undefined })); };

  const submit = async (e) => {
    e.preventDefault();
    const { input, errors: errs } = buildItemInput(item, draft);
    setErrors(errs);
    setError(null);
    if (Object.keys(errs).length) return;
    if (Object.keys(input).length === 0) { toast('Nothing changed.', { kind: 'info' }); return; }
    setBusy(true);
    try {
      const saved = await saveItem(item.id, input, ITEM);
      toast(`Saved ${saved.code}. Linked systems get the change on the next sync.`);
      onSaved(saved);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return html`
    <form class="card form" onSubmit=${submit} aria-labelledby="edit-title" data-testid="item-edit-form">
      <h2 id="edit-title">Edit</h2>
      <${TextField} label="Name" value=${draft.name} onInput=${set('name')} required error=${errors.name} />
      <label class="field"><span>Description</span>
        <textarea rows="3" value=${draft.description} onInput=${(e) => set('description')(e.currentTarget.value)}></textarea></label>
      <div class="form-row">
        ${MONEY_FIELDS.map(([k, label]) => html`<${MoneyField} key=${k} label=${label} value=${draft[k]} onInput=${set(k)} error=${errors[k]} testid=${`edit-${k}`} />`)}
      </div>
      <${CheckboxField} label="Active" checked=${draft.active} onChange=${set('active')} />
      <${InlineError} error=${error} />
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" disabled=${busy}>${busy ? 'Saving…' : 'Save changes'}</button>
        <button type="button" class="btn" disabled=${busy} onClick=${() => { setDraft(initial()); setErrors({}); setError(null); }}>Reset</button>
      </div>
    </form>`;
}

function Links({ item, reload }) {
  const { caps, canEdit } = useApp();
  const connections = useConnections();
  const [busy, setBusy] = useState(false);
  const act = async (query, vars, ok) => {
    setBusy(true);
    try {
      await gql(query, vars);
      toast(ok);
      reload();
    } catch (e) {
      toastError(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  if (!item.links.length) return html`<${Empty} title="Not linked">This item exists only locally.<//>`;
  const canRetry = canEdit && caps.mutation('retryItem');
  const canPause = canEdit && caps.mutation('setItemSyncPaused');
  const paused = item.links.some((l) => l.paused);
  return html`
    <div class="table-wrap" tabindex="0">
      <table class="table">
        <thead><tr><th scope="col">Connection</th><th scope="col">Remote</th><th scope="col">Status</th>
          <th scope="col">Last synced</th><th scope="col" class="hide-sm">Remote modified</th><th scope="col" class="hide-sm">Attempts</th></tr></thead>
        <tbody>
          ${item.links.map((l) => html`
            <tr key=${l.id}>
              <td><a href=${href(`/connections/${l.connectionId}`)}>${connectionName(connections, l.connectionId)}</a></td>
              <td>${humanize(l.entityType)} <code>${l.remoteId}</code></td>
              <td><${Badge} value=${l.syncStatus} />${l.paused ? html` <${Badge} value="PAUSED" label="Paused" />` : null}
                ${l.deletedRemotely ? html` <${Badge} value="DELETED" label="Deleted remotely" />` : null}
                ${l.lastError ? html`<div class="small" data-testid="link-error"><${ErrorText} message=${l.lastError} /></div>` : null}</td>
              <td>${formatDateTime(l.lastSyncedAt)}</td>
              <td class="hide-sm">${formatDateTime(l.remoteModifiedOn)}</td>
              <td class="hide-sm">${formatInt(l.attempts)}</td>
            </tr>`)}
        </tbody>
      </table>
    </div>
    ${canRetry || canPause ? html`
      <div class="card-actions">
        ${canRetry ? html`<button type="button" class="btn" disabled=${busy}
          onClick=${() => act(`mutation($id: ID!) { retryItem(itemId: $id) ${caps.minimalSelection('mutation', 'retryItem')} }`, { id: item.id }, 'Retry queued.')}>Retry sync</button>` : null}
        ${canPause ? html`<button type="button" class="btn" disabled=${busy}
          onClick=${() => act(`mutation($id: ID!, $p: Boolean!) { setItemSyncPaused(itemId: $id, paused: $p) ${caps.minimalSelection('mutation', 'setItemSyncPaused')} }`, { id: item.id, p: !paused },
            paused ? 'Sync resumed for this item.' : 'Sync paused for this item.')}>${paused ? 'Resume sync' : 'Pause sync'}</button>` : null}
      </div>` : null}`;
}

function VendorPrices({ prices }) {
  if (!prices.length) return html`<${Empty} title="No vendor prices">Import a vendor price list to see them here.<//>`;
  return html`
    <div class="table-wrap" tabindex="0">
      <table class="table">
        <thead><tr><th scope="col">Vendor</th><th scope="col">Vendor SKU</th><th scope="col" class="num">Price</th>
          <th scope="col">Effective</th><th scope="col" class="hide-sm">Import</th></tr></thead>
        <tbody>${prices.map((p) => html`
          <tr key=${p.id}><td>${p.vendor}</td><td><code>${p.vendorSku}</code></td><td class="num">${formatMoney(p.price)}</td>
            <td>${formatDate(p.effectiveDate)}</td>
            <td class="hide-sm">${p.importRunId ? html`<a href=${href(`/runs/${p.importRunId}`)}>Run #${p.importRunId}</a>` : '—'}</td></tr>`)}
        </tbody>
      </table>
    </div>`;
}

function changeList(details) {
  if (!details || typeof details !== 'object') return null;
  const entries = Object.entries(details);
  if (!entries.length) return null;
  return html`<ul class="changes">${entries.map(([k, v]) => html`<li key=${k}><strong>${fieldLabel(k)}</strong>: ${
    v && typeof v === 'object' && !Array.isArray(v) && 'from' in v
      ? html`<span class="old">${formatFieldValue(k, v.from)}</span> → <span class="new">${formatFieldValue(k, v.to)}</span>`
      : formatFieldValue(k, v)}</li>`)}</ul>`;
}

function History({ itemId }) {
  const [after, setAfter] = useState(null);
  const [rows, setRows] = useState([]);
  const page = useLoader(() => gql(`query($id: String!, $after: String) {
      auditLog(entityType: "item", entityId: $id, first: 20, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { id actor action details createdAt } } } }`,
  { id: String(itemId), after }).then((d) => d.auditLog), [itemId, after]);
  useEffect(() => {
    if (page.data) setRows((r) => (after ? [...r, ...page.data.edges.map((e) => e.node)] : page.data.edges.map((e) => e.node)));
  }, [page.data]); // eslint-disable-line react-hooks/exhaustive-deps
  if (page.error) return html`<${ErrorBox} error=${page.error} onRetry=${page.reload} title="Could not load the history" />`;
  if (!page.data && page.loading) return html`<${Loading} />`;
  if (!rows.length) return html`<${Empty} title="No history yet">Local edits, syncs and resolutions are recorded here.<//>`;
  return html`
    <ol class="timeline" data-testid="item-history">
      ${rows.map((r) => html`<li key=${r.id}>
        <div><strong>${humanize(r.action.replace(/\./g, ' '))}</strong> by ${r.actor}
          <span class="muted" title=${formatDateTime(r.createdAt)}> · ${formatRelative(r.createdAt)}</span></div>
        ${changeList(r.details)}</li>`)}
    </ol>
    ${page.data?.pageInfo.hasNextPage ? html`<button type="button" class="btn" disabled=${page.loading}
      onClick=${() => setAfter(page.data.pageInfo.endCursor)}>Load older</button>` : null}`;
}

export function ItemPage({ id }) {
  const { canEdit } = useApp();
  const [historyKey, setHistoryKey] = useState(0);
  const result = useLoader(() => gql(`query($id: ID!) { item(id: $id) { ${ITEM} } }`, { id }).then((d) => d.item), [id]);
  const item = result.data;
  if (result.error && !item) {
    return html`<section><${PageHeader} title="Item" /><${ErrorBox} error=${result.error} onRetry=${result.reload}
      title=${result.error.code === 'NOT_FOUND' ? 'This item does not exist' : 'Could not load this item'} /></section>`;
  }
  if (!item) return html`<section><${PageHeader} title="Item" /><${Loading} /></section>`;
  const attrs = item.attributes && typeof item.attributes === 'object' ? Object.entries(item.attributes) : [];
  return html`
    <section>
      <p class="breadcrumb"><a href="#/items">Items</a> / ${item.code}</p>
      <${PageHeader} title=${item.name} subtitle=${`${item.code} · ${humanize(item.kind)}`}>
        ${item.deletedAt ? html`<${Badge} value="DELETED" label=${`Deleted ${formatDate(item.deletedAt)}`} />` : null}
        <${Badge} value=${item.active ? 'ACTIVE' : 'INACTIVE'} label=${item.active ? 'Active' : 'Inactive'} />
      <//>
      <div class="two-col">
        <div class="card">
          <h2>Details</h2>
          <dl class="kv">
            ${MONEY_FIELDS.map(([k, label]) => html`<div key=${k}><dt>${label}</dt><dd data-testid=${`item-${k}`}>${formatMoney(item[k])}</dd></div>`)}
            <div><dt>Category</dt><dd>${item.category?.name || '—'}</dd></div>
            <div><dt>Description</dt><dd>${item.description || html`<span class="muted">—</span>`}</dd></div>
            ${item.quantity !== null ? html`<div><dt>Quantity</dt><dd>${formatInt(item.quantity)}</dd></div>` : null}
            ${item.weightKg ? html`<div><dt>Weight</dt><dd>${item.weightKg} kg</dd></div>` : null}
            ${item.lengthCm || item.widthCm || item.heightCm ? html`<div><dt>Size</dt><dd>${[item.lengthCm, item.widthCm, item.heightCm].map((v) => v ?? '?').join(' × ')} cm</dd></div>` : null}
            <div><dt>Local edit</dt><dd>${item.localModifiedAt ? formatDateTime(item.localModifiedAt) : html`<span class="muted">none</span>`}</dd></div>
            <div><dt>Updated</dt><dd>${formatDateTime(item.updatedAt)}</dd></div>
            ${attrs.map(([k, v]) => html`<div key=${k} data-field=${k}><dt>${fieldLabel(k)}</dt><dd>${formatFieldValue(k, v)}</dd></div>`)}
          </dl>
        </div>
        ${canEdit && !item.deletedAt ? html`<${EditForm} item=${item} onSaved=${(saved) => { result.reload(); setHistoryKey((k) => k + 1); return saved; }} />` : null}
      </div>
      <div class="card"><h2>Links</h2><${Links} item=${item} reload=${result.reload} /></div>
      <div class="card"><h2>Vendor prices</h2><${VendorPrices} prices=${item.vendorPrices} /></div>
      <div class="card"><h2>History</h2><${History} key=${historyKey} itemId=${item.id} /></div>
    </section>`;
}
