//! What a GraphQL request may cost, decided before async-graphql parses, validates or runs
//! it, in time linear in the size of the query.
//!
//! async-graphql's own depth, complexity and recursion checks (and its executor) expand a
//! fragment at every spread, so fragments that each spread the next one twice cost 2^n:
//! 26 levels in 1 KB took 23 s of CPU that no timeout could interrupt. Here every fragment
//! is costed once per page-size context and memoised, so the document is walked once, and
//! a request is refused before anything expands it when:
//!
//! - its text is longer than [`Limits::max_query_bytes`] (a tighter limit without a token),
//!   or brackets nest deeper than [`Limits::max_nesting`] (the parser recurses on them);
//! - it would visit more than [`Limits::max_selections`] selections once fragments are
//!   expanded (what validation and execution walk; aliases count one each);
//! - data fields nest deeper than [`Limits::max_depth`] (introspection, under `__schema`
//!   and `__type`, may go to [`Limits::max_introspection_depth`]: the stock query of
//!   graphql-js is 15 deep);
//! - its estimated cost is above [`Limits::max_cost`] (the per-request node ceiling);
//! - a fragment spreads itself.
//!
//! The cost estimates the values a response holds: 1 per field; a root field 10 more (it
//! is a database query); a paged field (`first`/`last`, default 50) costs its page size in
//! rows loaded, and multiplies the first list below it (`edges`, `nodes`) by the page size;
//! other lists count [`UNPAGED_LIST_ESTIMATE`] elements; introspection lists count the
//! schema's real averages (types, fields per type, arguments per field), so the stock
//! introspection query costs about what its answer holds, while nesting `fields { type {
//! fields … } }` multiplies out and is refused.

use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, Field, OperationType, Selection,
    SelectionSet, TypeKind, TypeSystemDefinition,
};
use async_graphql::{Name, Value, Variables};
use std::collections::{HashMap, HashSet};

/// How many elements a list without paging arguments is assumed to hold.
pub const UNPAGED_LIST_ESTIMATE: u64 = 10;
/// List sizes are kept in thousandths, so averages below one element stay exact enough.
const MILLI: u64 = 1000;

fn times_milli(milli: u64, cost: u64) -> u64 {
    u64::try_from(u128::from(milli) * u128::from(cost) / u128::from(MILLI)).unwrap_or(u64::MAX)
}

/// Extra cost of a root field: each one is at least a database query.
pub const ROOT_FIELD_COST: u64 = 10;

#[derive(Clone, Debug)]
pub struct Limits {
    pub max_query_bytes: usize,
    pub max_anonymous_query_bytes: usize,
    pub max_nesting: usize,
    pub max_selections: u64,
    pub max_depth: usize,
    pub max_introspection_depth: usize,
    pub max_cost: u64,
    /// Page size of a paged field without `first`/`last`, and the largest one allowed.
    pub default_page: u64,
    pub max_page: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_query_bytes: 64 * 1024,
            max_anonymous_query_bytes: 8 * 1024,
            max_nesting: 64,
            max_selections: 2_500,
            max_depth: 12,
            max_introspection_depth: 20,
            max_cost: 50_000,
            default_page: crate::store::page::DEFAULT_PAGE,
            max_page: crate::store::page::MAX_PAGE,
        }
    }
}

/// Why a request was refused before it ran.
#[derive(Clone, Debug, PartialEq)]
pub enum Refusal {
    /// Over a size, depth, selection or cost limit (`QUERY_TOO_COMPLEX`).
    TooComplex(String),
    /// Not a valid document in a way that would make checking it expensive
    /// (`GRAPHQL_VALIDATION_FAILED`).
    Invalid(String),
}

/// The figures of an admitted document.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Analysis {
    pub cost: u64,
    pub introspection_cost: u64,
    pub selections: u64,
    pub depth: usize,
    pub introspection_depth: usize,
    /// Root field names of every operation (fragments at the root resolved).
    pub root_fields: Vec<String>,
    /// Type of the operation that will run, when the request names one unambiguously.
    pub operation: Option<OperationType>,
}

