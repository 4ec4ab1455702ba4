// The "Sync policy" tab of a connection: field ownership per entity type, local-edit rule,
// record filters, a preview (a full dry run under the proposed policy) and, only after a
// preview of exactly these edits, Save. Read-only for non-admins (the mutation is admin-only).

import { html, useState, useEffect } from '../lib.js';
import { gql } from '../api.js';
import { useApp } from '../context.js';
import { useLoader } from '../data.js';
import { Loading, ErrorBox, InlineError } from './feedback.js';
import { SelectField, TextField, CheckboxField } from './fields.js';
import { Counters, RunSummary } from './progress.js';
import { toast } from './toast.js';
import { useLiveRun, isActive } from '../live-run.js';
import { fieldLabel, humanize } from '../format.js';
import { PROVIDERS } from '../providers.js';
import { Summary } from '../screens/run.js';

export const OWNERSHIP = [
  ['BOTH', 'Both (three-way)'], ['REMOTE_OWNS', 'Upstream owns'], ['LOCAL_OWNS', 'This server owns'], ['IGNORE', 'Ignore'],
];
const LOCAL_EDITS = [['REFUSE', 'Refuse the edit'], ['KEEP_LOCAL', 'Keep it here, never push it']];
const KINDS = ['service', 'material', 'equipment', 'product'];
/** Canonical fields a policy can own (`code` links records to items: always BOTH). */
const POLICY_FIELDS = [
  'name', 'description', 'price', 'cost', 'member_price', 'add_on_price', 'add_on_member_price', 'active',
  'categories', 'unit_of_measure', 'primary_vendor', 'materials_included', 'weight_kg', 'length_cm', 'width_cm',
  'height_cm', 'quantity',
];
const POLICY_SPEC = 'entities { entityType localEdits fields { field ownership } filter { activeOnly categoryId kinds codePattern changedSince } }';
const SET_POLICY = `mutation($c: ID!, $i: ConnectionPolicyInput!, $p: Boolean!) {
  setConnectionPolicy(connectionId: $c, input: $i, preview: $p) { applied policy { ${POLICY_SPEC} } preview { id } } }`;

const emptyEntity = () => ({
  localEdits: 'REFUSE', fields: {}, filter: { activeOnly: false, categoryId: '', kinds: [], codePattern: '', changedSince: '' },
});

/** The editable draft: entity type → { localEdits, fields: {field: ownership}, filter }. */
function draftOf(provider, policy) {
  const draft = {};
  for (const e of PROVIDERS[provider]?.entities || []) draft[e] = emptyEntity();
  for (const e of policy.entities) {
    const f = e.filter || {};
    draft[e.entityType] = {
      localEdits: e.localEdits,
      fields: Object.fromEntries(e.fields.map((x) => [x.field, x.ownership])),
      filter: {
        activeOnly: !!f.activeOnly, categoryId: f.categoryId || '', kinds: f.kinds || [], codePattern: f.codePattern || '',
        changedSince: f.changedSince ? String(f.changedSince).slice(0, 16) : '',
      },
    };
  }
  return draft;
}

/** The API input: only entity types that differ from "every field BOTH, every record". */
export function inputOf(draft) {
  const entities = [];
  for (const [entityType, e] of Object.entries(draft)) {
    const fields = Object.entries(e.fields).filter(([, o]) => o !== 'BOTH').sort(([a], [b]) => a.localeCompare(b))
      .map(([field, ownership]) => ({ field, ownership }));
    const f = e.filter;
    const filter = {
      activeOnly: f.activeOnly, categoryId: f.categoryId.trim() || null, kinds: KINDS.filter((k) => f.kinds.includes(k)),
      codePattern: f.codePattern.trim() || null, changedSince: f.changedSince ? `${f.changedSince}:00Z` : null,
    };
    const plain = !fields.length && e.localEdits === 'REFUSE' && !filter.activeOnly && !filter.categoryId
      && !filter.kinds.length && !filter.codePattern && !filter.changedSince;
    if (!plain) entities.push({ entityType, localEdits: e.localEdits, fields, filter });
  }
  return { entities };
}

