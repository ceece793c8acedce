//! The GraphQL API: schema, context, and the types clients see.
//!
//! Every object resolves its fields one after another (`serial`): reads run
//! on the request's own thread (see `store::Engine::read_until` on `Db`) and list pages are
//! loaded ahead, so resolving a row's fields concurrently would gain nothing
//! and cost a task per field.

pub mod aco;
pub mod authorization;
pub mod benefits;
pub mod connection;
pub mod cost;
pub mod credits;
pub mod events;
pub mod gate;
pub mod input;
pub mod limits;
pub mod loaded;
pub mod mutation;
pub mod order;
pub mod plain;
pub mod query;
pub mod scalars;
pub mod types;
pub mod variables;
pub mod webhook_mutation;
pub mod webhooks;

use std::sync::Arc;

use async_graphql::{Context, Schema, SchemaBuilder};
use chrono::{DateTime, Utc};

use crate::config::AppConfig;
use crate::domain::actor::Actor;
use crate::error::{Error, Result, UserError};
use crate::service::Call;
use crate::store::Db;
use crate::store::Engine;
use crate::store::Tx;

/// The subscription root: none yet (the role gate reads its fields too).
pub type Subscription = events::EventSubscription;

pub type AcoSchema = Schema<query::QueryRoot, mutation::MutationRoot, Subscription>;

/// What every request shares: the store and the configuration.
#[derive(Clone)]
pub struct AppData {
    pub db: Db,
    pub config: Arc<AppConfig>,
}

/// What one request carries: the caller (if any), its id and the time.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub actor: Option<Actor>,
    pub request_id: String,
    pub now: DateTime<Utc>,
    /// When the caller stops waiting: reads are interrupted at it and
    /// writes that would commit after it are rolled back.
    pub deadline: Option<std::time::Instant>,
}

/// What one request may ask for (each configurable, see `config::ServeArgs`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Checked where the text is parsed (`limits::Documents`), with the
    /// fields of an introspection query measured apart.
    pub max_depth: usize,
    /// Every field costs 1, a list field its page size times its items' cost.
    pub max_complexity: usize,
    pub max_query_bytes: usize,
    pub max_aliases: usize,
    /// Fields a document may ask for with its fragments expanded.
    pub max_selections: usize,
    pub introspection: bool,
    /// Answer "did you mean …" for unknown names: dev mode only, so that a
    /// schema hidden by turning introspection off is not spelled out.
    pub suggestions: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 12,
            max_complexity: 5_000,
            max_query_bytes: 16 * 1024,
            max_aliases: 30,
            max_selections: 2_000,
            introspection: true,
            suggestions: true,
        }
    }
}

/// The schema with default limits, without data: enough to print the SDL.
pub fn schema_builder() -> SchemaBuilder<query::QueryRoot, mutation::MutationRoot, Subscription> {
    schema_with(&Limits::default())
}

fn schema_with(
    limits: &Limits,
) -> SchemaBuilder<query::QueryRoot, mutation::MutationRoot, Subscription> {
    schema_unlimited().limit_complexity(limits.max_complexity)
}

/// The schema without its complexity limit: what `cost::of` measures with.
fn schema_unlimited() -> SchemaBuilder<query::QueryRoot, mutation::MutationRoot, Subscription> {
    Schema::build(
        query::QueryRoot::default(),
        mutation::MutationRoot::default(),
        events::EventSubscription,
    )
    // Scalars that later fields use; registered so clients see them now.
    .register_output_type::<scalars::Decimal>()
    .register_output_type::<scalars::Month>()
    .limit_recursive_depth(32)
    .limit_directives(10)
}

/// Every type the served schema reaches from its root types, and each root
/// type's name with the operation it answers: what the role gate, the
/// variables' check and the cost test read.
pub fn registry() -> (
    async_graphql::registry::Registry,
    [(async_graphql::parser::types::OperationType, String); 3],
) {
    use async_graphql::parser::types::OperationType;
    use async_graphql::registry::MetaTypeName;
    use async_graphql::{OutputType, SubscriptionType};
    let mut registry = async_graphql::registry::Registry::default();
    let root = |operation, qualified: String| {
        (
            operation,
            MetaTypeName::concrete_typename(&qualified).to_owned(),
        )
    };
    let roots = [
        root(
            OperationType::Query,
            <query::QueryRoot as OutputType>::create_type_info(&mut registry),
        ),
        root(
            OperationType::Mutation,
            <mutation::MutationRoot as OutputType>::create_type_info(&mut registry),
        ),
        root(
            OperationType::Subscription,
            <Subscription as SubscriptionType>::create_type_info(&mut registry),
        ),
    ];
    (registry, roots)
}

