// Conflict fields, value comparison and the resolve mutations, shared by list and page.

import { gql } from './api.js';
import { runSelection } from './live-run.js';

export const CONFLICT_SPEC = [
  'id', 'status', 'kind', ['item', ['id', 'code', 'name', 'kind']], 'connectionId', 'runId',
  ['fields', ['field', 'base', 'local', 'remote']], 'resolution', 'resolvedAt', 'comment', 'createdAt',
];
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
 * Resolves many conflicts the same way: resolveConflicts (one run) when the server has it,
 * else one by one. Resolves to { run, done, failed: [{id, error}] }.
 */
export async function resolveMany(caps, ids, resolution) {
  if (caps.mutation('resolveConflicts')) {
    const runType = caps.returns('mutation', 'resolveConflicts');
    const kind = caps.types.get(runType)?.kind;
    const sel = kind === 'OBJECT' ? `{ ${runType === 'SyncRun' || caps.has(runType, 'status') ? runSelection(caps) : '__typename'} }` : '';
    const d = await gql(`mutation($ids: [ID!]!, $resolution: Resolution!) { resolveConflicts(ids: $ids, resolution: $resolution) ${sel} }`, { ids, resolution });
    const run = d.resolveConflicts && typeof d.resolveConflicts === 'object' && d.resolveConflicts.id ? d.resolveConflicts : null;
    return { run, done: ids.length, failed: [] };
  }
  const failed = [];
  let done = 0;
  for (const id of ids) {
    try {
      await resolveOne(caps, id, resolution);
      done += 1;
    } catch (error) {
      failed.push({ id, error });
    }
  }
  return { run: null, done, failed };
}
