//! Limits on what one request may ask for, besides depth and complexity
//! (which the schema enforces): the size of the query text and the number of
//! aliases.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ErrorExtensions, ServerError, ServerResult, Variables};

/// The query text and alias limits (`ACO_MAX_QUERY_BYTES`, `ACO_MAX_ALIASES`).
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    pub max_bytes: usize,
    pub max_aliases: usize,
}

impl ExtensionFactory for QueryLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(*self)
    }
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

#[async_trait::async_trait]
impl Extension for QueryLimits {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if query.len() > self.max_bytes {
            return Err(refusal(
                "QUERY_TOO_LARGE",
                format!(
                    "the query is {} bytes; at most {} are accepted",
                    query.len(),
                    self.max_bytes
                ),
            ));
        }
        let document = next.run(ctx, query, variables).await?;
        let aliases = aliases(&document);
        if aliases > self.max_aliases {
            return Err(refusal(
                "QUERY_TOO_COMPLEX",
                format!(
                    "the query uses {aliases} aliases; at most {} are accepted",
                    self.max_aliases
                ),
            ));
        }
        Ok(document)
    }
}
