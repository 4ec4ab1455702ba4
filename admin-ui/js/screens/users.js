// Users of the account (admins only): list, add, change role.

import { html, useState } from '../lib.js';
import { gql, describeError } from '../api.js';
import { useApp } from '../context.js';
import { useLoader } from '../data.js';
import { PageHeader } from '../components/layout.js';
import { Loading, ErrorBox, Empty, InlineError } from '../components/feedback.js';
import { TextField, SelectField } from '../components/fields.js';
import { toast, toastError } from '../components/toast.js';
import { formatDate, formatRelative, humanize } from '../format.js';
import { ROLES } from '../session.js';

const ROLE_HELP = {
  ADMIN: 'everything, including connections and users',
  EDITOR: 'edit items, run syncs, resolve conflicts, import',
  VIEWER: 'read only',
};

function AddUser({ onAdded }) {
  const [draft, setDraft] = useState({ email: '', password: '', role: 'VIEWER' });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    if (!/^\S+@\S+\.\S+$/.test(draft.email.trim())) { setError('Enter a valid email address.'); return; }
    if (draft.password.length < 8) { setError('Use a password of at least 8 characters.'); return; }
    setBusy(true);
    setError(null);
    try {
      const d = await gql('mutation($e: String!, $p: String!, $r: Role!) { createUser(email: $e, password: $p, role: $r) { id email role createdAt lastLoginAt } }',
        { e: draft.email.trim(), p: draft.password, r: draft.role });
      toast(`Added ${d.createUser.email} as ${humanize(d.createUser.role).toLowerCase()}.`);
      setDraft({ email: '', password: '', role: 'VIEWER' });
      onAdded();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return html`
    <form class="card form" onSubmit=${submit} aria-labelledby="add-user-title" noValidate>
      <h2 id="add-user-title">Add a user</h2>
      <${TextField} label="Email" type="email" value=${draft.email} onInput=${(v) => setDraft({ ...draft, email: v })} required autocomplete="off" />
      <${TextField} label="Initial password" type="password" value=${draft.password} onInput=${(v) => setDraft({ ...draft, password: v })}
        required autocomplete="new-password" hint="At least 8 characters; share it privately" />
      <${SelectField} label="Role" value=${draft.role} onChange=${(v) => setDraft({ ...draft, role: v })}
        options=${ROLES.map((r) => ({ value: r, label: `${humanize(r)} — ${ROLE_HELP[r]}` }))} />
      <${InlineError} error=${error} />
      <div class="form-actions"><button type="submit" class="btn btn-primary" disabled=${busy}>${busy ? 'Adding…' : 'Add user'}</button></div>
    </form>`;
}

export function Users() {
  const { user: me, isAdmin } = useApp();
  const list = useLoader(() => gql('{ users { id email role createdAt lastLoginAt } }').then((d) => d.users), []);
  const [saving, setSaving] = useState(null);
  if (!isAdmin) return html`<section><${PageHeader} title="Users" /><p>Only admins manage users.</p></section>`;

  const changeRole = async (u, role) => {
    setSaving(u.id);
    try {
      const d = await gql('mutation($id: ID!, $r: Role!) { setUserRole(id: $id, role: $r) { id email role createdAt lastLoginAt } }', { id: u.id, r: role });
      list.setData((rows) => rows.map((r) => (r.id === u.id ? d.setUserRole : r)));
      toast(`${u.email} is now ${humanize(role).toLowerCase()}.`);
    } catch (e) {
      toastError(`Could not change the role of ${u.email}: ${describeError(e)}`);
      list.reload();
    } finally {
      setSaving(null);
    }
  };

  const rows = list.data;
  return html`
    <section>
      <${PageHeader} title="Users" subtitle="Who can sign in to this account" />
      <div class="two-col two-col-wide">
        <div>
          ${list.error ? html`<${ErrorBox} error=${list.error} onRetry=${list.reload} />` : null}
          ${!rows && !list.error ? html`<${Loading} />` : null}
          ${rows && !rows.length ? html`<${Empty} title="No users" />` : null}
          ${rows && rows.length ? html`
            <div class="table-wrap" tabindex="0">
              <table class="table" data-testid="users-table">
                <thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col" class="hide-sm">Last sign-in</th><th scope="col" class="hide-sm">Added</th></tr></thead>
                <tbody>${rows.map((u) => html`
                  <tr key=${u.id}>
                    <td>${u.email}${String(u.id) === String(me.id) ? html` <span class="muted">(you)</span>` : null}</td>
                    <td>
                      <label class="sr-only" for=${`role-${u.id}`}>Role of ${u.email}</label>
                      <select id=${`role-${u.id}`} value=${String(u.role).toUpperCase()} disabled=${saving === u.id || String(u.id) === String(me.id)}
                        title=${String(u.id) === String(me.id) ? 'You cannot change your own role' : undefined}
                        onChange=${(e) => changeRole(u, e.currentTarget.value)}>
                        ${ROLES.map((r) => html`<option key=${r} value=${r}>${humanize(r)}</option>`)}
                      </select>
                    </td>
                    <td class="hide-sm">${u.lastLoginAt ? formatRelative(u.lastLoginAt) : html`<span class="muted">never</span>`}</td>
                    <td class="hide-sm">${formatDate(u.createdAt)}</td>
                  </tr>`)}
                </tbody>
              </table>
            </div>` : null}
        </div>
        <${AddUser} onAdded=${list.reload} />
      </div>
    </section>`;
}
