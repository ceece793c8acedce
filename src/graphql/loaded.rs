//! Objects a list page loads in brief.
//!
//! A page of requests reads, for its rows and for the customers and partners
//! nested in them, only the columns its selection needs when every field
//! selected below them is one a brief row answers (a list shows a request's
//! state and the names of its customer and partner, not every column of
//! three tables). Such an object keeps the rest of its row unloaded: a field
//! that needs it reads the whole row by id, once, through the same
//! authorization as every other path, so a selection the check did not
//! foresee costs a read, never a wrong answer.

use std::sync::Arc;

use async_graphql::{Context, Lookahead};
use tokio::sync::OnceCell;

use super::read;
use crate::domain::actor::Actor;
use crate::domain::ids::ObjectId;
use crate::error::Result;
use crate::store::{NamedRow, Tx};

/// Whether every field selected below each of `looks` is one of `brief`,
/// through aliases, fragment spreads and inline fragments (a field under
/// `@skip` or `@include` counts as selected).
pub fn only(looks: &[Lookahead<'_>], brief: &[&str]) -> bool {
    looks
        .iter()
        .flat_map(|look| look.selection_fields())
        .all(|field| field.selection_set().all(|f| brief.contains(&f.name())))
}

/// The whole row of an object that may have been loaded in brief.
pub struct Whole<R>(OnceCell<Arc<R>>);

impl<R: Send + Sync + 'static> Whole<R> {
    /// A row already loaded.
    pub fn loaded(row: Arc<R>) -> Self {
        Whole(OnceCell::new_with(Some(row)))
    }

    /// A row to read when a field first needs it.
    pub fn later() -> Self {
        Whole(OnceCell::new())
    }

    /// The row, read with `load` (as the caller, in a read transaction) if
    /// it is not loaded yet.
    pub async fn get<F>(&self, ctx: &Context<'_>, load: F) -> async_graphql::Result<&R>
    where
        F: FnOnce(&Tx<'_>, &Actor) -> Result<R> + Send + 'static,
    {
        let row = self
            .0
            .get_or_try_init(|| async { read(ctx, load).await.map(Arc::new) })
            .await?;
        Ok(row)
    }

    /// The row if it is loaded.
    pub fn get_now(&self) -> Option<&R> {
        self.0.get().map(|row| &**row)
    }
}

/// A row a list page may load in brief: its id and name, and how to read it
/// whole as a caller may see it.
pub trait Named: Send + Sync + Sized + 'static {
    fn id(&self) -> &ObjectId;
    fn name(&self) -> &str;
    fn read(tx: &Tx<'_>, actor: &Actor, id: &ObjectId) -> Result<Self>;
}

/// An object's whole row, or its id and name with the rest read when needed.
pub enum Form<R> {
    Whole(Arc<R>),
    Brief(Arc<NamedRow>, Whole<R>),
}

impl<R: Named> Form<R> {
    pub fn brief(named: Arc<NamedRow>) -> Self {
        Form::Brief(named, Whole::later())
    }

    pub fn id(&self) -> &ObjectId {
        match self {
            Form::Whole(row) => row.id(),
            Form::Brief(named, _) => &named.id,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Form::Whole(row) => row.name(),
            Form::Brief(named, _) => &named.name,
        }
    }

    /// The whole row, read by id as the caller may see it if it was loaded in brief.
    pub async fn row(&self, ctx: &Context<'_>) -> async_graphql::Result<&R> {
        match self {
            Form::Whole(row) => Ok(row),
            Form::Brief(named, whole) => {
                let id = named.id.clone();
                whole
                    .get(ctx, move |tx, actor| R::read(tx, actor, &id))
                    .await
            }
        }
    }
}