/** An error with its stable code, e.g. "… (BAD_USER_INPUT)". */
function CodedError({ error }) {
  if (!error) return null;
  return html`<div data-testid="policy-error"><${InlineError} error=${error} />${error.code ? html`<span class="code">(${error.code})</span>` : null}</div>`;
}

function EntityPolicy({ entity, value, editable, onChange, open }) {
  const set = (patch) => onChange({ ...value, ...patch });
  const setFilter = (patch) => set({ filter: { ...value.filter, ...patch } });
  const fields = [...POLICY_FIELDS, ...Object.keys(value.fields).filter((f) => !POLICY_FIELDS.includes(f))];
  const id = `policy-${entity}`;
  const owned = Object.values(value.fields).filter((o) => o !== 'BOTH').length;
  return html`
    <details class="advanced" open=${open} data-testid=${id}>
      <summary>${humanize(entity)}${owned ? ` · ${owned} field${owned === 1 ? '' : 's'} owned` : ''}</summary>
      <div class="table-wrap" tabindex="0" role="region" aria-label=${`Field ownership of ${entity}`}>
        <table class="table">
          <caption class="sr-only">Who owns each field of ${entity}</caption>
          <thead><tr><th scope="col">Field</th><th scope="col">Owner</th></tr></thead>
          <tbody>${fields.map((f) => html`
            <tr key=${f}>
              <th scope="row"><label for=${`${id}-${f}`}>${fieldLabel(f)}</label></th>
              <td><select id=${`${id}-${f}`} value=${value.fields[f] || 'BOTH'} disabled=${!editable} data-testid=${`${id}-${f}`}
                onChange=${(e) => set({ fields: { ...value.fields, [f]: e.currentTarget.value } })}>
                ${OWNERSHIP.map(([v, l]) => html`<option key=${v} value=${v}>${l}</option>`)}
              </select></td>
            </tr>`)}
          </tbody>
        </table>
      </div>
      <p class="hint">Code always syncs both ways: it links records to items.</p>
      <${SelectField} label="A local edit of an upstream-owned field" value=${value.localEdits} disabled=${!editable}
        onChange=${(v) => set({ localEdits: v })} options=${LOCAL_EDITS.map(([v, l]) => ({ value: v, label: l }))} testid=${`${id}-local-edits`} />
      <fieldset class="fieldset">
        <legend>Which ${entity} sync</legend>
        <${CheckboxField} label="Only active records" checked=${value.filter.activeOnly} disabled=${!editable}
          onChange=${(v) => setFilter({ activeOnly: v })} testid=${`${id}-active-only`} />
        <${TextField} label="Category id (with everything below it)" value=${value.filter.categoryId} disabled=${!editable}
          inputmode="numeric" onInput=${(v) => setFilter({ categoryId: v })} testid=${`${id}-category`} />
        <fieldset class="fieldset">
          <legend>Kinds (none checked: all)</legend>
          ${KINDS.map((k) => html`<${CheckboxField} key=${k} label=${humanize(k)} checked=${value.filter.kinds.includes(k)} disabled=${!editable}
            onChange=${(on) => setFilter({ kinds: on ? [...value.filter.kinds, k] : value.filter.kinds.filter((x) => x !== k) })}
            testid=${`${id}-kind-${k}`} />`)}
        </fieldset>
        <${TextField} label="Code pattern (* and ?)" value=${value.filter.codePattern} disabled=${!editable} placeholder="MAT-*"
          onInput=${(v) => setFilter({ codePattern: v })} testid=${`${id}-code-pattern`} />
        <${TextField} label="Changed upstream since (UTC)" type="datetime-local" value=${value.filter.changedSince} disabled=${!editable}
          onInput=${(v) => setFilter({ changedSince: v })} testid=${`${id}-changed-since`} />
      </fieldset>
    </details>`;
}

