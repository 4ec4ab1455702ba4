// Amazon FBA recoveries: what Amazon owes (claimable value), what it paid back, the claims
// by status with their evidence, case work (mark filed / dismissed / reopen) and CSV export.
// On a connection without data the server queues one sync; the screen follows that run and
// reloads when it ends.

import { html, useState } from '../lib.js';
import { gql } from '../api.js';
import { useApp } from '../context.js';
import { useLoader, useConnections } from '../data.js';
import { setQuery } from '../router.js';
import { canEdit } from '../session.js';
import { pageArgs, pageControls, pageSize } from '../paging.js';
import { PageHeader } from '../components/layout.js';
import { Loading, ErrorBox, Empty, InlineError } from '../components/feedback.js';
import { Unavailable } from './not-found.js';
import { Badge } from '../components/badges.js';
import { Pager } from '../components/pager.js';
import { SelectField, TextField, enumOptions } from '../components/fields.js';
import { FilterBar } from '../components/filters.js';
import { ConfirmDialog } from '../components/dialog.js';
import { RunSummary } from '../components/progress.js';
import { toast } from '../components/toast.js';
import { useLiveRun, runSelection } from '../live-run.js';
import { formatMoney, formatInt, formatDate, humanize, CURRENCY } from '../format.js';

const STATUSES = ['DETECTED', 'FILED', 'REIMBURSED', 'EXPIRED', 'DISMISSED'];
const KINDS = ['LOST_IN_WAREHOUSE', 'DAMAGED_IN_WAREHOUSE', 'REFUND_NOT_RETURNED', 'REIMBURSEMENT_REVERSED', 'INBOUND_SHORTAGE'];
const CLAIM_FIELDS = `id kind status sku fnsku reference quantity openQuantity currency estimatedValue valueSource
  eventDate eligibleFrom deadline caseId note
  evidence { source rowId date quantity amount currency reference reason role }`;
const STATUS_TONE = { DETECTED: 'warn', FILED: 'busy', REIMBURSED: 'ok', EXPIRED: 'bad', DISMISSED: 'muted' };
/** Claims per export request, and at most this many in one file. */
const EXPORT_PAGE = 500;
const EXPORT_LIMIT = 20000;
/** The status filter's "any" (an empty value would fall back to the default, DETECTED). */
const ANY = 'ANY';

/** An exact amount with its currency ("$12.50", or "12.5 EUR" for other currencies). */
function money(total) {
  if (!total) return '—';
  return total.currency === CURRENCY ? formatMoney(total.amount) : `${total.amount} ${total.currency}`;
}

const moneyList = (list) => (list?.length ? list.map(money).join(' + ') : formatMoney('0'));

function overviewQuery(caps) {
  const run = caps.query('syncRun') ? `run { ${runSelection(caps)} }` : '';
  return `query($c: ID!) { amazonRecoveries(connectionId: $c) { syncStarted hasData ${run}
    recovered { currency amount } claimable { currency amount }
    byStatus { status claims value { currency amount } }
    byKind { kind openClaims openQuantity claimable { currency amount } recovered { currency amount } } } }`;
}

