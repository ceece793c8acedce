//! Limits on what one request may ask for, besides complexity (which the
//! schema enforces), checked where the text is parsed and before anything
//! recurses or allocates in proportion to what the text expands to: the size
//! of the text, how deeply its brackets nest, and how many fields, aliases
//! and levels of fields it asks for with every fragment spread expanded. The
//! parsed
//! documents of recent queries are kept, so that an operation sent again is
//! not parsed again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ErrorExtensions, ServerError};

/// The limits checked where the text is parsed (`ACO_MAX_QUERY_BYTES`,
/// `ACO_MAX_QUERY_DEPTH`, `ACO_MAX_ALIASES`, `ACO_MAX_SELECTIONS`).
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    pub max_bytes: usize,
    /// How deeply fields may nest, the fields inside `__schema` and `__type`
    /// not counted (see [`INTROSPECTION_LISTS`]).
    pub max_depth: usize,
    pub max_aliases: usize,
    /// Fields the document asks for, counted with every fragment spread
    /// expanded where it is spread.
    pub max_selections: usize,
}

/// How deeply brackets — selection sets, argument lists, list and object
/// values, list types — may nest in the query text. The parser and the
/// engine recurse on each level and a thread's stack is finite: this is
/// checked on the raw text, before anything recurses.
pub const MAX_NESTING: usize = 64;

/// How deeply an introspection query may nest the fields that list types
/// (`fields`, `inputFields`, `interfaces`, `possibleTypes`): these are what
/// make an introspection answer grow with each level, and the standard
/// introspection queries nest them once. Past this, the refusal graphql-js
/// 16 makes too (its `MaxIntrospectionDepthRule`).
pub const INTROSPECTION_LISTS: usize = 2;

/// The introspection fields that list types.
const TYPE_LISTS: [&str; 4] = ["fields", "inputFields", "interfaces", "possibleTypes"];

/// The root fields of introspection.
fn introspection_root(name: &str) -> bool {
    name == "__schema" || name == "__type"
}

/// How many parsed documents are kept, and how much query text in all.
const CACHED_DOCUMENTS: usize = 128;
const CACHED_BYTES: usize = 256 * 1024;

/// Parsed documents of queries that passed the limits, by their text.
/// Parsing depends on the text only (not on variables), so a hit is exactly
/// what parsing would give. When full it starts over: the operations a
/// client sends are few, and a caller sending ever new text only causes
/// misses.
#[derive(Default)]
struct DocumentCache {
    documents: HashMap<Box<str>, Arc<Parsed>>,
    bytes: usize,
}

impl DocumentCache {
    fn get(&self, query: &str) -> Option<Arc<Parsed>> {
        self.documents.get(query).cloned()
    }

    fn put(&mut self, query: &str, document: Arc<Parsed>) {
        if self.documents.len() >= CACHED_DOCUMENTS || self.bytes + query.len() > CACHED_BYTES {
            self.documents.clear();
            self.bytes = 0;
        }
        if query.len() <= CACHED_BYTES {
            self.bytes += query.len();
            self.documents.insert(query.into(), document);
        }
    }
}

/// A parsed document, and whether it has passed the engine's full validation.
pub struct Parsed {
    pub document: ExecutableDocument,
    validated: AtomicBool,
}

impl Parsed {
    /// `true` once a request with this document got as far as running: every
    /// rule that depends on the document alone holds for it.
    pub fn validated(&self) -> bool {
        self.validated.load(Ordering::Relaxed)
    }

    pub fn mark_validated(&self) {
        self.validated.store(true, Ordering::Relaxed);
    }
}

/// Parses query text once per distinct text: the size limit, the nesting
/// limit, the parser, the expanded field and alias limits, and the cache of
/// documents that passed.
pub struct Documents {
    limits: QueryLimits,
    cache: Mutex<DocumentCache>,
}