/// The SDL: what `aco-api schema` prints and `schema.graphql` holds.
pub fn sdl() -> String {
    schema_builder()
        .finish()
        .sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}

/// The schema that serves requests. `ValidationMode::Fast` skips the rules
/// that depend on the document alone — for documents that already passed the
/// full validation (see `http::execute`); limits are checked either way.
pub fn build_schema(data: AppData, validation: async_graphql::ValidationMode) -> AcoSchema {
    let limits = data.config.limits;
    let mut builder = schema_with(&limits).data(data).validation_mode(validation);
    if !limits.suggestions {
        builder = builder.disable_suggestions();
    }
    if limits.introspection {
        builder.finish()
    } else {
        builder.disable_introspection().finish()
    }
}

pub(crate) fn request<'a>(ctx: &Context<'a>) -> &'a RequestContext {
    ctx.data_unchecked::<RequestContext>()
}

fn app<'a>(ctx: &Context<'a>) -> &'a AppData {
    ctx.data_unchecked::<AppData>()
}

/// Maps our error to the client's, with the request id for internal ones.
pub(crate) fn to_gql(ctx: &Context<'_>, e: Error) -> async_graphql::Error {
    e.into_graphql(&request(ctx).request_id)
}

/// The authenticated caller, or `UNAUTHENTICATED`.
pub(crate) fn actor(ctx: &Context<'_>) -> async_graphql::Result<Actor> {
    request(ctx)
        .actor
        .clone()
        .ok_or_else(|| to_gql(ctx, Error::Unauthenticated))
}

/// Runs `f` in a read transaction as the authenticated caller.
pub(crate) async fn read<T, F>(ctx: &Context<'_>, f: F) -> async_graphql::Result<T>
where
    F: FnOnce(&Tx<'_>, &Actor) -> Result<T> + Clone + Send + 'static,
    T: Send + 'static,
{
    let actor = actor(ctx)?;
    app(ctx)
        .db
        .read_until(request(ctx).deadline, move |tx| f(tx, &actor))
        .await
        .map_err(|e| to_gql(ctx, e))
}

/// Runs a lookup `f` like [`read`]; an object that does not exist or that
/// the caller may not see is `null` at the field, with a `NOT_FOUND` error
/// whose path names it, and the rest of the answer stays (an error returned
/// instead would take the field's key, or the whole `data`, with it).
pub(crate) async fn lookup<T, F>(ctx: &Context<'_>, f: F) -> async_graphql::Result<Option<T>>
where
    F: FnOnce(&Tx<'_>, &Actor) -> Result<T> + Clone + Send + 'static,
    T: Send + 'static,
{
    let found = read(ctx, move |tx, actor| match f(tx, actor) {
        Ok(value) => Ok(Some(value)),
        Err(Error::NotFound) => Ok(None),
        Err(e) => Err(e),
    })
    .await?;
    if found.is_none() {
        let error = to_gql(ctx, Error::NotFound).into_server_error(ctx.item.pos);
        ctx.add_error(ctx.set_error_path(error));
    }
    Ok(found)
}

/// The authenticated caller as a use case sees it: who, when, where.
pub(crate) fn call(ctx: &Context<'_>) -> async_graphql::Result<Call> {
    let data = app(ctx);
    Ok(Call {
        actor: actor(ctx)?,
        now: request(ctx).now,
        program_tenant_id: data.config.jwt.program_tenant_id.clone(),
        timezone: data.config.timezone,
    })
}

/// Runs a read-only use case in a read transaction as the authenticated caller.
pub(crate) async fn read_as_call<T, F>(ctx: &Context<'_>, f: F) -> async_graphql::Result<T>
where
    F: FnOnce(&Tx<'_>, &Call) -> Result<T> + Clone + Send + 'static,
    T: Send + 'static,
{
    let call = call(ctx)?;
    app(ctx)
        .db
        .read_until(request(ctx).deadline, move |tx| f(tx, &call))
        .await
        .map_err(|e| to_gql(ctx, e))
}

/// Runs a use case in one write transaction as the authenticated caller.
/// Business-rule refusals come back as `Err(user_errors)`, everything else
/// as a GraphQL error.
pub(crate) async fn write<T, F>(
    ctx: &Context<'_>,
    f: F,
) -> async_graphql::Result<Result<T, Vec<UserError>>>
where
    F: FnOnce(&Tx<'_>, &Call) -> Result<T> + Clone + Send + 'static,
    T: Send + 'static,
{
    let call = call(ctx)?;
    match app(ctx)
        .db
        .write_until(request(ctx).deadline, move |tx| f(tx, &call))
        .await
    {
        Ok(value) => Ok(Ok(value)),
        Err(Error::Rejected(errors)) => Ok(Err(errors)),
        Err(e) => Err(to_gql(ctx, e)),
    }
}