export function Recoveries({ route }) {
  const { caps } = useApp();
  const amazon = useConnections().filter((c) => c.provider === 'AMAZON');
  if (!caps.query('amazonRecoveries')) return html`<${Unavailable} title="Recoveries" what="Amazon recoveries" />`;
  const chosen = route.query.connectionId || amazon[0]?.id || null;
  return html`
    <section data-testid="recoveries-page">
      <${PageHeader} title="Recoveries" subtitle="Money Amazon owes for lost, damaged and unreturned FBA units">
        ${amazon.length > 1 ? html`<${SelectField} label="Connection" value=${chosen} testid="recoveries-connection"
          onChange=${(v) => setQuery({ connectionId: v })} options=${amazon.map((c) => ({ value: c.id, label: c.name }))} />` : null}
      <//>
      ${chosen ? html`<${Recovery} key=${chosen} connectionId=${chosen} route=${route} />`
        : html`<${Empty} title="No Amazon connection">Create one on the Connections screen; its recoveries show here.<//>`}
    </section>`;
}

function Recovery({ connectionId, route }) {
  const { caps } = useApp();
  const overview = useLoader(() => gql(overviewQuery(caps), { c: connectionId }).then((d) => d.amazonRecoveries), [connectionId]);
  const [claimsKey, setClaimsKey] = useState(0);
  const data = overview.data;
  const reloadAll = () => { overview.reload(); setClaimsKey((k) => k + 1); };
  if (overview.error) return html`<${ErrorBox} error=${overview.error} onRetry=${overview.reload} />`;
  if (!data) return html`<${Loading} />`;
  const open = (data.byStatus || []).filter((s) => s.status === 'DETECTED' || s.status === 'FILED')
    .reduce((n, s) => n + s.claims, 0);
  return html`
    ${data.run ? html`<${Syncing} run=${data.run} started=${data.syncStarted} onDone=${reloadAll} />` : null}
    ${!data.hasData && !data.run ? html`<${Empty} title="Nothing pulled yet">
      The last sync of this connection found no reimbursements or ledger rows. Start one from the dashboard.<//>` : null}
    <article class="card" aria-label="Recoveries overview">
      <dl class="stats">
        <div class="stat stat-warn" data-testid="claimable-total"><dt>Claimable</dt><dd>${moneyList(data.claimable)}</dd></div>
        <div class="stat" data-testid="recovered-total"><dt>Recovered</dt><dd>${moneyList(data.recovered)}</dd></div>
        <div class="stat" data-testid="open-claims"><dt>Open claims</dt><dd>${formatInt(open)}</dd></div>
        ${(data.byStatus || []).map((s) => html`
          <div key=${s.status} class="stat"><dt>${humanize(s.status)}</dt><dd>${formatInt(s.claims)}</dd></div>`)}
      </dl>
      <div class="table-wrap">
        <table class="table" data-testid="recoveries-by-kind">
          <thead><tr><th scope="col">Kind</th><th scope="col">Open claims</th><th scope="col">Units</th>
            <th scope="col">Claimable</th><th scope="col">Recovered</th></tr></thead>
          <tbody>${(data.byKind || []).map((k) => html`
            <tr key=${k.kind}><td>${humanize(k.kind)}</td><td>${formatInt(k.openClaims)}</td><td>${formatInt(k.openQuantity)}</td>
              <td>${moneyList(k.claimable)}</td><td>${moneyList(k.recovered)}</td></tr>`)}
          </tbody>
        </table>
      </div>
    </article>
    <${Claims} key=${claimsKey} connectionId=${connectionId} route=${route} onChanged=${overview.reload} />`;
}

/** The run pulling the reports: live progress, and a reload of the screen when it ends. */
function Syncing({ run: initial, started, onDone }) {
  const { caps } = useApp();
  const { run, live } = useLiveRun(caps, initial.id, initial, () => onDone());
  return html`
    <div class="card" data-testid="recoveries-syncing" aria-live="polite">
      <p><strong>${started ? 'No recoveries data yet: a sync was started to pull it from Amazon.' : 'A sync of this connection is running.'}</strong>
        <span class="muted"> The figures below refresh when it ends.</span></p>
      <${RunSummary} run=${run || initial} live=${live} />
    </div>`;
}

function claimsQuery(page) {
  return `query(${page.defs}, $c: ID, $s: ClaimStatus, $k: ClaimKind, $sku: String) {
    amazonClaims(${page.args}, connectionId: $c, status: $s, kind: $k, sku: $sku) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { node { ${CLAIM_FIELDS} } } } }`;
}

function csvCell(v) {
  let s = v === null || v === undefined ? '' : String(v);
  // A spreadsheet would run a cell starting like a formula (a seller's note, a case id).
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The claims as CSV (exact decimals as the API sent them). */
const CSV_COLUMNS = ['id', 'kind', 'status', 'sku', 'fnsku', 'reference', 'quantity', 'openQuantity', 'currency',
  'estimatedValue', 'valueSource', 'eventDate', 'eligibleFrom', 'deadline', 'caseId', 'note'];

export function claimsCsv(claims) {
  const cols = CSV_COLUMNS;
  const lines = [cols.join(',')];
  for (const c of claims) lines.push(cols.map((k) => csvCell(c[k])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function Claims({ connectionId, route, onChanged }) {
  const { user } = useApp();
  const q = route.query;
  const status = q.status || 'DETECTED';
  const page = pageArgs(q, pageSize(q), true);
  const filters = { c: connectionId, s: status === ANY ? null : status, k: q.kind || null, sku: q.sku || null };
  const variables = { ...page.vars, ...filters };
  const key = JSON.stringify(variables);
  const result = useLoader(() => gql(claimsQuery(page), variables).then((d) => d.amazonClaims), [key]);
  const [editing, setEditing] = useState(null);
  const [exporting, setExporting] = useState(false);
  const data = result.data;
  const nav = pageControls(q, data?.pageInfo, true);
  const editable = canEdit(user);

  const update = async (claim, changes, message) => {
    await gql(`mutation($id: ID!, $s: ClaimStatus, $case: String, $note: String) {
      updateClaim(id: $id, status: $s, caseId: $case, note: $note) { ${CLAIM_FIELDS} } }`, { id: claim.id, ...changes });
    toast(message);
    result.reload();
    onChanged();
  };

  const exportCsv = async () => {
    setExporting(true);
    try {
      // Page by page with only the exported columns: one page of whole claims (with their
      // evidence) would be over the server's query cost limit.
      const query = `query($first: Int, $after: String, $c: ID, $s: ClaimStatus, $k: ClaimKind, $sku: String) {
        amazonClaims(first: $first, after: $after, connectionId: $c, status: $s, kind: $k, sku: $sku) {
          pageInfo { hasNextPage endCursor } edges { node { ${CSV_COLUMNS.join(' ')} } } } }`;
      const claims = [];
      let after = null;
      for (;;) {
        const page = (await gql(query, { first: EXPORT_PAGE, after, ...filters })).amazonClaims;
        claims.push(...page.edges.map((e) => e.node));
        if (!page.pageInfo.hasNextPage || claims.length >= EXPORT_LIMIT) break;
        after = page.pageInfo.endCursor;
      }
      download(`claims-${connectionId}-${status.toLowerCase()}.csv`, claimsCsv(claims.slice(0, EXPORT_LIMIT)));
    } catch (e) {
      toast(`Export failed: ${e.message}`, { kind: 'error' });
    } finally {
      setExporting(false);
    }
  };

  return html`
    <h2>Claims</h2>
    <${FilterBar} label="Filter claims" active=${[q.kind, q.sku, q.status].filter(Boolean).length}>
      <${SelectField} label="Status" value=${status} testid="claims-status" onChange=${(v) => setQuery({ status: v })}
        options=${[{ value: ANY, label: 'Any status' }, ...STATUSES.map((s) => ({ value: s, label: humanize(s) }))]} />
      <${SelectField} label="Kind" value=${q.kind} testid="claims-kind" onChange=${(v) => setQuery({ kind: v })}
        options=${enumOptions(KINDS, 'Any kind', humanize)} />
      <button type="button" class="btn" data-testid="claims-export" disabled=${exporting || !data?.edges.length} onClick=${exportCsv}>
        ${exporting ? 'Exporting…' : 'Export CSV'}</button>
    <//>
    ${result.error ? html`<${ErrorBox} error=${result.error} onRetry=${result.reload} />` : null}
    ${!data && !result.error ? html`<${Loading} />` : null}
    ${data && !data.edges.length ? html`<${Empty} title="No claims here">Other statuses or kinds may have some.<//>` : null}
    ${data && data.edges.length ? html`
      <div class=${`table-wrap ${result.loading ? 'is-loading' : ''}`}>
        <table class="table" data-testid="claims-table">
          <thead><tr><th scope="col">Kind</th><th scope="col">SKU</th><th scope="col" class="hide-sm">Reference</th>
            <th scope="col">Units</th><th scope="col">Value</th><th scope="col" class="hide-sm">Deadline</th>
            <th scope="col">Status</th><th scope="col">Evidence</th>${editable ? html`<th scope="col">Actions</th>` : null}</tr></thead>
          <tbody>${data.edges.map(({ node: c }) => html`
            <tr key=${c.id} data-testid="claim-row" data-claim-id=${c.id}>
              <td>${humanize(c.kind)}</td>
              <td>${c.sku || '—'}</td>
              <td class="hide-sm">${c.reference || '—'}</td>
              <td>${formatInt(c.openQuantity)}${c.openQuantity !== c.quantity ? html` <span class="muted">of ${formatInt(c.quantity)}</span>` : null}</td>
              <td title=${`from ${humanize(c.valueSource)}`}>${c.estimatedValue ? money({ amount: c.estimatedValue, currency: c.currency }) : '—'}</td>
              <td class="hide-sm">${formatDate(c.deadline)}</td>
              <td><${Badge} value=${c.status} tone=${STATUS_TONE[c.status]} />${c.caseId ? html`<div class="muted">case ${c.caseId}</div>` : null}</td>
              <td><${Evidence} claim=${c} /></td>
              ${editable ? html`<td><div class="card-actions">
                ${c.status === 'DETECTED' || c.status === 'EXPIRED' ? html`
                  <button type="button" class="btn btn-primary" onClick=${() => setEditing(c)}>Mark filed</button>
                  <button type="button" class="btn" onClick=${() => update(c, { s: 'DISMISSED' }, 'Claim dismissed.')}>Dismiss</button>` : null}
                ${c.status === 'FILED' || c.status === 'DISMISSED' ? html`
                  <button type="button" class="btn" onClick=${() => update(c, { s: 'DETECTED' }, 'Claim reopened.')}>Reopen</button>` : null}
              </div></td>` : null}
            </tr>`)}
          </tbody>
        </table>
      </div>
      <${Pager} pageInfo=${data.pageInfo} totalCount=${data.totalCount} shown=${data.edges.length} label="claims"
        hasPrev=${nav.hasPrev} onPrev=${nav.prev} onNext=${nav.next} />` : null}
    ${editing ? html`<${FileDialog} claim=${editing} onClose=${() => setEditing(null)}
      onSave=${(caseId, note) => update(editing, { s: 'FILED', case: caseId, note }, 'Claim marked filed.').then(() => setEditing(null))} />` : null}`;
}

function Evidence({ claim }) {
  return html`
    <details data-testid="claim-evidence">
      <summary>${formatInt(claim.evidence.length)} row${claim.evidence.length === 1 ? '' : 's'}</summary>
      <table class="table">
        <thead><tr><th scope="col">Row</th><th scope="col">Date</th><th scope="col">What</th><th scope="col">Units</th><th scope="col">Amount</th></tr></thead>
        <tbody>${claim.evidence.map((e) => html`
          <tr key=${`${e.source}-${e.rowId}-${e.role}`}>
            <td>${humanize(e.source)} ${e.role === 'opening' ? '(opened)' : '(offset)'}</td>
            <td>${formatDate(e.date)}</td>
            <td>${[e.reason, e.reference].filter(Boolean).join(' · ') || '—'}</td>
            <td>${formatInt(e.quantity)}</td>
            <td>${e.amount ? money({ amount: e.amount, currency: e.currency }) : '—'}</td>
          </tr>`)}
        </tbody>
      </table>
    </details>`;
}

function FileDialog({ claim, onSave, onClose }) {
  const [caseId, setCaseId] = useState(claim.caseId || '');
  const [note, setNote] = useState(claim.note || '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const confirm = async () => {
    if (!/^[!-~]{1,64}$/.test(caseId.trim())) {
      setError('Enter the case id Amazon gave you (letters, digits, punctuation; up to 64).');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onSave(caseId.trim(), note);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return html`
    <${ConfirmDialog} open=${true} title=${`File the ${humanize(claim.kind).toLowerCase()} claim`} confirmLabel="Mark filed"
      busy=${busy} onConfirm=${confirm} onCancel=${onClose}>
      <p>${claim.sku || ''} — ${formatInt(claim.openQuantity)} unit${claim.openQuantity === 1 ? '' : 's'}, deadline ${formatDate(claim.deadline)}.</p>
      <${TextField} label="Amazon case id" value=${caseId} onInput=${setCaseId} required testid="claim-case-id" />
      <${TextField} label="Note" value=${note} onInput=${setNote} testid="claim-note" />
      <${InlineError} error=${error} />
    <//>`;
}