/// One field of an object or interface type, as far as cost is concerned.
#[derive(Clone, Debug)]
struct FieldShape {
    type_name: String,
    /// Lists of this many elements, in thousandths (None: not a list).
    list: Option<u64>,
    /// Takes `first`/`last`: a page of rows.
    paged: bool,
}

/// The fields of every output type, read from the SDL once at start-up, with the
/// introspection types sized by the schema's own averages.
#[derive(Clone, Debug, Default)]
pub struct SchemaShape {
    types: HashMap<String, HashMap<String, FieldShape>>,
    roots: Vec<String>,
    /// What introspection may cost: [`INTROSPECTION_COST_PER_ELEMENT`] per type, field,
    /// argument, enum value and input field, so it grows with the schema.
    introspection_budget: u64,
}

/// Introspection budget per element of the schema. The stock graphql-js query costs about
/// 40 per element (each field and argument brings its type reference, nine levels deep);
/// the budget leaves room for twice that, while nesting `fields { type { fields … } } }`
/// multiplies past it.
pub const INTROSPECTION_COST_PER_ELEMENT: u64 = 80;

fn named(ty: &async_graphql::parser::types::Type) -> (String, bool) {
    match &ty.base {
        BaseType::Named(n) => (n.to_string(), false),
        BaseType::List(inner) => (named(inner).0, true),
    }
}

