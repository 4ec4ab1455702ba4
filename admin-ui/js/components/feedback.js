// Loading, empty and error states shared by every screen.

import { html } from '../lib.js';
import { describeError, errorDetail } from '../api.js';
import { summarizeError } from '../format.js';

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
      <${Detail} text=${errorDetail(error)} />
      ${onRetry ? html`<button type="button" class="btn" onClick=${onRetry}>Try again</button>` : null}
    </div>`;
}

/** A small inline error next to a control or form. */
export function InlineError({ error, id }) {
  if (!error) return null;
  return html`<div class="inline-error" role="alert" id=${id}>${describeError(error)}<${Detail} text=${errorDetail(error)} /></div>`;
}

/** The raw text of an error, folded away behind a disclosure. */
export function Detail({ text }) {
  if (!text) return null;
  return html`<details class="error-detail"><summary>Details</summary><pre tabindex="0" data-testid="error-detail">${text}</pre></details>`;
}

/**
 * An error message as one human line (status and title) with the raw detail behind a
 * disclosure, e.g. an upstream's JSON answer on a run, a link or the dashboard.
 */
export function ErrorText({ message, className = 'text-bad' }) {
  const { line, detail } = summarizeError(message);
  if (!line) return null;
  return html`<div class=${`error-text ${className}`}><span class="error-line" data-testid="error-line">${line}</span><${Detail} text=${detail} /></div>`;
}
