// Resolving many conflicts at once: the confirmation (what it covers, by kind, naming the
// deletions) and the work after it (one run per connection, followed until it ends).

import { html, useState, useEffect, useRef } from '../lib.js';
import { describeError } from '../api.js';
import { ConfirmDialog } from './dialog.js';
import { toast, toastError } from './toast.js';
import { href } from '../router.js';
import { formatInt } from '../format.js';
import { kindInfo, resolveMany } from '../conflict-data.js';
import { followRuns } from '../live-run.js';

const MAX_NAMED = 12;
const plural = (n, one, many = `${one}s`) => `${formatInt(n)} ${n === 1 ? one : many}`;

function codes(list) {
  const names = list.map((c) => c.item?.code || `#${c.id}`);
  const shown = names.slice(0, MAX_NAMED).join(', ');
  return names.length > MAX_NAMED ? `${shown} and ${formatInt(names.length - MAX_NAMED)} more` : shown;
}

/** The selected conflicts grouped by kind: [{ kind, info, list }], plain field conflicts first. */
function byKind(conflicts) {
  const groups = new Map();
  for (const c of conflicts) {
    const kind = String(c.kind || 'FIELDS').toUpperCase();
    groups.set(kind, [...(groups.get(kind) || []), c]);
  }
  return [...groups.entries()].map(([kind, list]) => ({ kind, info: kindInfo(kind), list }))
    .sort((a, b) => (a.info ? 1 : 0) - (b.info ? 1 : 0));
}

export function BulkResolveDialog({ resolution, conflicts, busy, onConfirm, onCancel }) {
  const remote = resolution === 'USE_REMOTE';
  const groups = byKind(conflicts);
  const deletions = groups.find((g) => g.kind === 'DELETE')?.list || [];
  const summary = groups.map((g) => plural(g.list.length, g.info ? g.info.badge.toLowerCase() : 'with changed fields', g.info ? g.info.badge.toLowerCase() : 'with changed fields')).join(', ');
  return html`
    <${ConfirmDialog} open=${!!resolution} busy=${busy} onCancel=${onCancel} onConfirm=${onConfirm} danger=${remote && deletions.length > 0}
      title=${remote ? `Use the upstream version for ${plural(conflicts.length, 'conflict')}?` : `Keep the local version for ${plural(conflicts.length, 'conflict')}?`}
      confirmLabel=${`Resolve ${formatInt(conflicts.length)}${remote && deletions.length ? ` (deletes ${formatInt(deletions.length)})` : ''}`}>
      <p data-testid="bulk-summary">This covers ${plural(conflicts.length, 'conflict')}: ${summary}.</p>
      <ul class="bulk-effects">
        ${groups.map((g) => (g.info ? html`
          <li key=${g.kind} data-testid=${`bulk-kind-${g.kind}`}><strong>${plural(g.list.length, g.info.badge.toLowerCase(), g.info.badge.toLowerCase())}</strong>:
            ${remote ? g.info.useRemoteEffect : g.info.useLocalEffect} — <span class="codes">${codes(g.list)}</span></li>`
          : html`
          <li key=${g.kind} data-testid="bulk-kind-FIELDS"><strong>${plural(g.list.length, 'with changed fields', 'with changed fields')}</strong>:
            ${remote ? 'the upstream values overwrite the local edits.' : 'the local values are kept and pushed upstream, overwriting the upstream changes.'}</li>`))}
      </ul>
    <//>`;
}

/**
 * Bulk resolution with its confirmation. `onChanged()` is called while the runs progress
 * and when they end, so the caller reloads its list and counts.
 * Returns { ask(resolution, conflicts), dialog, working }.
 */
export function useBulkResolve(caps, onChanged) {
  const [pending, setPending] = useState(null); // { resolution, conflicts }
  const [busy, setBusy] = useState(false);
  const [working, setWorking] = useState(null); // { total, runs }
  const stopRef = useRef(null);
  const changed = useRef(onChanged);
  changed.current = onChanged;
  useEffect(() => () => stopRef.current?.(), []);

  const confirm = async () => {
    const { resolution, conflicts } = pending;
    const how = resolution === 'USE_REMOTE' ? 'the upstream version' : 'the local version';
    setBusy(true);
    try {
      const { runs, done, failed } = await resolveMany(caps, conflicts, resolution);
      setPending(null);
      if (failed.length) toastError(`${formatInt(failed.length)} could not be resolved: ${describeError(failed[0].error)}`);
      if (!runs.length) {
        if (done) toast(`${plural(done, 'conflict')} resolved with ${how}.`);
        changed.current();
        return;
      }
      toast(`Resolving ${plural(conflicts.length - failed.length, 'conflict')} with ${how}…`, {
        kind: 'info', link: runs.length === 1 ? { href: href(`/runs/${runs[0].id}`), label: 'Open run' } : null,
      });
      setWorking({ total: conflicts.length - failed.length, runs });
      let timer = null;
      stopRef.current?.();
      stopRef.current = followRuns(caps, runs, {
        onUpdate: () => { clearTimeout(timer); timer = setTimeout(() => changed.current(), 250); },
        onAllDone: (ended) => {
          clearTimeout(timer);
          setWorking(null);
          changed.current();
          const sum = (k) => ended.reduce((n, r) => n + (r.counters?.[k] || 0), 0);
          const resolved = sum('updated');
          const stale = sum('conflicts');
          const errors = sum('errors');
          const bad = ended.find((r) => r.status !== 'SUCCEEDED');
          const extra = [stale ? `${formatInt(stale)} out of date (changed since; open them again)` : null,
            errors ? `${formatInt(errors)} failed` : null].filter(Boolean).join(', ');
          const link = ended.length === 1 ? { href: href(`/runs/${ended[0].id}`), label: 'Details' } : null;
          if (bad) toastError(`Bulk resolution ${String(bad.status).toLowerCase()} after ${plural(resolved, 'conflict')} resolved.`, { link });
          else toast(`${plural(resolved, 'conflict')} resolved with ${how}${extra ? `; ${extra}` : ''}.`, { kind: extra ? 'info' : 'success', link });
        },
      });
    } catch (e) {
      toastError(`Bulk resolution failed: ${describeError(e)}`);
      setPending(null);
    } finally {
      setBusy(false);
    }
  };

  const dialog = html`<${BulkResolveDialog} resolution=${pending?.resolution} conflicts=${pending?.conflicts || []} busy=${busy}
    onConfirm=${confirm} onCancel=${() => setPending(null)} />`;
  return { ask: (resolution, conflicts) => setPending({ resolution, conflicts }), dialog, working };
}
