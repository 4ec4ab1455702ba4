// A filter bar: the search box always shows; on phones the other filters fold behind a button.

import { html, useState } from '../lib.js';

export function FilterBar({ label, search = null, active = 0, onSubmit, children }) {
  const [open, setOpen] = useState(false);
  const Tag = onSubmit ? 'form' : 'div';
  return html`
    <${Tag} class="filters" role=${onSubmit ? 'search' : 'group'} aria-label=${label}
      onSubmit=${onSubmit ? (e) => { e.preventDefault(); onSubmit(); } : undefined}>
      ${search}
      <button type="button" class="btn filters-toggle" aria-expanded=${open} onClick=${() => setOpen(!open)}>
        Filters${active ? ` (${active})` : ''}
      </button>
      <div class=${`filters-more ${open ? 'open' : ''}`}>${children}</div>
    <//>`;
}
