// One conflict: base / local / remote side by side, differences highlighted, one-click
// use-remote / use-local, or a field-by-field merge; stale conflicts are reported clearly.

import { html, useState, useRef, useEffect } from '../lib.js';
import { gql, describeError } from '../api.js';
import { useApp } from '../context.js';
import { useLoader, useConnections, connectionName } from '../data.js';
import { href } from '../router.js';
import { PageHeader } from '../components/layout.js';
import { Loading, ErrorBox } from '../components/feedback.js';
import { Unavailable } from './not-found.js';
import { Badge } from '../components/badges.js';
import { toast } from '../components/toast.js';
import { MoneyField } from '../components/fields.js';
import {
  formatDateTime, formatRelative, humanize, fieldLabel, formatFieldValue, isMoneyField, parseMoneyInput, plainDecimal,
} from '../format.js';
import { providerLabel } from '../providers.js';
import {
  CONFLICT_FULL_SPEC, conflictType, resolveOne, same, kindInfo, fieldChange,
} from '../conflict-data.js';

const asText = (field, v) => {
  if (v === null || v === undefined) return '';
  if (isMoneyField(field)) return plainDecimal(v);
  return typeof v === 'string' ? v : JSON.stringify(v);
};

const PICKS = [['LOCAL', 'Local'], ['REMOTE', 'Remote'], ['BASE', 'Base'], ['CUSTOM', 'Custom']];

/** Rows to compare: every field of the full versions, diff fields first. */
function compareRows(c) {
  const diff = new Map((c.fields || []).map((f) => [f.field, f]));
  const obj = (v) => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});
  const base = obj(c.base);
  const local = obj(c.local);
  const remote = obj(c.remote);
  const names = [...diff.keys()];
  for (const k of [...Object.keys(local), ...Object.keys(remote), ...Object.keys(base)]) {
    if (!names.includes(k)) names.push(k);
  }
  return names.map((name) => {
    const f = diff.get(name);
    const row = f ? { field: name, base: f.base, local: f.local, remote: f.remote, change: f.change, inDiff: true }
      : { field: name, base: base[name], local: local[name], remote: remote[name], inDiff: false };
    row.localChanged = !same(row.local, row.base);
    row.remoteChanged = !same(row.remote, row.base);
    // Only a field both sides changed is a conflict; a one-sided change has an obvious keeper.
    row.side = f ? fieldChange(row) : null;
    row.differs = row.side === 'BOTH';
    return row;
  });
}

/** Who changed a field since the last sync, in words beside its name. */
const SIDE_TAG = { LOCAL: 'Changed here', REMOTE: 'Changed upstream', BOTH: 'Changed on both sides' };

/** What a merge keeps for a one-sided change unless the admin picks otherwise. */
const defaultPick = (row) => ({ LOCAL: 'LOCAL', REMOTE: 'REMOTE' })[row.side] || null;

/** "your change to Name" / "the upstream changes to Price and Cost". */
function changeList(whose, rows) {
  const names = rows.map((r) => fieldLabel(r.field));
  const list = names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : names[0];
  return `${whose} change${names.length > 1 ? 's' : ''} to ${list}`;
}

function Cell({ field, value, changed, label }) {
  return html`<td data-label=${label} class=${changed ? 'cell-changed' : ''}>
    <span class="value">${formatFieldValue(field, value)}</span>${changed ? html`<span class="sr-only"> (changed)</span>` : null}</td>`;
}

/** What a kind of conflict means, above the comparison (deleted upstream, first link…). */
function KindBanner({ info, context }) {
  return html`
    <div class="notice notice-bad kind-banner" role="note" data-testid="kind-banner">
      <strong>${info.title}.</strong> ${info.banner(context)}
      <ul>
        <li><strong>${info.useRemote}</strong> (use remote) ${info.useRemoteEffect}.</li>
        <li><strong>${info.useLocal}</strong> (use local) ${info.useLocalEffect}.</li>
      </ul>
    </div>`;
}

function StaleNotice({ onReload }) {
  const ref = useRef(null);
  // The buttons sit at the bottom of the page: bring the explanation into view.
  useEffect(() => { ref.current?.scrollIntoView({ block: 'center' }); ref.current?.focus({ preventScroll: true }); }, []);
  return html`
    <div ref=${ref} tabindex="-1" class="notice notice-bad stale" role="alert" data-testid="stale-error">
      <strong>This conflict is out of date.</strong>
      The item changed here or upstream after the conflict was recorded, so resolving it now could overwrite
      newer data. Reload to see the current versions, then decide again.
      <div><button type="button" class="btn" onClick=${onReload}>Reload conflict</button></div>
    </div>`;
}

