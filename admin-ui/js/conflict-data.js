// Conflict fields, value comparison and the resolve mutations, shared by list and page.

import { useEffect, useRef } from './lib.js';
import { gql } from './api.js';
import { subscribe } from './ws.js';
import { runSelection } from './live-run.js';

// `change` (LOCAL / REMOTE / BOTH per field) is selected once the server has it.
export const CONFLICT_SPEC = [
  'id', 'status', 'kind', ['item', ['id', 'code', 'name', 'kind']], 'connectionId', 'runId',
  ['fields', ['field', 'base', 'local', 'remote', 'change']], 'resolution', 'resolvedAt', 'comment', 'createdAt',
];

/**
 * What each conflict kind means for the admin: a list badge, a banner on the conflict page
 * and what the two one-click resolutions do. Kinds the server does not have never show.
 */
export const KIND_INFO = {
  DELETE: {
    badge: 'Deleted upstream',
    tone: 'bad',
    title: 'Deleted upstream',
    banner: ({ upstream }) => `${upstream} no longer has this record, and it was edited here since the last sync.`,
    useRemote: 'Accept the deletion',
    useRemoteEffect: 'deletes the item here too (soft delete; vendor prices stay)',
    useLocal: 'Keep the item',
    useLocalEffect: 'keeps your version and re-creates it upstream where the connection can',
    merge: false,
  },
  FIRST_LINK: {
    badge: 'First link',
    tone: 'warn',
    title: 'Linked for the first time',
    banner: ({ upstream, connection, item }) => `The first sync of ${connection} (${upstream}) met ${item?.code ? `the existing item ${item.code}${item.name ? ` “${item.name}”` : ''}` : 'an existing item'} here; the ${upstream} record with the same code has different values. Neither side was changed: choose which values both keep.`,
    useRemote: 'Use remote',
    useRemoteEffect: 'takes the upstream values here',
    useLocal: 'Use local',
    useLocalEffect: 'keeps the values here and pushes them upstream',
    merge: true,
  },
};

export const kindInfo = (kind) => KIND_INFO[String(kind || '').toUpperCase()] || null;

/**
 * Which side changed a field since the last sync: the API's `change` when it sends one,
 * else derived from the three versions. LOCAL / REMOTE / BOTH (null: neither).
 */
export function fieldChange(row) {
  if (row.change) return String(row.change).toUpperCase();
  const local = !same(row.local, row.base);
  const remote = !same(row.remote, row.base);
  if (local && remote) return 'BOTH';
  if (local) return 'LOCAL';
  if (remote) return 'REMOTE';
  return null;
}
export const CONFLICT_FULL_SPEC = [...CONFLICT_SPEC, 'local', 'remote', 'base'];

export function conflictType(caps) {
  return caps.returns('query', 'conflict') || caps.nodeType(caps.returns('query', 'conflicts')) || 'Conflict';
}

/** Stable text of a JSON value, for equality (key order and null/undefined do not matter). */
export function canon(v) {
  if (v === undefined || v === null) return 'null';
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canon(v[k])}`).join(',')}}`;
  }
  // Decimal strings: "12.50" equals "12.5".
  if (typeof v === 'string' && /^-?\d+\.\d+$/.test(v)) return JSON.stringify(v.replace(/0+$/, '').replace(/\.$/, ''));
  return JSON.stringify(v);
}

export const same = (a, b) => canon(a) === canon(b);

export async function resolveOne(caps, id, resolution, { fields = null, comment = '' } = {}) {
  const defs = ['$id: ID!', '$resolution: Resolution!'];
  const args = ['id: $id', 'resolution: $resolution'];
  const vars = { id, resolution };
  if (fields) { defs.push('$fields: [FieldPick!]'); args.push('fields: $fields'); vars.fields = fields; }
  if (comment && caps.arg('mutation', 'resolveConflict', 'comment')) {
    defs.push('$comment: String'); args.push('comment: $comment'); vars.comment = comment;
  }
  const sel = caps.select(conflictType(caps), CONFLICT_FULL_SPEC);
  const d = await gql(`mutation(${defs.join(', ')}) { resolveConflict(${args.join(', ')}) { ${sel} } }`, vars);
  return d.resolveConflict;
}

/**
 * Resolves many conflicts the same way. With resolveConflicts the server runs one
 * background run per connection (it takes one connection at a time): resolves to
 * { runs, done: 0, failed } and the caller follows the runs. Without it, one by one:
 * { runs: [], done, failed: [{id, error}] }. `conflicts` are nodes with id and connectionId.
 */
export async function resolveMany(caps, conflicts, resolution) {
  if (caps.mutation('resolveConflicts')) {
    const runType = caps.returns('mutation', 'resolveConflicts');
    const kind = caps.types.get(runType)?.kind;
    const sel = kind === 'OBJECT' ? `{ ${runType === 'SyncRun' || caps.has(runType, 'status') ? runSelection(caps) : '__typename'} }` : '';
    const byConnection = new Map();
    for (const c of conflicts) {
      const key = String(c.connectionId ?? '');
      byConnection.set(key, [...(byConnection.get(key) || []), c.id]);
    }
    const runs = [];
    const failed = [];
    for (const ids of byConnection.values()) {
      try {
        const d = await gql(`mutation($ids: [ID!]!, $resolution: Resolution!) { resolveConflicts(ids: $ids, resolution: $resolution) ${sel} }`, { ids, resolution });
        if (d.resolveConflicts?.id) runs.push(d.resolveConflicts);
      } catch (error) {
        for (const id of ids) failed.push({ id, error });
      }
    }
    return { runs, done: 0, failed };
  }
  const failed = [];
  let done = 0;
  for (const { id } of conflicts) {
    try {
      await resolveOne(caps, id, resolution);
      done += 1;
    } catch (error) {
      failed.push({ id, error });
    }
  }
  return { runs: [], done, failed };
}

/**
 * Calls `reload` (debounced) whenever a sync stores a new conflict: the conflictCreated
 * feed, when the server has it.
 */
export function useConflictFeed(caps, reload, connectionId = null) {
  const ref = useRef(reload);
  ref.current = reload;
  useEffect(() => {
    if (!caps.subscription('conflictCreated')) return undefined;
    let timer = null;
    const args = connectionId && caps.arg('subscription', 'conflictCreated', 'connectionId') ? '(connectionId: $c)' : '';
    const stop = subscribe(`subscription${args ? '($c: ID)' : ''} { conflictCreated${args} { id } }`, args ? { c: connectionId } : {}, {
      next: () => { clearTimeout(timer); timer = setTimeout(() => ref.current(), 300); },
      error: () => {},
    });
    return () => { clearTimeout(timer); stop(); };
  }, [connectionId]); // eslint-disable-line react-hooks/exhaustive-deps
}
