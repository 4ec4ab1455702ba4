// Alert targets (admins only): webhooks told when a connection's health changes or conflicts
// wait too long; the signing secret is shown once; a test alert and the delivery log.

import { html, useState } from '../lib.js';
import { gql, describeError } from '../api.js';
import { useApp } from '../context.js';
import { useLoader } from '../data.js';
import { PageHeader } from '../components/layout.js';
import { Loading, ErrorBox, Empty, InlineError } from '../components/feedback.js';
import { TextField, CheckboxField } from '../components/fields.js';
import { ConfirmDialog } from '../components/dialog.js';
import { toast, toastError } from '../components/toast.js';
import { formatRelative, humanize } from '../format.js';

const TARGET_FIELDS = 'id name url events conflictAgeMinutes createdAt';
const EVENTS = [
  { value: 'CONNECTION_HEALTH', label: 'Connection health changes (failing, needs re-authentication, paused, recovered)' },
  { value: 'CONFLICTS_WAITING', label: 'Conflicts waiting longer than the threshold' },
];

function AddTarget({ onAdded }) {
  const empty = { name: '', url: '', events: EVENTS.map((e) => e.value), age: '1440' };
  const [draft, setDraft] = useState(empty);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [secret, setSecret] = useState(null);
  const toggle = (value, on) => setDraft({
    ...draft,
    events: on ? [...draft.events, value] : draft.events.filter((e) => e !== value),
  });
  const submit = async (e) => {
    e.preventDefault();
    const age = Number(draft.age);
    if (!draft.name.trim()) { setError('Give the target a name.'); return; }
    if (!draft.url.trim()) { setError('Enter the webhook URL.'); return; }
    if (!draft.events.length) { setError('Choose at least one event.'); return; }
    if (!Number.isInteger(age) || age < 0) { setError('The conflict age is a whole number of minutes.'); return; }
    setBusy(true);
    setError(null);
    try {
      const d = await gql(`mutation($i: CreateAlertTargetInput!) { createAlertTarget(input: $i) { signingSecret target { ${TARGET_FIELDS} } } }`,
        { i: { name: draft.name.trim(), url: draft.url.trim(), events: draft.events, conflictAgeMinutes: age } });
      setSecret(d.createAlertTarget.signingSecret);
      toast(`Added alert target “${d.createAlertTarget.target.name}”.`);
      setDraft(empty);
      onAdded();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return html`
    <form class="card form" onSubmit=${submit} aria-labelledby="add-alert-title" noValidate data-testid="alert-form">
      <h2 id="add-alert-title">Add a webhook</h2>
      <${TextField} label="Name" value=${draft.name} onInput=${(v) => setDraft({ ...draft, name: v })} required testid="alert-name" />
      <${TextField} label="Webhook URL" type="url" value=${draft.url} onInput=${(v) => setDraft({ ...draft, url: v })} required
        autocomplete="off" hint="HTTPS; a Slack incoming-webhook URL works as is. Stored encrypted." testid="alert-url" />
      <fieldset class="field">
        <legend>Events</legend>
        ${EVENTS.map((ev) => html`<${CheckboxField} key=${ev.value} label=${ev.label} checked=${draft.events.includes(ev.value)}
          onChange=${(on) => toggle(ev.value, on)} testid=${`alert-event-${ev.value}`} />`)}
      </fieldset>
      <${TextField} label="Conflict age (minutes)" type="number" inputmode="numeric" value=${draft.age}
        onInput=${(v) => setDraft({ ...draft, age: v })} hint="Open conflicts older than this are reported once (1440 = a day)" testid="alert-age" />
      <${InlineError} error=${error} />
      <div class="form-actions"><button type="submit" class="btn btn-primary" disabled=${busy}>${busy ? 'Adding…' : 'Add webhook'}</button></div>
      ${secret ? html`
        <div class="notice notice-info" role="status" data-testid="alert-secret">
          <p><strong>Signing secret</strong> — copy it now, it is not shown again. Receivers verify
          <code>X-Pricebook-Signature</code> with it (see the README, “Alerts”).</p>
          <p class="codes" data-testid="alert-secret-value">${secret}</p>
          <button type="button" class="btn" onClick=${() => setSecret(null)}>I have copied it</button>
        </div>` : null}
    </form>`;
}

function Deliveries({ version }) {
  const log = useLoader(() => gql('{ alertDeliveries(first: 20) { edges { node { id targetId event status attempts lastStatusCode lastError createdAt } } } }')
    .then((d) => d.alertDeliveries.edges.map((e) => e.node)), [version]);
  const rows = log.data;
  return html`
    <section class="card" aria-labelledby="deliveries-title">
      <div class="card-head-row"><h2 id="deliveries-title">Recent deliveries</h2>
        <button type="button" class="btn btn-small" onClick=${log.reload}>Refresh</button></div>
      ${log.error ? html`<${ErrorBox} error=${log.error} onRetry=${log.reload} title="Could not load the deliveries" />` : null}
      ${!rows && !log.error ? html`<${Loading} />` : null}
      ${rows && !rows.length ? html`<p class="muted">Nothing sent yet.</p>` : null}
      ${rows && rows.length ? html`
        <div class="table-wrap" tabindex="0">
          <table class="table" data-testid="alert-deliveries">
            <thead><tr><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col" class="hide-sm">Answer</th><th scope="col" class="hide-sm">Raised</th></tr></thead>
            <tbody>${rows.map((d) => html`
              <tr key=${d.id} data-status=${d.status} data-event=${d.event}>
                <td>${d.event}</td>
                <td>${humanize(d.status)}</td>
                <td>${d.attempts}</td>
                <td class="hide-sm">${d.lastStatusCode ? `HTTP ${d.lastStatusCode}` : ''}${d.lastError && !d.lastStatusCode ? d.lastError : ''}</td>
                <td class="hide-sm">${formatRelative(d.createdAt)}</td>
              </tr>`)}
            </tbody>
          </table>
        </div>` : null}
    </section>`;
}

export function Alerts() {
  const { isAdmin } = useApp();
  const list = useLoader(() => gql(`{ alertTargets { ${TARGET_FIELDS} } }`).then((d) => d.alertTargets), []);
  const [deleting, setDeleting] = useState(null);
  const [busy, setBusy] = useState(false);
  const [version, setVersion] = useState(0);
  if (!isAdmin) return html`<section><${PageHeader} title="Alerts" /><p>Only admins manage alerts.</p></section>`;

  const sendTest = async (t) => {
    try {
      await gql('mutation($id: ID!) { sendTestAlert(id: $id) { id } }', { id: t.id });
      toast(`Test alert queued for “${t.name}”.`);
      setVersion((v) => v + 1);
    } catch (e) {
      toastError(`Could not queue a test alert: ${describeError(e)}`);
    }
  };
  const remove = async () => {
    setBusy(true);
    try {
      await gql('mutation($id: ID!) { deleteAlertTarget(id: $id) }', { id: deleting.id });
      toast(`Deleted alert target “${deleting.name}”.`);
      setDeleting(null);
      list.reload();
      setVersion((v) => v + 1);
    } catch (e) {
      toastError(`Could not delete: ${describeError(e)}`);
    } finally {
      setBusy(false);
    }
  };

  const rows = list.data;
  return html`
    <section>
      <${PageHeader} title="Alerts" subtitle="Who is told when sync breaks or conflicts wait" />
      <div class="two-col two-col-wide">
        <div>
          ${list.error ? html`<${ErrorBox} error=${list.error} onRetry=${list.reload} />` : null}
          ${!rows && !list.error ? html`<${Loading} />` : null}
          ${rows && !rows.length ? html`<${Empty} title="No alert targets">Add a webhook to be told when a connection fails or needs re-authentication.<//>` : null}
          ${rows && rows.length ? html`
            <div class="table-wrap" tabindex="0">
              <table class="table" data-testid="alert-targets">
                <thead><tr><th scope="col">Name</th><th scope="col">URL</th><th scope="col" class="hide-sm">Events</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
                <tbody>${rows.map((t) => html`
                  <tr key=${t.id} data-testid="alert-target-row" data-name=${t.name}>
                    <td>${t.name}</td>
                    <td><code>${t.url}</code></td>
                    <td class="hide-sm">${t.events.map((e) => humanize(e)).join(', ')}</td>
                    <td>
                      <button type="button" class="btn btn-small" onClick=${() => sendTest(t)} aria-label=${`Send test alert to ${t.name}`}>Send test</button>
                      <button type="button" class="btn btn-small btn-danger" onClick=${() => setDeleting(t)} aria-label=${`Delete alert target ${t.name}`}>Delete</button>
                    </td>
                  </tr>`)}
                </tbody>
              </table>
            </div>` : null}
          <${Deliveries} version=${version} />
        </div>
        <${AddTarget} onAdded=${list.reload} />
      </div>
      <${ConfirmDialog} open=${!!deleting} title=${deleting ? `Delete “${deleting.name}”?` : ''} confirmLabel="Delete alert target" danger busy=${busy}
        onConfirm=${remove} onCancel=${() => setDeleting(null)}>
        <p>Its delivery log goes too. Alerts stop reaching this URL at once.</p>
      <//>
    </section>`;
}
