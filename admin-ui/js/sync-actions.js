// Starting and cancelling sync runs, with the feedback every caller wants.

import { gql, describeError } from './api.js';
import { runSelection } from './live-run.js';
import { toast, toastError } from './components/toast.js';
import { href } from './router.js';
import { humanize, summarizeError } from './format.js';

/** Starts a run; resolves to the run (the new one or the one already running), or null. */
export async function startSync(caps, connectionId, mode, { dryRun = false } = {}) {
  const sel = runSelection(caps);
  const hasPayload = caps.has(caps.returns('mutation', 'startSync'), 'run');
  const args = ['connectionId: $connectionId', 'mode: $mode'];
  const defs = ['$connectionId: ID!', `$mode: ${caps.argType('mutation', 'startSync', 'mode') || 'SyncMode'}!`];
  if (caps.arg('mutation', 'startSync', 'dryRun')) {
    args.push('dryRun: $dryRun');
    defs.push('$dryRun: Boolean!');
  }
  const body = hasPayload ? `run { ${sel} } alreadyRunning` : sel;
  const label = `${humanize(mode)} sync${dryRun ? ' (dry run)' : ''}`;
  try {
    const data = await gql(`mutation(${defs.join(', ')}) { startSync(${args.join(', ')}) { ${body} } }`,
      { connectionId, mode, dryRun });
    const payload = data.startSync;
    const run = hasPayload ? payload.run : payload;
    if (hasPayload && payload.alreadyRunning) {
      toast(`A sync is already running for this connection (run #${run.id}); showing it.`, {
        kind: 'info', link: { href: href(`/runs/${run.id}`), label: 'Open run' },
      });
    } else {
      toast(`${label} started (run #${run.id}).`, { link: { href: href(`/runs/${run.id}`), label: 'Open run' } });
    }
    return run;
  } catch (e) {
    if (e.code === 'SYNC_IN_PROGRESS') {
      const runId = e.extensions?.runId;
      toast(`A sync is already running for this connection${runId ? ` (run #${runId})` : ''}.`, {
        kind: 'info', link: runId ? { href: href(`/runs/${runId}`), label: 'Open run' } : null,
      });
      return runId && caps.query('syncRun')
        ? gql(`query($id: ID!) { syncRun(id: $id) { ${sel} } }`, { id: runId }).then((d) => d.syncRun, () => null)
        : null;
    }
    toastError(`Could not start the ${label.toLowerCase()}: ${describeError(e)}`);
    return null;
  }
}

export async function cancelSync(caps, runId) {
  try {
    const data = await gql(`mutation($id: ID!) { cancelSync(runId: $id) { ${runSelection(caps)} } }`, { id: runId });
    toast(`Cancellation requested for run #${runId}.`, { kind: 'info' });
    return data.cancelSync;
  } catch (e) {
    toastError(`Could not cancel run #${runId}: ${describeError(e)}`);
    return null;
  }
}

export function runEndMessage(run) {
  const status = String(run.status).toUpperCase();
  const kind = status === 'SUCCEEDED' ? 'success' : status === 'CANCELLED' ? 'info' : 'error';
  // One line; the raw error (often an upstream's JSON) is on the run page behind "Details".
  const error = run.error ? summarizeError(run.error).line : '';
  toast(`Run #${run.id} ${humanize(status).toLowerCase()}${error ? `: ${error}` : '.'}`, {
    kind, link: { href: href(`/runs/${run.id}`), label: 'Details' },
  });
}