impl SchemaShape {
    pub fn from_sdl(sdl: &str) -> Result<SchemaShape, String> {
        let doc = async_graphql::parser::parse_schema(sdl).map_err(|e| e.to_string())?;
        let mut shape = SchemaShape::default();
        let (mut types, mut fields, mut args, mut enum_values, mut input_fields) =
            (5u64, 0u64, 0u64, 0u64, 0u64); // the five built-in scalars
        for def in &doc.definitions {
            match def {
                TypeSystemDefinition::Schema(s) => {
                    let s = &s.node;
                    shape.roots.extend(
                        [&s.query, &s.mutation, &s.subscription]
                            .into_iter()
                            .flatten()
                            .map(|n| n.node.to_string()),
                    );
                }
                TypeSystemDefinition::Type(t) => {
                    types += 1;
                    let t = &t.node;
                    let defs = match &t.kind {
                        TypeKind::Object(o) => &o.fields,
                        TypeKind::Interface(i) => &i.fields,
                        TypeKind::Enum(e) => {
                            enum_values += e.values.len() as u64;
                            continue;
                        }
                        TypeKind::InputObject(i) => {
                            input_fields += i.fields.len() as u64;
                            continue;
                        }
                        _ => continue,
                    };
                    let mut map = HashMap::new();
                    for f in defs {
                        let f = &f.node;
                        fields += 1;
                        args += f.arguments.len() as u64;
                        let (type_name, is_list) = named(&f.ty.node);
                        let paged = f
                            .arguments
                            .iter()
                            .any(|a| matches!(a.node.name.node.as_str(), "first" | "last"));
                        map.insert(
                            f.name.node.to_string(),
                            FieldShape {
                                type_name,
                                list: is_list.then_some(UNPAGED_LIST_ESTIMATE * MILLI),
                                paged,
                            },
                        );
                    }
                    shape.types.insert(t.name.node.to_string(), map);
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        if shape.roots.is_empty() {
            shape.roots = vec!["Query".into(), "Mutation".into(), "Subscription".into()];
        }
        // The introspection types of GraphQL itself (eight of them), sized by averages.
        let types = types + 8;
        shape.introspection_budget = (types + fields + args + enum_values + input_fields)
            .saturating_mul(INTROSPECTION_COST_PER_ELEMENT);
        // Averages in thousandths: 2.27 fields per type costs 2.27, not 3.
        let per_type = |n: u64| n * MILLI / types;
        let per_field = args * MILLI / fields.max(1);
        shape.add_introspection(
            types * MILLI,
            per_type(fields),
            per_field,
            per_type(enum_values),
            per_type(input_fields),
        );
        Ok(shape)
    }

    fn add_introspection(&mut self, types: u64, fields: u64, args: u64, enums: u64, inputs: u64) {
        let f = |type_name: &str, list: Option<u64>| FieldShape {
            type_name: type_name.into(),
            list,
            paged: false,
        };
        let table: [(&str, Vec<(&str, FieldShape)>); 5] = [
            (
                "__Schema",
                vec![
                    ("types", f("__Type", Some(types))),
                    ("queryType", f("__Type", None)),
                    ("mutationType", f("__Type", None)),
                    ("subscriptionType", f("__Type", None)),
                    ("directives", f("__Directive", Some(8 * MILLI))),
                ],
            ),
            (
                "__Type",
                vec![
                    ("fields", f("__Field", Some(fields))),
                    ("inputFields", f("__InputValue", Some(inputs))),
                    ("interfaces", f("__Type", Some(MILLI))),
                    ("possibleTypes", f("__Type", Some(MILLI))),
                    ("enumValues", f("__EnumValue", Some(enums))),
                    ("ofType", f("__Type", None)),
                ],
            ),
            (
                "__Field",
                vec![
                    ("args", f("__InputValue", Some(args))),
                    ("type", f("__Type", None)),
                ],
            ),
            ("__InputValue", vec![("type", f("__Type", None))]),
            (
                "__Directive",
                vec![
                    ("args", f("__InputValue", Some(MILLI))),
                    ("locations", f("__DirectiveLocation", Some(4 * MILLI))),
                ],
            ),
        ];
        for (ty, fields) in table {
            self.types.insert(
                ty.into(),
                fields.into_iter().map(|(n, s)| (n.to_owned(), s)).collect(),
            );
        }
        for root in self.roots.clone() {
            let map = self.types.entry(root).or_default();
            map.insert("__schema".into(), f("__Schema", None));
            map.insert("__type".into(), f("__Type", None));
        }
    }

    fn field(&self, type_name: Option<&str>, field: &str) -> Option<&FieldShape> {
        self.types.get(type_name?)?.get(field)
    }

    fn root_of(&self, op: OperationType) -> Option<&str> {
        let i = match op {
            OperationType::Query => 0,
            OperationType::Mutation => 1,
            OperationType::Subscription => 2,
        };
        self.roots.get(i).map(String::as_str)
    }
}

/// Checks the raw text: its length, and how deep brackets nest outside strings and
/// comments (the parser recurses on each level, so this runs before it).
pub fn check_text(query: &str, signed_in: bool, limits: &Limits) -> Result<(), Refusal> {
    let max = if signed_in {
        limits.max_query_bytes
    } else {
        limits.max_anonymous_query_bytes
    };
    if query.len() > max {
        return Err(Refusal::TooComplex(format!(
            "the query is {} bytes; the limit is {max}{}",
            query.len(),
            if signed_in { "" } else { " without a token" }
        )));
    }
    let nesting = max_nesting(query.as_bytes());
    if nesting > limits.max_nesting {
        return Err(Refusal::TooComplex(format!(
            "brackets nest {nesting} deep; the limit is {}",
            limits.max_nesting
        )));
    }
    Ok(())
}

fn max_nesting(text: &[u8]) -> usize {
    let (mut depth, mut max, mut i) = (0usize, 0usize, 0usize);
    while i < text.len() {
        match text[i] {
            b'#' => {
                while i < text.len() && text[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' if text[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < text.len() && !text[i..].starts_with(b"\"\"\"") {
                    i += if text[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < text.len() && text[i] != b'"' && text[i] != b'\n' {
                    i += if text[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'(' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    max
}

/// Walks every operation of a parsed document once (fragments memoised) and checks the
/// limits. `variables` resolve `first`/`last` given as variables.
pub fn analyse(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    shape: &SchemaShape,
    limits: &Limits,
) -> Result<Analysis, Refusal> {
    let mut walker = Walker {
        doc,
        shape,
        limits,
        page_sizes: page_variables(doc, variables),
        memo: HashMap::new(),
        in_progress: HashSet::new(),
        level: 0,
    };
    let mut total = Stats::default();
    let mut analysis = Analysis::default();
    for (name, op) in doc.operations.iter() {
        let op = &op.node;
        let root = shape.root_of(op.ty);
        let stats = walker.selection_set(&op.selection_set.node, root, None, true)?;
        total.add(&stats);
        let chosen = match (&doc.operations, operation_name) {
            (DocumentOperations::Single(_), _) => true,
            (DocumentOperations::Multiple(ops), None) => ops.len() == 1,
            (DocumentOperations::Multiple(_), Some(wanted)) => {
                name.is_some_and(|n| n.as_str() == wanted)
            }
        };
        if chosen {
            analysis.operation = Some(op.ty);
        }
    }
    analysis.root_fields = root_fields(doc);
    analysis.cost = total.cost;
    analysis.introspection_cost = total.introspection_cost;
    analysis.selections = total.selections;
    analysis.depth = total.depth;
    analysis.introspection_depth = total.introspection_depth;
    if total.selections > limits.max_selections {
        return Err(Refusal::TooComplex(format!(
            "the query selects {} fields once fragments are expanded; the limit is {}",
            total.selections, limits.max_selections
        )));
    }
    if total.depth > limits.max_depth {
        return Err(Refusal::TooComplex(format!(
            "Query is nested too deep: {} levels; the limit is {}",
            total.depth, limits.max_depth
        )));
    }
    if total.introspection_depth > limits.max_introspection_depth {
        return Err(Refusal::TooComplex(format!(
            "Introspection is nested too deep: {} levels; the limit is {}",
            total.introspection_depth, limits.max_introspection_depth
        )));
    }
    let introspection_budget = shape.introspection_budget.max(limits.max_cost);
    if total.introspection_cost > introspection_budget {
        return Err(Refusal::TooComplex(format!(
            "the introspection would cost about {}; the limit for this schema is {}",
            total.introspection_cost, introspection_budget
        )));
    }
    if total.cost > limits.max_cost {
        return Err(Refusal::TooComplex(format!(
            "the query would cost about {} (fields × page sizes); the limit is {}: ask for \
             smaller pages (first/last) or fewer fields",
            total.cost, limits.max_cost
        )));
    }
    Ok(analysis)
}

/// Root field names of every operation of the document (fragments at the root resolved,
/// each once): the cheap look that decides whether an anonymous request may go further.
pub fn root_fields(doc: &ExecutableDocument) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (_, op) in doc.operations.iter() {
        collect_root_fields(doc, &op.node.selection_set.node, &mut out, &mut seen);
    }
    out
}

fn collect_root_fields<'a>(
    doc: &'a ExecutableDocument,
    set: &'a SelectionSet,
    out: &mut Vec<String>,
    seen: &mut HashSet<&'a str>,
) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(f) => out.push(f.node.name.node.to_string()),
            Selection::InlineFragment(i) => {
                collect_root_fields(doc, &i.node.selection_set.node, out, seen)
            }
            Selection::FragmentSpread(s) => {
                let name = s.node.fragment_name.node.as_str();
                if seen.insert(name)
                    && let Some(f) = doc.fragments.get(name)
                {
                    collect_root_fields(doc, &f.node.selection_set.node, out, seen);
                }
            }
        }
    }
}

/// Integer values of the variables: the request's, else the largest default declared.
fn page_variables(doc: &ExecutableDocument, variables: &Variables) -> HashMap<Name, u64> {
    let mut out = HashMap::new();
    for (_, op) in doc.operations.iter() {
        for var in &op.node.variable_definitions {
            if let Some(n) = var.node.default_value().and_then(as_count) {
                let e = out.entry(var.node.name.node.clone()).or_insert(0);
                *e = (*e).max(n);
            }
        }
    }
    for (name, value) in variables.iter() {
        if let Some(n) = as_count(value) {
            out.insert(name.clone(), n);
        }
    }
    out
}

fn as_count(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| n.as_i64().map(|i| i.max(0) as u64)),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Stats {
    /// Cost of data fields.
    cost: u64,
    /// Cost under `__schema` and `__type`.
    introspection_cost: u64,
    selections: u64,
    depth: usize,
    introspection_depth: usize,
}

impl Stats {
    fn add(&mut self, other: &Stats) {
        self.cost = self.cost.saturating_add(other.cost);
        self.introspection_cost = self
            .introspection_cost
            .saturating_add(other.introspection_cost);
        self.selections = self.selections.saturating_add(other.selections);
        self.depth = self.depth.max(other.depth);
        self.introspection_depth = self.introspection_depth.max(other.introspection_depth);
    }
}

struct Walker<'a> {
    doc: &'a ExecutableDocument,
    shape: &'a SchemaShape,
    limits: &'a Limits,
    page_sizes: HashMap<Name, u64>,
    /// Fragment stats by (name, page size in effect, spread at the root).
    memo: HashMap<(&'a str, Option<u64>, bool), Stats>,
    in_progress: HashSet<&'a str>,
    /// Selection sets entered on the current path (bounds this walk's own recursion).
    level: usize,
}

impl<'a> Walker<'a> {
    /// `page`: the page size (in thousandths) a paged field above set, for the first list
    /// below it.
    fn selection_set(
        &mut self,
        set: &'a SelectionSet,
        type_name: Option<&str>,
        page: Option<u64>,
        root: bool,
    ) -> Result<Stats, Refusal> {
        self.level += 1;
        if self.level > self.limits.max_nesting {
            return Err(Refusal::TooComplex(format!(
                "Query is nested too deep: selections and fragments nest more than {} levels",
                self.limits.max_nesting
            )));
        }
        let mut stats = Stats::default();
        for selection in &set.items {
            let one = match &selection.node {
                Selection::Field(field) => self.field(&field.node, type_name, page, root)?,
                Selection::InlineFragment(inline) => {
                    let inline = &inline.node;
                    let on = inline
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.as_str())
                        .or(type_name);
                    self.selection_set(&inline.selection_set.node, on, page, root)?
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(spread.node.fragment_name.node.as_str(), page, root)?
                }
            };
            stats.add(&Stats {
                selections: one.selections.saturating_add(1),
                ..one
            });
        }
        self.level -= 1;
        Ok(stats)
    }

    fn field(
        &mut self,
        field: &'a Field,
        type_name: Option<&str>,
        page: Option<u64>,
        root: bool,
    ) -> Result<Stats, Refusal> {
        let name = field.name.node.as_str();
        let shape = self.shape.field(type_name, name).cloned();
        let mut own = 1u64;
        if root && name != "__typename" {
            own += ROOT_FIELD_COST;
        }
        // The multiplier of this field if it is a list, and the page size its selection
        // inherits (for the first list below it).
        let (list, child_page) = match &shape {
            Some(s) if s.paged => {
                let n = self.page_size(field);
                own = own.saturating_add(n);
                match s.list {
                    Some(_) => (Some(n * MILLI), None),
                    None => (None, Some(n * MILLI)),
                }
            }
            Some(s) => match s.list {
                Some(estimate) => (Some(page.unwrap_or(estimate)), None),
                None => (None, page),
            },
            None => (None, None),
        };
        let child_type = shape.as_ref().map(|s| s.type_name.as_str());
        let child = if field.selection_set.node.items.is_empty() {
            Stats::default()
        } else {
            self.selection_set(&field.selection_set.node, child_type, child_page, false)?
        };
        let cost = own.saturating_add(match list {
            Some(m) => times_milli(m, child.cost.max(1)),
            None => child.cost,
        });
        Ok(if matches!(name, "__schema" | "__type") {
            Stats {
                cost: 0,
                introspection_cost: cost.saturating_add(child.introspection_cost),
                selections: child.selections,
                depth: 0,
                introspection_depth: 1 + child.depth.max(child.introspection_depth),
            }
        } else {
            Stats {
                cost,
                introspection_cost: child.introspection_cost,
                selections: child.selections,
                depth: 1 + child.depth,
                introspection_depth: child.introspection_depth,
            }
        })
    }

    fn fragment(&mut self, name: &'a str, page: Option<u64>, root: bool) -> Result<Stats, Refusal> {
        if let Some(done) = self.memo.get(&(name, page, root)) {
            return Ok(*done);
        }
        // Unknown fragments are validation's to report; they cost nothing here.
        let Some(fragment) = self.doc.fragments.get(name) else {
            return Ok(Stats::default());
        };
        if !self.in_progress.insert(name) {
            return Err(Refusal::Invalid(format!(
                "Cannot spread fragment \"{name}\" within itself"
            )));
        }
        let on = fragment.node.type_condition.node.on.node.as_str();
        let stats = self.selection_set(&fragment.node.selection_set.node, Some(on), page, root);
        self.in_progress.remove(name);
        let stats = stats?;
        self.memo.insert((name, page, root), stats);
        Ok(stats)
    }

    fn page_size(&self, field: &Field) -> u64 {
        let given = ["first", "last"].into_iter().find_map(|arg| {
            let value = field.get_argument(arg)?.node.clone();
            let value = value
                .into_const_with(|var| {
                    self.page_sizes
                        .get(&var)
                        .map(|n| Value::Number((*n).into()))
                        .ok_or(())
                })
                .ok()?;
            as_count(&value)
        });
        given
            .unwrap_or(self.limits.default_page)
            .min(self.limits.max_page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn shape() -> &'static SchemaShape {
        static SHAPE: OnceLock<SchemaShape> = OnceLock::new();
        SHAPE.get_or_init(|| SchemaShape::from_sdl(&crate::graphql::sdl()).expect("our SDL"))
    }

    fn run(query: &str, variables: serde_json::Value) -> Result<Analysis, Refusal> {
        let limits = Limits::default();
        check_text(query, true, &limits)?;
        let doc = async_graphql::parser::parse_query(query).expect("parses");
        analyse(
            &doc,
            None,
            &Variables::from_json(variables),
            shape(),
            &limits,
        )
    }

    fn too_complex(r: Result<Analysis, Refusal>) -> String {
        match r {
            Err(Refusal::TooComplex(m)) => m,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    /// Fragments that each spread the next one twice: 2^levels selections once expanded.
    pub fn fan_out(levels: usize, on: &str, leaf: &str) -> String {
        let mut q = format!("query {{ ...F{levels} }}\n");
        for i in (1..=levels).rev() {
            q += &format!("fragment F{i} on {on} {{ ...F{p} ...F{p} }}\n", p = i - 1);
        }
        q += &format!("fragment F0 on {on} {{ {leaf} }}\n");
        q
    }

    #[test]
    fn fragment_fan_out_is_costed_without_expanding_it() {
        for levels in [26, 30, 60] {
            let started = std::time::Instant::now();
            let msg = too_complex(run(
                &fan_out(levels, "QueryRoot", "__typename"),
                serde_json::json!({}),
            ));
            assert!(msg.contains("expanded"), "{msg}");
            assert!(started.elapsed() < std::time::Duration::from_millis(50));
        }
        // Below the root too: an items page spread 2^20 times.
        let mut q = String::from("query { items(first: 1) { ...F20 } }\n");
        for i in (1..=20).rev() {
            q += &format!(
                "fragment F{i} on ItemConnection {{ ...F{p} ...F{p} }}\n",
                p = i - 1
            );
        }
        q += "fragment F0 on ItemConnection { totalCount }\n";
        too_complex(run(&q, serde_json::json!({})));
        // A few spreads of the same fragment are fine.
        let ok = run(
            &fan_out(3, "QueryRoot", "__typename"),
            serde_json::json!({}),
        )
        .unwrap();
        assert_eq!(ok.selections, 1 + 2 + 4 + 8 + 8);
    }

    #[test]
    fn fragment_cycles_are_invalid() {
        let q = "query { ...A } fragment A on QueryRoot { ...B } fragment B on QueryRoot { ...A }";
        assert!(matches!(
            run(q, serde_json::json!({})),
            Err(Refusal::Invalid(_))
        ));
    }

    #[test]
    fn page_sizes_multiply_what_they_page() {
        let page = |n: u64| {
            run(
                "query($n: Int) { items(first: $n) { totalCount edges { node { id code name cost price links { remoteId syncStatus } } } } }",
                serde_json::json!({ "n": n }),
            )
        };
        let small = page(10).unwrap().cost;
        let large = page(500).unwrap().cost;
        assert!(large > 40 * small, "{small} → {large}");
        // The default page when no size is given.
        let default = run(
            "{ items { edges { node { id code name cost price links { remoteId syncStatus } } } } }",
            serde_json::json!({}),
        )
        .unwrap()
        .cost;
        assert_eq!(default, page(50).unwrap().cost - 1);
        // A variable's default counts when the request does not set it.
        let declared = run(
            "query($n: Int = 500) { items(first: $n) { edges { node { id } } } }",
            serde_json::json!({}),
        )
        .unwrap()
        .cost;
        assert!(declared > 500 * 2);
    }

    #[test]
    fn aliases_of_pages_hit_the_node_ceiling() {
        let aliases = |n: usize, sel: &str| {
            let mut q = String::from("{");
            for i in 0..n {
                q += &format!(" a{i}: {sel}");
            }
            q + " }"
        };
        // 1,000 × items(first: 500): a 21 MB answer before.
        too_complex(run(
            &aliases(1_000, "items(first: 500) { edges { node { id code } } }"),
            serde_json::json!({}),
        ));
        // 10,000 × items(first: 100) { totalCount }: loads a million rows.
        let q = aliases(10_000, "items(first: 100) { totalCount }");
        assert!(q.len() < 512 * 1024);
        let limits = Limits {
            max_query_bytes: usize::MAX,
            ..Limits::default()
        };
        let doc = async_graphql::parser::parse_query(&q).unwrap();
        assert!(analyse(&doc, None, &Variables::default(), shape(), &limits).is_err());
        // A handful of pages is fine.
        run(
            &aliases(3, "items(first: 100) { edges { node { id code } } }"),
            serde_json::json!({}),
        )
        .unwrap();
    }

    #[test]
    fn stock_introspection_passes_and_nested_introspection_does_not() {
        for q in [
            include_str!("../../tests/api/fixtures/introspection-graphql-js-16.graphql"),
            include_str!(
                "../../tests/api/fixtures/introspection-graphql-js-16-all-options.graphql"
            ),
            include_str!("../../tests/api/fixtures/introspection-graphql-js-16-one-of.graphql"),
        ] {
            let a = run(q, serde_json::json!({})).expect("stock introspection is admitted");
            assert_eq!(
                a.introspection_depth, 15,
                "9 levels of ofType under __schema.types.fields.args.type"
            );
            eprintln!(
                "stock introspection: {a:?}, budget {}",
                shape().introspection_budget
            );
            assert_eq!(a.cost, 0, "{a:?}");
            assert!(
                a.introspection_cost < shape().introspection_budget / 2 + 1,
                "{a:?}"
            );
        }
        let mut nested = String::from("{ __schema { types { name ");
        for _ in 0..4 {
            nested += "fields { name type { name ";
        }
        nested += &"} }".repeat(4);
        nested += " } } }";
        too_complex(run(&nested, serde_json::json!({})));
    }

    #[test]
    fn data_depth_is_limited() {
        let deep = format!(
            "{{ items {{ edges {{ node {{ category {}{} }} }} }} }}",
            "{ parent ".repeat(12),
            "{ id }".to_owned() + &" }".repeat(12)
        );
        assert!(too_complex(run(&deep, serde_json::json!({}))).contains("nested too deep"));
    }

    #[test]
    fn text_size_and_nesting_are_checked_before_parsing() {
        let limits = Limits::default();
        let deep = "{a".repeat(10_000) + &"}".repeat(10_000);
        assert!(matches!(
            check_text(&deep, true, &limits),
            Err(Refusal::TooComplex(_))
        ));
        // Brackets in strings, block strings and comments do not count.
        let quoted = format!(
            "{{ items(search: \"{}\") {{ totalCount }} }} # {}\n",
            "{".repeat(100),
            "{".repeat(100)
        );
        assert!(check_text(&quoted, true, &limits).is_ok());
        let block = format!(
            "{{ items(search: \"\"\"{}\"\"\") {{ totalCount }} }}",
            "{[(".repeat(100)
        );
        assert!(check_text(&block, true, &limits).is_ok());
        let big = format!("{{ me {{ email }} }} #{}", "x".repeat(10_000));
        assert!(check_text(&big, true, &limits).is_ok());
        assert!(
            check_text(&big, false, &limits).is_err(),
            "tighter without a token"
        );
    }

    #[test]
    fn root_fields_are_found_through_fragments() {
        let a = run(
            "mutation { ...L } fragment L on MutationRoot { login(email: \"a\", password: \"b\") { token } }",
            serde_json::json!({}),
        )
        .unwrap();
        assert_eq!(a.root_fields, vec!["login".to_owned()]);
        assert_eq!(a.operation, Some(OperationType::Mutation));
    }
}
