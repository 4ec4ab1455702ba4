// What the server offers, learned by introspection, so screens and buttons appear only when
// the fields behind them exist (the UI lights up as the API grows). The answer is kept in
// localStorage under the schema's hash, which the server puts in the page
// (<meta name="pricebook-schema">): a sign-in asks again only after the API changed.

import { gql } from './api.js';

const TYPE_REF = 'kind name ofType { kind name ofType { kind name ofType { kind name } } }';
const INTROSPECTION = `{ __schema {
  queryType { name fields { name } } mutationType { name fields { name } } subscriptionType { name fields { name } }
  types { name kind fields { name type { ${TYPE_REF} } args { name type { ${TYPE_REF} } } } inputFields { name type { ${TYPE_REF} } } enumValues { name } }
} }`;

function named(ref) {
  let t = ref;
  while (t && !t.name) t = t.ofType;
  return t ? t.name : null;
}

export class Capabilities {
  constructor(schema) {
    this.roots = {
      query: schema?.queryType?.name,
      mutation: schema?.mutationType?.name,
      subscription: schema?.subscriptionType?.name,
    };
    this.types = new Map();
    for (const t of schema?.types || []) {
      if (t.name.startsWith('__')) continue;
      const fields = new Map();
      for (const f of t.fields || []) {
        const args = new Map((f.args || []).map((a) => [a.name, named(a.type)]));
        fields.set(f.name, { type: named(f.type), args });
      }
      for (const f of t.inputFields || []) fields.set(f.name, { type: named(f.type), args: new Map() });
      this.types.set(t.name, { kind: t.kind, fields, enumValues: (t.enumValues || []).map((e) => e.name) });
    }
  }

  field(root, name) {
    return this.types.get(this.roots[root])?.fields.get(name) || null;
  }

  query(name) { return !!this.field('query', name); }
  mutation(name) { return !!this.field('mutation', name); }
  subscription(name) { return !!this.field('subscription', name); }

  /** Whether root field `name` takes argument `arg`. */
  arg(root, name, arg) { return !!this.field(root, name)?.args.has(arg); }

  /** Named type of an argument of a root field (e.g. the enum behind a filter). */
  argType(root, name, arg) { return this.field(root, name)?.args.get(arg) || null; }

  /** Named return type of a root field. */
  returns(root, name) { return this.field(root, name)?.type || null; }

  /** Values of an enum, or null when the type is not an enum of this schema. */
  enumValues(typeName) {
    const t = this.types.get(typeName);
    return t && t.kind === 'ENUM' ? t.enumValues : null;
  }

  /** `{ __typename }` when root field `name` returns an object, '' for scalars. */
  minimalSelection(root, name) {
    const kind = this.types.get(this.returns(root, name))?.kind;
    return kind === 'OBJECT' || kind === 'INTERFACE' || kind === 'UNION' ? '{ __typename }' : '';
  }

  /** Type of `edges.node` of a Relay connection type (e.g. SyncEventConnection -> SyncEvent). */
  nodeType(connectionType) {
    const edge = this.types.get(connectionType)?.fields.get('edges')?.type;
    return (edge && this.types.get(edge)?.fields.get('node')?.type) || null;
  }

  /** Named type of field `fieldName` of object type `typeName`. */
  fieldType(typeName, fieldName) {
    return this.types.get(typeName)?.fields.get(fieldName)?.type || null;
  }

  has(typeName, fieldName) { return !!this.types.get(typeName)?.fields.has(fieldName); }

  /**
   * A selection set for `typeName` from `spec` (names, or [name, subSpec] for objects),
   * keeping only the fields the server has. Unknown types keep the spec as written.
   */
  select(typeName, spec) {
    const type = typeName ? this.types.get(typeName) : null;
    const parts = [];
    for (const entry of spec) {
      const [name, sub] = Array.isArray(entry) ? entry : [entry, null];
      if (type && !type.fields.has(name)) continue;
      const fieldType = type ? this.types.get(type.fields.get(name).type) : null;
      if (!sub && fieldType && (fieldType.kind === 'OBJECT' || fieldType.kind === 'INTERFACE')) {
        // An object where a scalar was expected: take its scalar fields.
        const scalars = [...fieldType.fields].filter(([, f]) => {
          const k = this.types.get(f.type)?.kind;
          return (k === 'SCALAR' || k === 'ENUM') && f.args.size === 0;
        }).map(([n]) => n);
        if (scalars.length) parts.push(`${name} { ${scalars.join(' ')} }`);
        continue;
      }
      if (sub) {
        const inner = this.select(type ? type.fields.get(name).type : null, sub);
        if (inner) parts.push(`${name} { ${inner} }`);
      } else {
        parts.push(name);
      }
    }
    return parts.join(' ');
  }
}

const CACHE_KEY = 'pricebook.schema';

function schemaVersion() {
  return document.querySelector('meta[name="pricebook-schema"]')?.content || null;
}

export async function loadCapabilities() {
  const version = schemaVersion();
  if (version) {
    try {
      const cached = JSON.parse(localStorage.getItem(CACHE_KEY) || 'null');
      if (cached?.version === version && cached.schema) return new Capabilities(cached.schema);
    } catch { /* unreadable cache: ask the server */ }
  }
  const data = await gql(INTROSPECTION);
  if (version) {
    try { localStorage.setItem(CACHE_KEY, JSON.stringify({ version, schema: data.__schema })); } catch { /* full or off */ }
  }
  return new Capabilities(data.__schema);
}
