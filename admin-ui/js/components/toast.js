// Toasts: short confirmations and errors, announced to screen readers.

import { html, useState, useEffect } from '../lib.js';

let items = [];
let nextId = 1;
const listeners = new Set();

function emit() {
  for (const fn of listeners) fn(items);
}

export function dismiss(id) {
  items = items.filter((t) => t.id !== id);
  emit();
}

/** kind: 'success' | 'error' | 'info'; link: { href, label } */
export function toast(message, { kind = 'success', link = null, timeout } = {}) {
  const id = nextId++;
  items = [...items, { id, message, kind, link }].slice(-5);
  emit();
  const ms = timeout ?? (kind === 'error' ? 10000 : 5000);
  if (ms) setTimeout(() => dismiss(id), ms);
  return id;
}

export const toastError = (message, opts = {}) => toast(message, { ...opts, kind: 'error' });

export function Toaster() {
  const [list, setList] = useState(items);
  useEffect(() => {
    listeners.add(setList);
    return () => listeners.delete(setList);
  }, []);
  return html`
    <div class="toasts" role="status" aria-live="polite" aria-relevant="additions">
      ${list.map((t) => html`
        <div key=${t.id} class=${`toast toast-${t.kind}`} data-testid="toast">
          <span class="toast-msg">${t.message}</span>
          ${t.link ? html`<a href=${t.link.href} onClick=${() => dismiss(t.id)}>${t.link.label}</a>` : null}
          <button type="button" class="toast-close" aria-label="Dismiss notification" onClick=${() => dismiss(t.id)}>×</button>
        </div>`)}
    </div>`;
}
