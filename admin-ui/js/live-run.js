// One sync run kept up to date: the syncProgress subscription when the server has it
// (falling back to polling syncRun when it has not, or when the socket fails).

import { useState, useEffect, useRef } from './lib.js';
import { gql } from './api.js';
import { subscribe } from './ws.js';

export const TERMINAL = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'INTERRUPTED'];
export const isActive = (run) => !!run && !TERMINAL.includes(String(run.status).toUpperCase());

export const RUN_SPEC = [
  'id', 'connectionId', 'status', 'mode', 'progress', 'stage', 'dryRun', 'trigger', 'queuedAt',
  'startedAt', 'finishedAt', 'durationSeconds', 'error', 'errorCode', 'etaSeconds', 'cancelRequested',
  'finishedWithRecordErrors', ['counters', ['fetched', 'created', 'updated', 'deleted', 'pushed', 'conflicts', 'skipped', 'errors']],
];

/** Seconds a run took (or has taken so far). */
export function runDuration(run) {
  if (!run) return null;
  if (typeof run.durationSeconds === 'number' && run.finishedAt) return run.durationSeconds;
  if (!run.startedAt) return null;
  const end = run.finishedAt ? Date.parse(run.finishedAt) : Date.now();
  return Math.max(0, (end - Date.parse(run.startedAt)) / 1000);
}

export function runType(caps) {
  return caps.returns('query', 'syncRun') || caps.returns('subscription', 'syncProgress') || 'SyncRun';
}

export function runSelection(caps) {
  return caps.select(runType(caps), RUN_SPEC);
}

export function canWatchRuns(caps) {
  return caps.subscription('syncProgress') || caps.query('syncRun');
}

/**
 * Follows run `runId`. `initial` is shown until the first update. `onDone(run)` fires once
 * when the run reaches a terminal state. Returns { run, error, live }.
 */
export function useLiveRun(caps, runId, initial = null, onDone = null) {
  const [run, setRun] = useState(initial);
  const [error, setError] = useState(null);
  const [live, setLive] = useState(false);
  const doneRef = useRef(onDone);
  doneRef.current = onDone;

  useEffect(() => {
    setRun(initial && String(initial.id) === String(runId) ? initial : null);
    setError(null);
    if (!runId) return undefined;
    const sel = runSelection(caps);
    let stopped = false;
    let stopSub = null;
    let pollTimer = null;
    let doneFired = false;

    const update = (r) => {
      if (stopped || !r) return;
      setRun(r);
      if (!isActive(r) && !doneFired) {
        doneFired = true;
        doneRef.current?.(r);
      }
    };

    const fetchOnce = () => (caps.query('syncRun')
      ? gql(`query($id: ID!) { syncRun(id: $id) { ${sel} } }`, { id: runId }).then((d) => d.syncRun)
      : Promise.resolve(null));

    const poll = () => {
      setLive(false);
      const tick = () => {
        fetchOnce().then((r) => {
          update(r);
          if (!stopped && isActive(r)) pollTimer = setTimeout(tick, 1500);
        }, (e) => { if (!stopped) setError(e); });
      };
      tick();
    };

    if (caps.subscription('syncProgress')) {
      stopSub = subscribe(`subscription($id: ID!) { syncProgress(runId: $id) { ${sel} } }`, { id: runId }, {
        next: (p) => {
          if (p.errors?.length) { setError({ message: p.errors[0].message, code: p.errors[0].extensions?.code }); return; }
          setLive(true);
          update(p.data?.syncProgress);
        },
        error: (e) => {
          if (stopped) return;
          if (e.code === 'UNAUTHENTICATED') { setError(e); return; }
          if (caps.query('syncRun')) poll(); else setError(e);
        },
        // The stream ends with the run; read the final state once in case it was not emitted.
        complete: () => {
          setLive(false);
          fetchOnce().then(update, () => {});
        },
        reconnecting: () => setLive(false),
      });
    } else if (caps.query('syncRun')) {
      poll();
    }
    return () => {
      stopped = true;
      stopSub?.();
      clearTimeout(pollTimer);
    };
  }, [runId]); // eslint-disable-line react-hooks/exhaustive-deps

  return { run, error, live };
}

/**
 * Follows several runs (not a hook: for work started by a click). `onUpdate(run)` on each
 * change, `onAllDone(runs)` once every run has ended. Returns a function that stops.
 */
export function followRuns(caps, runs, { onUpdate = () => {}, onAllDone = () => {} } = {}) {
  const sel = runSelection(caps);
  const latest = new Map(runs.map((r) => [String(r.id), r]));
  const stops = [];
  let stopped = false;
  let finished = false;
  const check = () => {
    if (!finished && [...latest.values()].every((r) => !isActive(r))) {
      finished = true;
      onAllDone([...latest.values()]);
    }
  };
  const update = (r) => {
    if (stopped || !r) return;
    latest.set(String(r.id), r);
    onUpdate(r);
    check();
  };
  const fetchOnce = (id) => gql(`query($id: ID!) { syncRun(id: $id) { ${sel} } }`, { id }).then((d) => d.syncRun);
  const poll = (id) => {
    const tick = () => fetchOnce(id).then((r) => {
      update(r);
      if (!stopped && isActive(r)) stops.push(clearTimeout.bind(null, setTimeout(tick, 1000)));
    }, () => { if (!stopped) stops.push(clearTimeout.bind(null, setTimeout(tick, 3000))); });
    tick();
  };
  for (const run of runs) {
    if (!isActive(run)) continue;
    if (caps.subscription('syncProgress')) {
      stops.push(subscribe(`subscription($id: ID!) { syncProgress(runId: $id) { ${sel} } }`, { id: run.id }, {
        next: (p) => update(p.data?.syncProgress),
        error: () => { if (!stopped && caps.query('syncRun')) poll(run.id); },
        complete: () => { if (!stopped) fetchOnce(run.id).then(update, () => {}); },
      }));
    } else if (caps.query('syncRun')) {
      poll(run.id);
    }
  }
  check();
  return () => { stopped = true; for (const s of stops) s(); };
}
