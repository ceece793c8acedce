//! Limits on what one request may ask for, besides depth and complexity
//! (which the schema enforces): the size of the query text and the number of
//! aliases, checked where the text is parsed. The parsed documents of recent
//! queries are kept, so that an operation sent again is not parsed again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ErrorExtensions, ServerError};

/// The query text and alias limits (`ACO_MAX_QUERY_BYTES`, `ACO_MAX_ALIASES`).
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    pub max_bytes: usize,
    pub max_aliases: usize,
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

/// Parses query text once per distinct text: the size limit, the parser, the
/// alias limit, and the cache of documents that passed.
pub struct Documents {
    limits: QueryLimits,
    cache: Mutex<DocumentCache>,
}

fn refusal(code: &'static str, message: String) -> ServerError {
    async_graphql::Error::new(message)
        .extend_with(|_, e| e.set("code", code))
        .into_server_error(Default::default())
}

fn count_aliases(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(f) => {
                usize::from(f.node.alias.is_some()) + count_aliases(&f.node.selection_set.node)
            }
            Selection::InlineFragment(f) => count_aliases(&f.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

/// Aliases in every operation and fragment of the document.
pub fn aliases(document: &ExecutableDocument) -> usize {
    let in_operations: usize = document
        .operations
        .iter()
        .map(|(_, op)| count_aliases(&op.node.selection_set.node))
        .sum();
    let in_fragments: usize = document
        .fragments
        .values()
        .map(|f| count_aliases(&f.node.selection_set.node))
        .sum();
    in_operations + in_fragments
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
        let document = async_graphql::parser::parse_query(query)?;
        let aliases = aliases(&document);
        if aliases > limits.max_aliases {
            return Err(refusal(
                "QUERY_TOO_COMPLEX",
                format!(
                    "the query uses {aliases} aliases; at most {} are accepted",
                    limits.max_aliases
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