/** The preview run, followed live until it ends: counters, per-category summary and samples. */
function Preview({ runId, onDone }) {
  const { caps } = useApp();
  const { run, error } = useLiveRun(caps, runId, null, onDone);
  if (error) return html`<${CodedError} error=${error} />`;
  if (!run) return html`<${Loading} label="Starting the preview…" />`;
  return html`
    <div class="card" data-testid="policy-preview" data-status=${run.status} aria-live="polite">
      <h3>Preview: what the next full run would do</h3>
      <${RunSummary} run=${run} />
      ${isActive(run) ? null : html`<div data-testid="policy-preview-counters"><${Counters} counters=${run.counters} /></div>`}
      ${isActive(run) ? null : html`<${PreviewSummary} runId=${run.id} />`}
    </div>`;
}

function PreviewSummary({ runId }) {
  const r = useLoader(() => gql('query($id: ID!) { syncRun(id: $id) { id dryRun summary } }', { id: runId }).then((d) => d.syncRun), [runId]);
  return r.data ? html`<${Summary} run=${r.data} />` : null;
}

export function PolicyTab({ connection }) {
  const { isAdmin, caps } = useApp();
  const editable = isAdmin && caps.mutation('setConnectionPolicy');
  const loaded = useLoader(() => gql(`query($c: ID!) { connectionPolicy(connectionId: $c) { ${POLICY_SPEC} } }`, { c: connection.id })
    .then((d) => d.connectionPolicy), [connection.id]);
  const [draft, setDraft] = useState(null);
  const [preview, setPreview] = useState(null); // { runId, key, ok }
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => { if (loaded.data) setDraft(draftOf(connection.provider, loaded.data)); }, [loaded.data, connection.provider]);

  if (loaded.error) return html`<${ErrorBox} error=${loaded.error} onRetry=${loaded.reload} title="Could not load the sync policy" />`;
  if (!draft) return html`<${Loading} />`;
  const input = inputOf(draft);
  const key = JSON.stringify(input);
  const previewed = preview && preview.key === key && preview.ok;

  const send = async (dryRun) => {
    setBusy(true);
    setError(null);
    try {
      const d = (await gql(SET_POLICY, { c: connection.id, i: input, p: dryRun })).setConnectionPolicy;
      if (dryRun) {
        setPreview({ runId: d.preview.id, key, ok: false });
      } else {
        toast('Sync policy saved. The next run applies it.');
        setPreview(null);
        loaded.setData(d.policy);
      }
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const previewDone = (run) => setPreview((p) => (p && String(p.runId) === String(run.id) ? { ...p, ok: run.status === 'SUCCEEDED' } : p));

  return html`
    <form class="card form" data-testid="policy-form" aria-labelledby="policy-title" onSubmit=${(e) => { e.preventDefault(); send(false); }}>
      <h2 id="policy-title">Sync policy</h2>
      <p class="hint">Who owns each field, and which records sync. A change rewrites nothing by itself: the next run applies it.</p>
      ${Object.entries(draft).map(([entity, value], i) => html`<${EntityPolicy} key=${entity} entity=${entity} value=${value} editable=${editable} open=${i === 0}
        onChange=${(v) => setDraft((d) => ({ ...d, [entity]: v }))} />`)}
      <${CodedError} error=${error} />
      ${editable ? html`
        <div class="form-actions">
          <button type="button" class="btn" disabled=${busy} onClick=${() => send(true)} data-testid="policy-preview-button">Preview</button>
          <button type="submit" class="btn btn-primary" disabled=${busy || !previewed} data-testid="policy-save"
            aria-describedby="policy-save-hint">Save policy</button>
        </div>
        <p class="hint" id="policy-save-hint">${previewed ? 'The preview below is of these edits.' : 'Preview these edits first; Save follows a finished preview.'}</p>`
        : html`<p class="hint">${isAdmin ? 'This server does not support changing the sync policy.' : 'Only admins change the sync policy.'}</p>`}
      ${preview ? html`<${Preview} key=${preview.runId} runId=${preview.runId} onDone=${previewDone} />` : null}
    </form>`;
}
