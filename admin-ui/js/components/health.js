// A connection's health at a glance (from `Connection.health`), shared by the dashboard card
// and the connection page: the badge, what to do about it, the last successful sync, and
// the OAuth Connect / Reconnect button.

import { html, useState } from '../lib.js';
import { gql, describeError } from '../api.js';
import { href } from '../router.js';
import { Badge } from './badges.js';
import { toast } from './toast.js';
import { ErrorText } from './feedback.js';
import { PROVIDERS, providerLabel } from '../providers.js';
import { formatRelative, formatDateTime } from '../format.js';

/** The Connection fields these components read (the server may lack some). */
export const HEALTH_SPEC = ['health', 'healthReason', 'schedulePausedReason'];

const HEALTH = {
  ACTIVE: ['ok', 'Active'],
  NOT_CONNECTED: ['warn', 'Not connected'],
  NEEDS_REAUTH: ['bad', 'Reconnect needed'],
  FAILING: ['bad', 'Failing'],
  PAUSED: ['warn', 'Schedule paused'],
};

/** Whether the connection can run at all (no sync buttons otherwise). */
export const canRun = (connection) => !['NOT_CONNECTED', 'NEEDS_REAUTH'].includes(connection.health);

/**
 * The health badge. `lastRun` (when known) keeps it from saying a green "Active" beside a
 * failed last run: the API calls a connection FAILING only after 3 failures in a row.
 */
export function HealthBadge({ connection, lastRun }) {
  let value = connection.health ?? connection.status;
  let [tone, label] = HEALTH[value] || [undefined, undefined];
  if (value === 'ACTIVE' && lastRun?.status === 'FAILED') [value, tone, label] = ['FAILED', 'bad', 'Last run failed'];
  return html`<span data-testid="health-badge" title=${connection.healthReason || ''}><${Badge} value=${value} tone=${tone} label=${label} /></span>`;
}

/** When the connection last synced successfully (a run with skipped records counts). */
export function LastSuccess({ run }) {
  return html`<div><dt>Last successful sync</dt><dd data-testid="last-success">${run ? html`
    <a href=${href(`/runs/${run.id}`)} title=${formatDateTime(run.finishedAt)}>${formatRelative(run.finishedAt)}</a>`
    : html`<span class="muted">Never</span>`}</dd></div>`;
}

/** Asks the server for a signed consent URL (startOAuth) and opens it; the provider sends
 *  the user back to /oauth/{provider}/callback, which returns to the connection page. */
export function OAuthConnect({ connection, label = providerLabel(connection.provider), verb = 'Connect to' }) {
  const [busy, setBusy] = useState(false);
  const start = async () => {
    setBusy(true);
    try {
      const d = await gql('mutation($id: ID!) { startOAuth(connectionId: $id) { authorizeUrl } }', { id: connection.id });
      window.location.assign(d.startOAuth.authorizeUrl);
    } catch (e) {
      toast(`Could not start connecting to ${label}: ${describeError(e)}`, { kind: 'error' });
      setBusy(false);
    }
  };
  return html`<button type="button" class="btn btn-primary" disabled=${busy} onClick=${start} data-testid="oauth-connect">
    ${busy ? 'Opening…' : `${verb} ${label}`}</button>`;
}

/** What the health means and what to do, when it is not ACTIVE; `isAdmin` gets the buttons. */
export function HealthNotice({ connection, isAdmin }) {
  const h = connection.health;
  if (!h || h === 'ACTIVE') return null;
  const label = providerLabel(connection.provider);
  const oauth = Boolean(PROVIDERS[connection.provider]?.oauth);
  const reason = connection.healthReason;
  const fix = oauth
    ? (isAdmin ? html`<${OAuthConnect} connection=${connection} verb=${h === 'NOT_CONNECTED' ? 'Connect to' : 'Reconnect to'} />` : 'Ask an admin to connect it.')
    : (isAdmin ? html`<a class="btn btn-primary" href=${href(`/connections/${connection.id}`)}>Update credentials</a>` : 'Ask an admin to update its credentials.');
  const text = {
    NOT_CONNECTED: html`Not connected to ${label} yet: runs wait until someone authorises access. The first full sync starts after the consent.`,
    NEEDS_REAUTH: html`${label} refused the stored credentials, so runs wait. Reconnect to resume syncing.${reason ? html` <${ErrorText} message=${reason} />` : null}`,
    FAILING: html`The last runs failed; scheduled runs go on.${reason ? html` <${ErrorText} message=${reason} />` : null}`,
    PAUSED: html`Scheduled runs stopped after 10 failed runs in a row${connection.schedulePausedReason || reason ? html`: <${ErrorText} message=${connection.schedulePausedReason || reason} />` : '.'}
      ${' '}To resume, fix the cause and run a sync by hand (a success resumes the schedule) or save the schedule again on the connection page.`,
  }[h];
  if (!text) return null;
  const needsFix = h === 'NOT_CONNECTED' || h === 'NEEDS_REAUTH';
  return html`<div class=${`notice ${h === 'NOT_CONNECTED' || h === 'PAUSED' ? 'notice-warn' : 'notice-bad'} health-notice`} data-testid="health-notice">
    <div>${text}</div>${needsFix ? html`<div class="form-actions">${fix}</div>` : null}</div>`;
}
