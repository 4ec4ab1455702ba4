// Loading state for screens: run an async loader, keep data / error / loading, reload on demand.

import { useState, useEffect, useRef, useCallback } from './lib.js';
import { gql } from './api.js';

/**
 * `load(signal)` is re-run whenever a value in `deps` changes. Stale answers are dropped.
 * Returns { data, error, loading, reload, setData }.
 */
export function useLoader(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const generation = useRef(0);
  const run = useCallback(() => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    Promise.resolve()
      .then(() => load())
      .then(
        (data) => { if (mine === generation.current) setState({ data, error: null, loading: false }); },
        (error) => { if (mine === generation.current) setState((s) => ({ data: s.data, error, loading: false })); },
      );
  }, deps); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => {
    run();
    return () => { generation.current += 1; };
  }, [run]);
  const setData = useCallback((fn) => setState((s) => ({ ...s, data: typeof fn === 'function' ? fn(s.data) : fn })), []);
  return { ...state, reload: run, setData };
}

let connectionsCache = null;

/** All connections of the account (id, name, provider, status), cached across screens. */
export function loadConnections({ fresh = false } = {}) {
  if (!connectionsCache || fresh) {
    connectionsCache = gql('{ connections(first: 500) { edges { node { id name provider status } } } }')
      .then((d) => d.connections.edges.map((e) => e.node))
      .catch((e) => { connectionsCache = null; throw e; });
  }
  return connectionsCache;
}

export function invalidateConnections() {
  connectionsCache = null;
}

export function useConnections() {
  const [list, setList] = useState([]);
  useEffect(() => {
    let live = true;
    loadConnections().then((l) => { if (live) setList(l); }, () => {});
    return () => { live = false; };
  }, []);
  return list;
}

export function connectionName(list, id) {
  if (id === null || id === undefined) return '—';
  return list.find((c) => String(c.id) === String(id))?.name || `#${id}`;
}
