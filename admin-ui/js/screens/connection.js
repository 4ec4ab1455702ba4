// One connection: create (id "new"), edit, schedules, OAuth, delete, and the sync-policy tab
// (`?tab=policy`). Read-only for non-admins.

import { html, useState, useEffect } from '../lib.js';
import { gql, describeError } from '../api.js';
import { useApp } from '../context.js';
import { useLoader, invalidateConnections } from '../data.js';
import { href, navigate, parseLocation, setQuery, useRoute } from '../router.js';
import { PageHeader } from '../components/layout.js';
import { Loading, ErrorBox, InlineError } from '../components/feedback.js';
import { Badge } from '../components/badges.js';
import { TextField, SelectField, CheckboxField } from '../components/fields.js';
import { toast } from '../components/toast.js';
import { formatDateTime, humanize } from '../format.js';
import { PROVIDERS, providerLabel, DIRECTIONS, timeZones } from '../providers.js';
import { DeleteConnection } from './connections.js';
import { PolicyTab } from '../components/sync-policy.js';
import {
  HealthBadge, HealthNotice, LastSuccess, OAuthConnect, HEALTH_SPEC, canRun,
} from '../components/health.js';

/** Health and the runs it is judged by, read when the server has them. */
const HEALTH_EXTRA = [...HEALTH_SPEC, ['syncStatus', [
  ['lastRun', ['id', 'status', 'finishedAt', 'finishedWithRecordErrors', ['counters', ['errors']]]],
  ['lastSuccessfulRun', ['id', 'finishedAt']],
]]];

const FIELDS = `id name provider status config directions timeZone incrementalCron fullCron scheduleEnabled
  schedulePausedReason autoMergeDisjointFields pushOnSave createdAt updatedAt hasSecrets`;

/** The sections of a connection's page: `?tab=` value and label. */
const TABS = [['', 'Settings'], ['policy', 'Sync policy']];

const sortKeys = (o) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

function emptyDraft(provider = 'SERVICETITAN') {
  return { name: '', provider, sandbox: false, config: {}, secrets: {}, baseUrl: '', timeZone: 'UTC', direction: 'both', status: 'ACTIVE', autoMerge: false, pushOnSave: true, startSync: true };
}

function draftFrom(c) {
  const { sandbox, baseUrl, ...rest } = c.config || {};
  const config = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)]));
  return {
    name: c.name, provider: c.provider, sandbox: sandbox === true, config, secrets: {}, baseUrl: baseUrl || '',
    timeZone: c.timeZone, direction: c.directions?.default || 'both', status: c.status, autoMerge: c.autoMergeDisjointFields,
    pushOnSave: c.pushOnSave !== false,
  };
}

