// A modal confirmation built on <dialog> (focus trapping and Esc come from the browser).

import { html, useRef, useEffect } from '../lib.js';
import { newId } from './fields.js';

export function ConfirmDialog({ open, title, children, confirmLabel = 'Confirm', danger = false, busy = false, onConfirm, onCancel }) {
  const ref = useRef(null);
  const titleId = useRef(null);
  if (!titleId.current) titleId.current = newId('dialog-title');
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return html`
    <dialog ref=${ref} class="dialog" aria-labelledby=${titleId.current} onCancel=${(e) => { e.preventDefault(); if (!busy) onCancel(); }}>
      <form method="dialog" onSubmit=${(e) => { e.preventDefault(); onConfirm(); }}>
        <h2 id=${titleId.current}>${title}</h2>
        <div class="dialog-body">${children}</div>
        <div class="dialog-actions">
          <button type="button" class="btn" onClick=${onCancel} disabled=${busy}>Cancel</button>
          <button type="submit" class=${`btn ${danger ? 'btn-danger' : 'btn-primary'}`} disabled=${busy}>${busy ? 'Working…' : confirmLabel}</button>
        </div>
      </form>
    </dialog>`;
}