function ConflictDetails({ id }) {
  const { caps, canEdit } = useApp();
  const connections = useConnections();
  const sel = caps.select(conflictType(caps), CONFLICT_FULL_SPEC);
  const result = useLoader(() => gql(`query($id: ID!) { conflict(id: $id) { ${sel} } }`, { id }).then((d) => d.conflict), [id]);
  const [chosen, setChosen] = useState({});
  const [custom, setCustom] = useState({});
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);
  const [missing, setMissing] = useState([]);

  const c = result.data;
  if (result.error && !c) {
    return html`<section><${PageHeader} title="Conflict" /><${ErrorBox} error=${result.error} onRetry=${result.reload}
      title=${result.error.code === 'NOT_FOUND' ? 'This conflict does not exist' : 'Could not load this conflict'} /></section>`;
  }
  if (!c) return html`<section><${PageHeader} title="Conflict" /><${Loading} /></section>`;

  const rows = compareRows(c);
  const diffRows = rows.filter((r) => r.inDiff);
  // One-sided changes start picked (local-only keeps local, remote-only takes remote).
  const picks = Object.fromEntries(diffRows.map((r) => [r.field, chosen[r.field] || defaultPick(r)]).filter(([, p]) => p));
  const localOnly = diffRows.filter((r) => r.side === 'LOCAL');
  const remoteOnly = diffRows.filter((r) => r.side === 'REMOTE');
  const open = String(c.status).toUpperCase() === 'OPEN';
  const canResolve = canEdit && open && caps.mutation('resolveConflict');
  const info = kindInfo(c.kind);
  const connection = connections.find((x) => String(x.id) === String(c.connectionId));
  const upstream = connection ? providerLabel(connection.provider) : 'The upstream system';
  const context = { upstream, connection: connectionName(connections, c.connectionId), item: c.item };
  const canMerge = !info || info.merge;
  const reload = () => { setError(null); setChosen({}); setCustom({}); result.reload(); };

  const resolve = async (resolution) => {
    setError(null);
    let fields = null;
    if (resolution === 'MERGED') {
      const unpicked = diffRows.filter((r) => !picks[r.field]).map((r) => r.field);
      setMissing(unpicked);
      if (unpicked.length) { setError(`Pick a value for ${unpicked.map(fieldLabel).join(', ')}.`); return; }
      const badMoney = diffRows.filter((r) => picks[r.field] === 'CUSTOM' && isMoneyField(r.field)
        && (parseMoneyInput(custom[r.field]).error || parseMoneyInput(custom[r.field]).value === ''));
      if (badMoney.length) { setMissing(badMoney.map((r) => r.field)); setError(`Enter a valid amount for ${badMoney.map((r) => fieldLabel(r.field)).join(', ')}.`); return; }
      fields = diffRows.map((r) => (picks[r.field] === 'CUSTOM'
        ? { field: r.field, pick: 'CUSTOM', value: isMoneyField(r.field) ? parseMoneyInput(custom[r.field]).value : (custom[r.field] ?? '') }
        : { field: r.field, pick: picks[r.field] }));
    }
    setBusy(resolution);
    try {
      const saved = await resolveOne(caps, c.id, resolution, { fields, comment: comment.trim() });
      toast(`Conflict on ${c.item?.code || c.id} resolved (${humanize(resolution).toLowerCase()}).`, {
        link: { href: href('/conflicts'), label: 'Next conflict' },
      });
      result.setData({ ...c, ...saved });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  const stale = error && typeof error === 'object' && error.code === 'CONFLICT_STALE';
  return html`
    <section data-testid="conflict-page" data-status=${c.status}>
      <p class="breadcrumb"><a href="#/conflicts">Conflicts</a> / ${c.item?.code || c.id}</p>
      <${PageHeader} title=${`Conflict on ${c.item?.code || `item ${c.item?.id ?? ''}`}`}
        subtitle=${`${c.item?.name || ''} · ${connectionName(connections, c.connectionId)} · detected ${formatRelative(c.createdAt)}`}>
        ${info ? html`<${Badge} value=${c.kind} tone=${info.tone} label=${info.badge} />` : null}
        <${Badge} value=${c.status} />
      <//>
      ${info && open ? html`<${KindBanner} info=${info} context=${context} />` : null}
      ${stale ? html`<${StaleNotice} onReload=${reload} />` : null}
      ${!open ? html`
        <div class="notice notice-ok" data-testid="resolved-notice">
          Resolved ${c.resolution ? html`with <strong>${humanize(c.resolution).toLowerCase()}</strong>` : ''} ${c.resolvedAt ? formatDateTime(c.resolvedAt) : ''}.
          ${c.comment ? html`<div>Comment: ${c.comment}</div>` : null}
        </div>` : null}
      <div class="card">
        <div class="card-head-row">
          <h2>Versions</h2>
          <span class="small muted">
            ${c.item?.id ? html`<a href=${href(`/items/${c.item.id}`)}>Open item</a>` : null}
            ${c.runId ? html` · found by <a href=${href(`/runs/${c.runId}`)}>run #${c.runId}</a>` : null}
          </span>
        </div>
        <p class="legend small"><span class="swatch swatch-diff"></span> changed on both sides: a merge needs your pick
          <span class="swatch swatch-changed"></span> changed since the last sync (base); a one-sided change is kept by a merge</p>
        <div class="table-wrap" tabindex="0">
          <table class="table diff-table" data-testid="diff-table">
            <thead><tr><th scope="col">Field</th><th scope="col">Base (last sync)</th><th scope="col">Local</th><th scope="col">Remote</th>
              ${canResolve && canMerge ? html`<th scope="col">Merge pick</th>` : null}</tr></thead>
            <tbody>${rows.map((r) => html`
              <tr key=${r.field} class=${`${r.differs ? 'row-diff' : ''} ${missing.includes(r.field) ? 'row-missing' : ''}`} data-field=${r.field}>
                <th scope="row" title=${r.field}>${fieldLabel(r.field)}
                  ${r.side ? html`<span class=${`change-tag change-${r.side.toLowerCase()}`}>${SIDE_TAG[r.side]}</span>` : null}</th>
                <${Cell} field=${r.field} value=${r.base} label="Base" />
                <${Cell} field=${r.field} value=${r.local} changed=${r.localChanged} label="Local" />
                <${Cell} field=${r.field} value=${r.remote} changed=${r.remoteChanged} label="Remote" />
                ${canResolve && canMerge ? html`<td data-label="Merge pick">${r.inDiff ? html`
                  <fieldset class="picks">
                    <legend class="sr-only">Value to keep for ${fieldLabel(r.field)}</legend>
                    ${PICKS.map(([p, label]) => html`
                      <label key=${p} class="pick"><input type="radio" name=${`pick-${r.field}`} value=${p} checked=${picks[r.field] === p}
                        onChange=${() => {
                          setChosen({ ...picks, [r.field]: p });
                          if (p === 'CUSTOM' && custom[r.field] === undefined) setCustom({ ...custom, [r.field]: asText(r.field, r.local) });
                        }} data-testid=${`pick-${r.field}-${p}`} /> ${label}</label>`)}
                    ${picks[r.field] === 'CUSTOM' && isMoneyField(r.field) ? html`
                      <${MoneyField} className="field-compact" label=${`Custom ${fieldLabel(r.field).toLowerCase()}`} value=${custom[r.field] ?? ''}
                        testid=${`custom-${r.field}`} onInput=${(v) => setCustom({ ...custom, [r.field]: v })} />` : null}
                    ${picks[r.field] === 'CUSTOM' && !isMoneyField(r.field) ? html`
                      <label class="field field-compact"><span class="sr-only">Custom value for ${fieldLabel(r.field)}</span>
                        <input value=${custom[r.field] ?? ''} data-testid=${`custom-${r.field}`}
                          onInput=${(e) => setCustom({ ...custom, [r.field]: e.currentTarget.value })} /></label>` : null}
                  </fieldset>` : html`<span class="muted small">unchanged</span>`}</td>` : null}
              </tr>`)}
            </tbody>
          </table>
        </div>
      </div>
      ${canResolve ? html`
        <div class="card form" data-testid="resolve-panel">
          <h2>Resolve</h2>
          ${caps.arg('mutation', 'resolveConflict', 'comment') ? html`
            <label class="field"><span>Comment (optional)</span>
              <textarea rows="2" value=${comment} onInput=${(e) => setComment(e.currentTarget.value)}></textarea></label>` : null}
          ${error && !stale ? html`<p class="inline-error" role="alert">${typeof error === 'string' ? error : describeError(error)}</p>` : null}
          <div class="form-actions">
            <button type="button" class=${`btn btn-wrap ${info && c.kind === 'DELETE' ? 'btn-danger btn-solid' : 'btn-primary'}`} disabled=${!!busy} onClick=${() => resolve('USE_REMOTE')}
              data-testid="use-remote">${busy === 'USE_REMOTE' ? 'Resolving…' : info ? `${info.useRemote} (use remote)` : 'Use remote'}${!info && localOnly.length ? ` — also drops ${changeList('your', localOnly)}` : ''}</button>
            <button type="button" class="btn btn-wrap btn-primary" disabled=${!!busy} onClick=${() => resolve('USE_LOCAL')}
              data-testid="use-local">${busy === 'USE_LOCAL' ? 'Resolving…' : info ? `${info.useLocal} (use local)` : 'Use local'}${!info && remoteOnly.length ? ` — also drops ${changeList('the upstream', remoteOnly)}` : ''}</button>
            ${canMerge ? html`<button type="button" class="btn" disabled=${!!busy || !diffRows.length} onClick=${() => resolve('MERGED')}>${busy === 'MERGED' ? 'Resolving…' : 'Merge picked values'}</button>` : null}
          </div>
          <p class="hint">${info ? `${info.useRemote} ${info.useRemoteEffect}; ${info.useLocal.toLowerCase()} ${info.useLocalEffect}.`
            : 'Use remote takes the upstream record as it is; use local keeps the version here and pushes it upstream; a merge keeps each one-sided change and takes your pick for each field changed on both sides.'}</p>
        </div>` : null}
    </section>`;
}

export function ConflictPage({ id }) {
  const { caps } = useApp();
  if (!caps.query('conflict')) return html`<${Unavailable} title="Conflict" what="conflict details" />`;
  return html`<${ConflictDetails} id=${id} />`;
}
