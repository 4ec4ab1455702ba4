// Loading, empty and error states shared by every screen.

import { html } from '../lib.js';
import { describeError } from '../api.js';

export function Loading({ label = 'Loading…' }) {
  return html`<div class="state state-loading" role="status" aria-live="polite"><span class="spinner" aria-hidden="true"></span>${label}</div>`;
}

export function Empty({ title, children }) {
  return html`<div class="state state-empty"><strong>${title}</strong>${children ? html`<div>${children}</div>` : null}</div>`;
}

export function ErrorBox({ error, onRetry, title = 'Could not load this page' }) {
  if (!error) return null;
  return html`
    <div class="state state-error" role="alert">
      <strong>${title}</strong>
      <div>${describeError(error)}${error.code && error.code !== 'NETWORK' ? html` <span class="code">(${error.code})</span>` : null}</div>
      ${onRetry ? html`<button type="button" class="btn" onClick=${onRetry}>Try again</button>` : null}
    </div>`;
}

/** A small inline error next to a control or form. */
export function InlineError({ error, id }) {
  if (!error) return null;
  const text = typeof error === 'string' ? error : describeError(error);
  return html`<p class="inline-error" role="alert" id=${id}>${text}</p>`;
}