/// A document that does not parse: `GRAPHQL_PARSE_FAILED`, with one line
/// saying where and what was expected (not the parser's drawing of the
/// line). Names defined twice, which the parser finds, break validation
/// rules (GraphQL §5.2.1.1, §5.5.1.1): `GRAPHQL_VALIDATION_FAILED`.
fn parse_failed(error: async_graphql::parser::Error) -> ServerError {
    use async_graphql::parser::Error as Parser;
    let locations: Vec<_> = error.positions().collect();
    if let Parser::OperationDuplicated { .. }
    | Parser::FragmentDuplicated { .. }
    | Parser::MultipleOperations { .. } = &error
    {
        let mut refused = refusal("GRAPHQL_VALIDATION_FAILED", error.to_string());
        refused.locations = locations;
        return refused;
    }
    let message = match &error {
        async_graphql::parser::Error::Syntax { message, start, .. } => {
            let expected = message
                .lines()
                .map(str::trim)
                .find_map(|line| line.strip_prefix("= "))
                .unwrap_or("a valid GraphQL document");
            format!(
                "the query does not parse at line {}, column {}: {expected}",
                start.line, start.column
            )
        }
        other => format!("the query does not parse: {other}"),
    };
    let mut refused = refusal("GRAPHQL_PARSE_FAILED", message);
    refused.locations = locations;
    refused
}

fn refusal(code: &'static str, message: String) -> ServerError {
    async_graphql::Error::new(message)
        .extend_with(|_, e| e.set("code", code))
        .into_server_error(Default::default())
}

/// The deepest the brackets of `query` nest, outside strings and comments,
/// counted up to `limit + 1` (the scan stops there).
pub fn nesting(query: &str, limit: usize) -> usize {
    let bytes = query.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() && deepest <= limit {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' && bytes[i] != b'\r'
                {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    deepest
}

/// What a selection set asks for once its fragment spreads are expanded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Fields, `__typename` and introspection included.
    pub selections: usize,
    pub aliases: usize,
    /// The deepest path of fields, counting `__schema` and `__type` but not
    /// the fields inside them.
    pub depth: usize,
    /// The most [`TYPE_LISTS`] fields nested in one path (read only inside
    /// introspection: see `introspection_lists`).
    lists: usize,
    /// The most [`TYPE_LISTS`] fields nested in one path inside `__schema`
    /// or `__type`.
    pub introspection_lists: usize,
}

impl Tally {
    /// Two selections side by side: counts add up, depths are the deeper one.
    fn beside(self, other: Tally) -> Tally {
        Tally {
            selections: self.selections.saturating_add(other.selections),
            aliases: self.aliases.saturating_add(other.aliases),
            depth: self.depth.max(other.depth),
            lists: self.lists.max(other.lists),
            introspection_lists: self.introspection_lists.max(other.introspection_lists),
        }
    }

    /// A field named `name` with `inner` as its selection set.
    fn field(name: &str, alias: bool, inner: Tally) -> Tally {
        let root = introspection_root(name);
        Tally {
            selections: inner.selections.saturating_add(1),
            aliases: inner.aliases.saturating_add(usize::from(alias)),
            depth: 1 + if root { 0 } else { inner.depth },
            lists: inner.lists + usize::from(TYPE_LISTS.contains(&name)),
            introspection_lists: if root {
                inner.lists
            } else {
                inner.introspection_lists
            },
        }
    }
}

/// A fragment that spreads itself, directly or through others: the engine
/// would refuse it, but only after walking it.
#[derive(Debug, PartialEq, Eq)]
pub struct FragmentCycle(pub String);

fn tally_set(set: &SelectionSet, fragments: &HashMap<&str, Tally>) -> Tally {
    set.items.iter().fold(Tally::default(), |sum, item| {
        let one = match &item.node {
            Selection::Field(f) => Tally::field(
                f.node.name.node.as_str(),
                f.node.alias.is_some(),
                tally_set(&f.node.selection_set.node, fragments),
            ),
            Selection::InlineFragment(f) => tally_set(&f.node.selection_set.node, fragments),
            // A fragment that is not defined asks for nothing; validation
            // refuses the spread.
            Selection::FragmentSpread(s) => fragments
                .get(s.node.fragment_name.node.as_str())
                .copied()
                .unwrap_or_default(),
        };
        sum.beside(one)
    })
}

fn spreads<'a>(set: &'a SelectionSet, out: &mut Vec<&'a str>) {
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => spreads(&f.node.selection_set.node, out),
            Selection::InlineFragment(f) => spreads(&f.node.selection_set.node, out),
            Selection::FragmentSpread(s) => out.push(s.node.fragment_name.node.as_str()),
        }
    }
}

