// Connections: the list, with create / edit / delete for admins.

import { html, useState } from '../lib.js';
import { gql, describeError } from '../api.js';
import { useApp } from '../context.js';
import { useLoader, invalidateConnections } from '../data.js';
import { href } from '../router.js';
import { PageHeader } from '../components/layout.js';
import { Loading, ErrorBox, Empty } from '../components/feedback.js';
import { Badge } from '../components/badges.js';
import { ConfirmDialog } from '../components/dialog.js';
import { toast } from '../components/toast.js';
import { formatDate } from '../format.js';
import { providerLabel } from '../providers.js';

const LIST = `{ connections(first: 200) { totalCount edges { node {
  id name provider status config hasSecrets timeZone scheduleEnabled incrementalCron fullCron schedulePausedReason createdAt
} } } }`;

/** Confirmation + deleteConnection; used by the list and the connection page. */
export function DeleteConnection({ connection, onDeleted, label = 'Delete' }) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await gql('mutation($id: ID!) { deleteConnection(id: $id) }', { id: connection.id });
      invalidateConnections();
      toast(`Deleted connection “${connection.name}”.`);
      setOpen(false);
      onDeleted();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  return html`
    <button type="button" class="btn btn-small btn-danger" aria-label=${`Delete connection ${connection.name}`}
      onClick=${() => { setError(null); setOpen(true); }}>${label}</button>
    <${ConfirmDialog} open=${open} title=${`Delete “${connection.name}”?`} confirmLabel="Delete connection" danger busy=${busy}
      onConfirm=${confirm} onCancel=${() => setOpen(false)}>
      <p>The connection, its links, credentials and schedules are removed. Items stay in the price book,
        but they stop syncing with ${providerLabel(connection.provider)}.</p>
      ${error ? html`<p class="inline-error" role="alert">${error}</p>` : null}
    <//>`;
}

export function Connections() {
  const { isAdmin } = useApp();
  const list = useLoader(() => gql(LIST).then((d) => d.connections.edges.map((e) => e.node)), []);
  const rows = list.data;
  return html`
    <section>
      <${PageHeader} title="Connections" subtitle="The systems this price book syncs with">
        ${isAdmin ? html`<a class="btn btn-primary" href="#/connections/new">New connection</a>` : null}
      <//>
      ${list.error ? html`<${ErrorBox} error=${list.error} onRetry=${list.reload} />` : null}
      ${!rows && !list.error ? html`<${Loading} />` : null}
      ${rows && !rows.length ? html`<${Empty} title="No connections yet">
        ${isAdmin ? 'Create one to start syncing a price book.' : 'Ask an admin to connect a system.'}<//>` : null}
      ${rows && rows.length ? html`
        <div class="table-wrap" tabindex="0">
          <table class="table" data-testid="connections-table">
            <thead><tr><th scope="col">Name</th><th scope="col">Provider</th><th scope="col">Status</th>
              <th scope="col" class="hide-sm">Credentials</th><th scope="col" class="hide-sm">Schedule</th><th scope="col" class="hide-sm">Created</th>
              ${isAdmin ? html`<th scope="col"><span class="sr-only">Actions</span></th>` : null}</tr></thead>
            <tbody>
              ${rows.map((c) => html`
                <tr key=${c.id} data-testid="connection-row" data-name=${c.name}>
                  <td><a href=${href(`/connections/${c.id}`)}>${c.name}</a></td>
                  <td>${providerLabel(c.provider)}${c.config?.sandbox === true ? html` <${Badge} value="sandbox" tone="muted" label="Sandbox" />` : null}</td>
                  <td><${Badge} value=${c.status} /></td>
                  <td class="hide-sm">${c.config?.sandbox === true ? 'Generated' : c.hasSecrets ? 'Stored' : html`<span class="text-warn">Missing</span>`}</td>
                  <td class="hide-sm">${c.scheduleEnabled ? html`<code>${c.incrementalCron || '—'}</code> / <code>${c.fullCron || '—'}</code>` : html`<span class="muted">Off</span>`}
                    ${c.schedulePausedReason ? html`<div class="small text-warn">${c.schedulePausedReason}</div>` : null}</td>
                  <td class="hide-sm">${formatDate(c.createdAt)}</td>
                  ${isAdmin ? html`<td class="actions">
                    <a class="btn btn-small" href=${href(`/connections/${c.id}`)} aria-label=${`Edit connection ${c.name}`}>Edit</a>
                    <${DeleteConnection} connection=${c} onDeleted=${list.reload} /></td>` : null}
                </tr>`)}
            </tbody>
          </table>
        </div>` : null}
    </section>`;
}