/** Checks the draft and builds { config, secrets } for the API, or returns field errors. */
function buildSettings(draft, existing) {
  const spec = PROVIDERS[draft.provider] || { config: [], secrets: [] };
  const errors = {};
  if (!draft.name.trim()) errors.name = 'Give the connection a name';
  const base = existing ? { ...(existing.config || {}) } : {};
  delete base.sandbox;
  const config = { ...base };
  if (draft.sandbox) config.sandbox = true;
  if (draft.baseUrl.trim()) {
    if (!/^https?:\/\//.test(draft.baseUrl.trim())) errors.baseUrl = 'Base URL must start with http:// or https://';
    config.baseUrl = draft.baseUrl.trim();
  } else {
    delete config.baseUrl;
  }
  for (const f of spec.config) {
    const v = (draft.config[f.key] ?? '').trim();
    if (!v) {
      delete config[f.key];
      if (f.required && !draft.sandbox) errors[`config.${f.key}`] = `${f.label} is required`;
    } else if (f.numeric) {
      if (!/^\d+$/.test(v)) errors[`config.${f.key}`] = `${f.label} must be a number`;
      else config[f.key] = Number(v);
    } else {
      config[f.key] = v;
    }
  }
  const secrets = {};
  let anySecret = false;
  if (!draft.sandbox) {
    for (const f of spec.secrets) {
      const v = draft.secrets[f.key] ?? '';
      if (v) { secrets[f.key] = v; anySecret = true; } else if (f.required && !existing?.hasSecrets && !spec.oauth) {
        errors[`secrets.${f.key}`] = `${f.label} is required`;
      }
    }
  }
  return { config, secrets: anySecret ? secrets : null, errors };
}

function ConnectionForm({ existing, onSaved }) {
  const { caps } = useApp();
  const canAutoStart = !existing && caps.has('CreateConnectionInput', 'startSync');
  const [draft, setDraft] = useState(() => (existing ? draftFrom(existing) : emptyDraft()));
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const zones = timeZones();
  const spec = PROVIDERS[draft.provider] || { config: [], secrets: [] };
  const set = (k) => (v) => setDraft((d) => ({ ...d, [k]: v }));
  const setIn = (group, k) => (v) => setDraft((d) => ({ ...d, [group]: { ...d[group], [k]: v } }));

  const submit = async (e) => {
    e.preventDefault();
    const { config, secrets, errors: errs } = buildSettings(draft, existing);
    setErrors(errs);
    setError(null);
    if (Object.keys(errs).length) return;
    setBusy(true);
    try {
      let saved;
      if (existing) {
        const input = {
          name: draft.name.trim(), directions: { ...(existing.directions || {}), default: draft.direction },
          timeZone: draft.timeZone, status: draft.status, autoMergeDisjointFields: draft.autoMerge,
          pushOnSave: draft.pushOnSave,
        };
        // Send config only when it changed: the server re-validates it against the credentials.
        if (JSON.stringify(sortKeys(config)) !== JSON.stringify(sortKeys(existing.config || {}))) input.config = config;
        if (secrets) input.secrets = secrets;
        saved = (await gql(`mutation($id: ID!, $input: UpdateConnectionInput!) { updateConnection(id: $id, input: $input) { ${FIELDS} } }`,
          { id: existing.id, input })).updateConnection;
        toast(`Saved “${saved.name}”.`);
      } else {
        const input = { name: draft.name.trim(), provider: draft.provider, config, directions: { default: draft.direction }, timeZone: draft.timeZone, pushOnSave: draft.pushOnSave };
        if (secrets) input.secrets = secrets;
        if (canAutoStart) input.startSync = draft.startSync;
        saved = (await gql(`mutation($input: CreateConnectionInput!) { createConnection(input: $input) { ${FIELDS} } }`, { input })).createConnection;
        toast(`Created “${saved.name}”.${spec.oauth && !draft.sandbox ? ` Now connect it to ${spec.label}.` : ''}`);
      }
      invalidateConnections();
      onSaved(saved);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const secretHint = existing?.hasSecrets ? 'Stored. Leave blank to keep; type to replace.' : null;
  return html`
    <form class="card form" onSubmit=${submit} noValidate data-testid="connection-form" aria-label=${existing ? 'Edit connection' : 'New connection'}>
      ${existing ? html`<h2>Settings</h2>` : null}
      <${TextField} label="Name" value=${draft.name} onInput=${set('name')} required error=${errors.name} testid="conn-name" />
      <${SelectField} label="Provider" value=${draft.provider} disabled=${!!existing} testid="conn-provider"
        onChange=${(v) => setDraft((d) => ({ ...d, provider: v, config: {}, secrets: {} }))}
        options=${Object.entries(PROVIDERS).map(([value, p]) => ({ value, label: p.label }))} />
      <${CheckboxField} label="Sandbox (use the built-in emulator; no credentials needed)" checked=${draft.sandbox}
        onChange=${set('sandbox')} testid="conn-sandbox" />
      ${!draft.sandbox ? html`
        <fieldset class="fieldset">
          <legend>${spec.label} settings</legend>
          ${spec.config.map((f) => (f.options
            ? html`<${SelectField} key=${f.key} label=${f.label} value=${draft.config[f.key] || ''} onChange=${setIn('config', f.key)}
                options=${[{ value: '', label: 'Choose…' }, ...f.options.map(([value, label]) => ({ value, label }))]} hint=${errors[`config.${f.key}`] || f.hint} />`
            : html`<${TextField} key=${f.key} label=${f.label} value=${draft.config[f.key]} onInput=${setIn('config', f.key)}
                required=${f.required} hint=${f.hint} inputmode=${f.numeric ? 'numeric' : undefined} error=${errors[`config.${f.key}`]} testid=${`conn-config-${f.key}`} />`))}
          ${spec.secrets.map((f) => html`<${TextField} key=${f.key} label=${f.label} type=${f.password ? 'password' : 'text'}
              value=${draft.secrets[f.key]} onInput=${setIn('secrets', f.key)} autocomplete="off" required=${f.required && !existing?.hasSecrets && !spec.oauth}
              hint=${secretHint || f.hint} error=${errors[`secrets.${f.key}`]} testid=${`conn-secret-${f.key}`} />`)}
          ${spec.oauth ? html`<p class="hint">After saving, use “Connect to ${spec.label}” to authorise access.</p>` : null}
        </fieldset>` : null}
      <details class="advanced">
        <summary>Advanced</summary>
        <${TextField} label="Base URL (optional)" value=${draft.baseUrl} onInput=${set('baseUrl')} placeholder="https://…" error=${errors.baseUrl}
          hint="Override the API address, e.g. for a staging environment" />
        <${SelectField} label="Time zone" value=${draft.timeZone} onChange=${set('timeZone')} options=${zones.map((z) => ({ value: z, label: z }))}
          hint="Schedules run in this time zone" />
        <${SelectField} label="Direction" value=${draft.direction} onChange=${set('direction')} options=${DIRECTIONS.map(([value, label]) => ({ value, label }))} />
        ${existing ? html`
          <${SelectField} label="Status" value=${draft.status} onChange=${set('status')}
            options=${[{ value: 'ACTIVE', label: 'Active' }, { value: 'PAUSED', label: 'Paused (no syncs)' }, ...(existing.status === 'ERROR' ? [{ value: 'ERROR', label: 'Error' }] : [])]} />
          <${CheckboxField} label="Auto-merge changes to different fields" checked=${draft.autoMerge} onChange=${set('autoMerge')}
            hint="When both sides changed different fields of an item, merge them instead of raising a conflict" />` : null}
        <${CheckboxField} label="Push on save" checked=${draft.pushOnSave} onChange=${set('pushOnSave')} testid="conn-push-on-save"
          hint="Push a local edit upstream right away (a push run per connection, shared by the edits made meanwhile) instead of waiting for the next sync" />
      </details>
      ${canAutoStart ? html`<${CheckboxField} label="Start the first full sync right away" checked=${draft.startSync} onChange=${set('startSync')}
        testid="conn-start-sync" />` : null}
      <${InlineError} error=${error} />
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" disabled=${busy}>${busy ? 'Saving…' : existing ? 'Save changes' : 'Create connection'}</button>
        <a class="btn" href="#/connections">Cancel</a>
      </div>
    </form>`;
}

function Schedules({ connection, onSaved }) {
  const { caps, isAdmin } = useApp();
  const [draft, setDraft] = useState({ inc: connection.incrementalCron || '', full: connection.fullCron || '', enabled: connection.scheduleEnabled });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setDraft({ inc: connection.incrementalCron || '', full: connection.fullCron || '', enabled: connection.scheduleEnabled }), [connection]);
  const editable = isAdmin && caps.mutation('setSchedule');
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const d = await gql(`mutation($id: ID!, $inc: String, $full: String, $enabled: Boolean!) {
        setSchedule(connectionId: $id, incrementalCron: $inc, fullCron: $full, enabled: $enabled) { ${FIELDS} } }`,
      { id: connection.id, inc: draft.inc.trim() || null, full: draft.full.trim() || null, enabled: draft.enabled });
      toast(draft.enabled ? 'Schedules saved and enabled.' : 'Schedules saved (off).');
      onSaved(d.setSchedule);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <form class="card form" onSubmit=${submit} aria-labelledby="sched-title" data-testid="schedule-form">
      <h2 id="sched-title">Schedules</h2>
      ${connection.schedulePausedReason ? html`<p class="notice notice-warn">Paused: ${connection.schedulePausedReason}</p>` : null}
      <p class="hint">Cron expressions (minute hour day month weekday) in ${connection.timeZone}.</p>
      <${TextField} label="Incremental sync" value=${draft.inc} onInput=${(v) => setDraft({ ...draft, inc: v })} placeholder="*/15 * * * *" disabled=${!editable} />
      <${TextField} label="Full sync" value=${draft.full} onInput=${(v) => setDraft({ ...draft, full: v })} placeholder="0 2 * * *" disabled=${!editable} />
      <${CheckboxField} label="Run on schedule" checked=${draft.enabled} onChange=${(v) => setDraft({ ...draft, enabled: v })} disabled=${!editable} />
      <${InlineError} error=${error} />
      ${editable ? html`<div class="form-actions"><button type="submit" class="btn btn-primary" disabled=${busy}>${busy ? 'Saving…' : 'Save schedules'}</button></div>`
        : html`<p class="hint">${isAdmin ? 'This server does not support changing schedules yet.' : 'Only admins change schedules.'}</p>`}
    </form>`;
}

function Details({ c }) {
  const { caps } = useApp();
  const status = c.syncStatus;
  return html`
    <div class="card">
      <h2>Details</h2>
      <dl class="kv">
        <div><dt>Provider</dt><dd>${providerLabel(c.provider)}${c.config?.sandbox === true ? ' (sandbox)' : ''}</dd></div>
        <div><dt>Status</dt><dd><${Badge} value=${c.status} /></dd></div>
        ${status && 'lastSuccessfulRun' in status ? html`<${LastSuccess} run=${status.lastSuccessfulRun} />` : null}
        <div><dt>Time zone</dt><dd>${c.timeZone}</dd></div>
        <div><dt>Directions</dt><dd>${Object.entries(c.directions || {}).map(([k, v]) => `${k}: ${v}`).join(', ') || '—'}</dd></div>
        <div><dt>Credentials</dt><dd>${c.hasSecrets ? 'Stored (never shown)' : c.config?.sandbox === true ? 'Generated for the sandbox' : 'None'}</dd></div>
        ${Object.entries(c.config || {}).filter(([k]) => k !== 'sandbox').map(([k, v]) => html`<div key=${k}><dt>${k}</dt><dd>${String(v)}</dd></div>`)}
        <div><dt>Created</dt><dd>${formatDateTime(c.createdAt)}</dd></div>
        <div><dt>Updated</dt><dd>${formatDateTime(c.updatedAt)}</dd></div>
      </dl>
      <div class="card-actions">
        ${caps.query('syncRuns') ? html`<a class="btn" href=${href('/runs', { connectionId: c.id })}>Runs</a>` : null}
        <a class="btn" href=${href('/items', { connectionId: c.id })}>Items</a>
      </div>
    </div>`;
}

export function ConnectionPage({ id }) {
  const { isAdmin, caps } = useApp();
  const isNew = id === 'new';
  const route = useRoute();
  const extra = caps.select(caps.returns('query', 'connection') || 'Connection', HEALTH_EXTRA);
  const result = useLoader(() => (isNew ? Promise.resolve(null)
    : gql(`query($id: ID!) { connection(id: $id) { ${FIELDS} ${extra} } }`, { id }).then((d) => d.connection)), [id]);
  const c = result.data;
  // Mutations answer the plain fields: keep the health read with the page.
  const saved = (next) => result.setData({ ...c, ...next });
  // The OAuth callback comes back here with `connected=1`.
  const justConnected = parseLocation().query.connected === '1';

  if (isNew) {
    if (!isAdmin) return html`<section><${PageHeader} title="New connection" /><p>Only admins create connections.</p></section>`;
    return html`
      <section>
        <p class="breadcrumb"><a href="#/connections">Connections</a> / New</p>
        <${PageHeader} title="New connection" subtitle="Connect a system whose price book should sync here" />
        <${ConnectionForm} onSaved=${(saved) => navigate(`/connections/${saved.id}`)} />
      </section>`;
  }
  if (result.error && !c) {
    return html`<section><${PageHeader} title="Connection" /><${ErrorBox} error=${result.error} onRetry=${result.reload}
      title=${result.error.code === 'NOT_FOUND' ? 'This connection does not exist' : 'Could not load this connection'} /></section>`;
  }
  if (!c) return html`<section><${PageHeader} title="Connection" /><${Loading} /></section>`;
  const spec = PROVIDERS[c.provider];
  const hasPolicy = caps.query('connectionPolicy');
  const tab = hasPolicy && route.query.tab === 'policy' ? 'policy' : '';
  const oauth = Boolean(spec?.oauth);
  return html`
    <section>
      <p class="breadcrumb"><a href="#/connections">Connections</a> / ${c.name}</p>
      <${PageHeader} title=${c.name} subtitle=${`${providerLabel(c.provider)} · ${humanize(c.status)}`}>
        ${c.health ? html`<${HealthBadge} connection=${c} lastRun=${c.syncStatus?.lastRun} />` : null}
        ${isAdmin && oauth && canRun(c) ? html`<${OAuthConnect} connection=${c} label=${spec.label} verb=${c.health ? 'Reconnect to' : 'Connect to'} />` : null}
        ${isAdmin ? html`<${DeleteConnection} connection=${c} label="Delete connection" onDeleted=${() => navigate('/connections')} />` : null}
      <//>
      ${justConnected && c.health === 'ACTIVE' ? html`<div class="notice notice-ok" role="status" data-testid="oauth-connected">
        Connected to ${providerLabel(c.provider)}. The first full sync has started; follow it on the <a href=${href('/')}>dashboard</a>.</div>` : null}
      <${HealthNotice} connection=${c} isAdmin=${isAdmin} />
      ${hasPolicy ? html`<div class="tabs" role="group" aria-label="Connection sections">
        ${TABS.map(([t, label]) => html`<button key=${t} type="button" class=${`tab ${tab === t ? 'active' : ''}`} aria-pressed=${tab === t}
          onClick=${() => setQuery({ tab: t || undefined })} data-testid=${`connection-tab-${t || 'settings'}`}>${label}</button>`)}
      </div>` : null}
      ${tab === 'policy' ? html`<${PolicyTab} connection=${c} />` : html`<div class="two-col">
        ${isAdmin ? html`<${ConnectionForm} key=${c.updatedAt} existing=${c} onSaved=${saved} />` : html`<${Details} c=${c} />`}
        <div>
          ${isAdmin ? html`<${Details} c=${c} />` : null}
          <${Schedules} connection=${c} onSaved=${saved} />
        </div>
      </div>`}
    </section>`;
}
