// Previous / next for Relay cursor connections.

import { html } from '../lib.js';
import { formatInt } from '../format.js';

export function Pager({ pageInfo, totalCount, shown, onPrev, onNext, hasPrev, label = 'rows' }) {
  if (!pageInfo) return null;
  const prev = hasPrev ?? pageInfo.hasPreviousPage;
  return html`
    <nav class="pager" aria-label="Pagination">
      <span class="pager-info">
        ${totalCount !== undefined && totalCount !== null
          ? html`${formatInt(shown)} shown of ${formatInt(totalCount)} ${label}`
          : html`${formatInt(shown)} ${label}`}
      </span>
      <button type="button" class="btn" disabled=${!prev} onClick=${onPrev}>← Previous</button>
      <button type="button" class="btn" disabled=${!pageInfo.hasNextPage} onClick=${onNext}>Next →</button>
    </nav>`;
}