/// What every operation of the document asks for, with each fragment spread
/// counted as what its fragment asks for. Each fragment is counted once, after
/// the fragments it spreads (so the work is linear in the text, whatever the
/// expanded size), without recursing from one fragment into another.
pub fn tally(document: &ExecutableDocument) -> Result<Tally, FragmentCycle> {
    let mut counted: HashMap<&str, Tally> = HashMap::with_capacity(document.fragments.len());
    let mut pending: Vec<(&str, Vec<&str>)> = document
        .fragments
        .iter()
        .map(|(name, fragment)| {
            let mut spread = Vec::new();
            spreads(&fragment.node.selection_set.node, &mut spread);
            (name.as_str(), spread)
        })
        .collect();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|(name, spread)| {
            let ready = spread
                .iter()
                .all(|s| counted.contains_key(s) || !document.fragments.contains_key(*s));
            if ready && let Some(fragment) = document.fragments.get(*name) {
                let tally = tally_set(&fragment.node.selection_set.node, &counted);
                counted.insert(name, tally);
            }
            !ready
        });
        if pending.len() == before {
            // Nothing could be counted: every fragment left waits on a cycle.
            let mut names: Vec<&str> = pending.iter().map(|(name, _)| *name).collect();
            names.sort_unstable();
            return Err(FragmentCycle(names.join(", ")));
        }
    }
    Ok(document
        .operations
        .iter()
        .fold(Tally::default(), |sum, (_, operation)| {
            sum.beside(tally_set(&operation.node.selection_set.node, &counted))
        }))
}

impl Documents {
    pub fn new(limits: QueryLimits) -> Self {
        Documents {
            limits,
            cache: Mutex::default(),
        }
    }

    /// The document `query` parses to, or why it is refused.
    pub fn parse(&self, query: &str) -> Result<Arc<Parsed>, ServerError> {
        let limits = self.limits;
        if query.len() > limits.max_bytes {
            return Err(refusal(
                "QUERY_TOO_LARGE",
                format!(
                    "the query is {} bytes; at most {} are accepted",
                    query.len(),
                    limits.max_bytes
                ),
            ));
        }
        let cached = self.cache.lock().ok().and_then(|cache| cache.get(query));
        if let Some(document) = cached {
            return Ok(document);
        }
        if nesting(query, MAX_NESTING) > MAX_NESTING {
            return Err(refusal(
                "QUERY_TOO_DEEP",
                format!(
                    "the query nests selections, arguments, lists or objects more than \
                     {MAX_NESTING} levels deep"
                ),
            ));
        }
        let document = async_graphql::parser::parse_query(query).map_err(parse_failed)?;
        let tally = tally(&document).map_err(|FragmentCycle(names)| {
            refusal(
                "GRAPHQL_VALIDATION_FAILED",
                format!("these fragments spread themselves: {names}"),
            )
        })?;
        if tally.depth > limits.max_depth {
            return Err(refusal(
                "QUERY_TOO_DEEP",
                format!(
                    "the query nests fields {} levels deep; at most {} are accepted",
                    tally.depth, limits.max_depth
                ),
            ));
        }
        if tally.introspection_lists > INTROSPECTION_LISTS {
            return Err(refusal(
                "QUERY_TOO_DEEP",
                format!(
                    "the introspection query nests fields, inputFields, interfaces or \
                     possibleTypes {} levels deep; at most {INTROSPECTION_LISTS} are accepted",
                    tally.introspection_lists
                ),
            ));
        }
        if tally.selections > limits.max_selections {
            return Err(refusal(
                "QUERY_TOO_COMPLEX",
                format!(
                    "the query asks for {} fields once its fragments are expanded; \
                     at most {} are accepted",
                    tally.selections, limits.max_selections
                ),
            ));
        }
        if tally.aliases > limits.max_aliases {
            return Err(refusal(
                "QUERY_TOO_COMPLEX",
                format!(
                    "the query uses {} aliases once its fragments are expanded; \
                     at most {} are accepted",
                    tally.aliases, limits.max_aliases
                ),
            ));
        }
        let parsed = Arc::new(Parsed {
            document,
            validated: AtomicBool::new(false),
        });
        if let Ok(mut cache) = self.cache.lock() {
            cache.put(query, parsed.clone());
        }
        Ok(parsed)
    }
}
