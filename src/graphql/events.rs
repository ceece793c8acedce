//! The event feed: `events`, a connection a client resumes from its last
//! cursor, and the same events live over a WebSocket (`Subscription`).

use std::collections::VecDeque;
use std::time::Duration;

use async_graphql::{Context, ID, Object, SimpleObject, Subscription};
use futures_util::Stream;

use super::aco::AcoRequest;
use super::connection::{Conn, CursorKey, connection, page_args};
use super::scalars::{DateTime, Json};
use super::types::ActorRole;
use super::{actor, app, read};
use crate::authz;
use crate::domain::EventType;
use crate::domain::actor::Actor;
use crate::domain::ids::{IdKind, ObjectId};
use crate::error::{Error, Result};
use crate::store::events::{self, EventFilter, EventRow, position_key};
use crate::store::pagination::PageArgs;
use crate::store::{Db, Engine};

/// Something that happened: one change, written in the transaction that
/// made it. The same envelope is a webhook delivery's body.
#[derive(SimpleObject, Clone)]
#[graphql(serial)]
pub struct Event {
    /// The event's id (`evt_…`), the same in the feed, in subscriptions and
    /// in webhook bodies.
    pub id: String,
    /// Its place in the feed: `events(after:)` with it resumes right after
    /// this event (a subscriber that reconnects catches up with its last one).
    pub cursor: String,
    /// What happened.
    #[graphql(name = "type")]
    pub kind: EventType,
    /// The version of this envelope and of `data`'s shape for the type (1).
    pub schema_version: i32,
    /// When the change took effect (RFC 3339, UTC).
    pub timestamp: DateTime,
    /// The role that acted, or `SYSTEM` for what the service did by itself.
    pub actor_role: ActorRole,
    /// The id of the object the event is about (a request, agreement, grant,
    /// customer, partner, relationship, benefit credit or webhook subscription).
    pub object_id: String,
    /// The ACO request it concerns, for request, agreement and credit events.
    pub request_id: Option<String>,
    /// What changed, as a JSON object: for request events the history entry
    /// (`action`, `fromStatus`, `toStatus`, `comment`, `version`), for others
    /// the object's changed values.
    pub data: Json,
}

impl TryFrom<EventRow> for Event {
    type Error = Error;

    fn try_from(r: EventRow) -> Result<Self> {
        Ok(Event {
            actor_role: ActorRole::recorded(&r.actor_role).ok_or_else(|| {
                Error::Internal(format!(
                    "an event names an unknown role: {:?}",
                    r.actor_role
                ))
            })?,
            cursor: super::connection::encode_cursor(&position_key(r.position)),
            id: r.id,
            kind: r.kind,
            schema_version: i32::try_from(r.schema_version).unwrap_or(i32::MAX),
            timestamp: DateTime(r.at),
            object_id: r.object_id,
            request_id: r.request_id,
            data: Json(serde_json::from_str(&r.data).unwrap_or_default()),
        })
    }
}

/// The feed.
#[derive(Default)]
pub struct EventQuery;

#[Object(serial)]
impl EventQuery {
    /// Every change the caller may see, oldest first: a client keeps the
    /// `endCursor` of its last page and asks again from it, and never misses
    /// an event (kept 90 days by default). What the caller may see is judged
    /// now, by the object each event names (ROLE-3, LEDGER-2). On PostgreSQL
    /// the feed runs a few seconds behind the clock, so that no transaction
    /// still committing can land behind a cursor already given out.
    #[graphql(complexity = "crate::graphql::cost::page(first, None, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Returns the events after this cursor (an edge's `cursor` or `pageInfo.endCursor` of this list)."
        )]
        after: Option<String>,
        #[graphql(desc = "Returns at most this many events (0 to 100; 20 when omitted).")]
        first: Option<i32>,
        #[graphql(desc = "Only events of these types; every type when omitted.")] types: Option<
            Vec<EventType>,
        >,
    ) -> async_graphql::Result<Conn<Event>> {
        let count_total = ctx.look_ahead().field("totalCount").exists();
        let below = app(ctx).db.event_horizon();
        read(ctx, move |tx, actor| {
            let args = PageArgs {
                skip_total: !count_total,
                ..page_args(first, after, None, None, CursorKey::Sequence)?
            };
            let filter = EventFilter {
                types: types.unwrap_or_default(),
                request: None,
                below,
            };
            let page = events::page_of(tx, &authz::event_scope(tx, actor)?, &filter, &args)?
                .try_map(|r| {
                    let key = position_key(r.position);
                    Event::try_from(r).map(|e| (key, e))
                })?;
            Ok(connection(page, |(key, _)| key.clone(), |(_, e)| e))
        })
        .await
    }
}

/// Events as they happen, over a WebSocket (`graphql-transport-ws`),
/// authenticated by the token in `connection_init` and scoped as the feed.
#[derive(Default)]
pub struct EventSubscription;

/// Live updates over a WebSocket (`graphql-transport-ws` on `GET /graphql`),
/// authenticated by the token in `connection_init` and scoped as queries are.
#[Subscription(name = "Subscription")]
impl EventSubscription {
    /// Every change the caller may see from now on, as it is committed: the
    /// same events as the `events` feed, in the same order (a reconnecting
    /// client catches up from the feed with its last event's cursor).
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only events of these types; every type when omitted.")] types: Option<
            Vec<EventType>,
        >,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Event>> + use<>> {
        let filter = EventFilter {
            types: types.unwrap_or_default(),
            request: None,
            below: None,
        };
        let live = Live::start(ctx, filter).await?;
        Ok(futures_util::stream::unfold(live, |mut live| async move {
            let row = live.next().await?;
            Some((Event::try_from(row).map_err(Into::into), live))
        }))
    }

    /// The request each time it changes (a workflow step, its agreement or
    /// its credit), as the caller sees it then (changes that land together
    /// are one answer); ends when the caller may no longer see it. `NOT_FOUND` for a request the caller may not see.
    async fn aco_request_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request (`req_…`).")] id: ID,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<AcoRequest>> + use<>> {
        let id = ObjectId::parse_kind(&id, IdKind::AcoRequest)
            .map_err(|e| super::to_gql(ctx, Error::bad_id(&["id"], e)))?;
        let seen = id.clone();
        read(ctx, move |tx, actor| {
            authz::find_request(tx, actor, &seen)?.ok_or(Error::NotFound)
        })
        .await?;
        let filter = EventFilter {
            types: Vec::new(),
            request: Some(id.clone()),
            below: None,
        };
        let live = Live::start(ctx, filter).await?;
        Ok(futures_util::stream::unfold(
            (live, id),
            |(mut live, id)| async move {
                live.next().await?;
                // Several changes read at once are one answer: the request now.
                live.ready.clear();
                let (db, actor, request) = (live.db.clone(), live.actor.clone(), id.clone());
                let now = db
                    .read(move |tx| authz::find_request(tx, &actor, &request))
                    .await;
                match now {
                    Ok(Some(row)) => Some((Ok(AcoRequest::from(row)), (live, id))),
                    Ok(None) => None,
                    Err(e) => {
                        tracing::warn!(error = %e, "reading a request for a subscription failed");
                        None
                    }
                }
            },
        ))
    }
}

/// A reader of the feed that waits for what comes next: after each commit
/// of this process, and at least every second.
struct Live {
    db: Db,
    actor: Actor,
    filter: EventFilter,
    cursor: i64,
    commits: tokio::sync::watch::Receiver<u64>,
    ready: VecDeque<EventRow>,
}

impl Live {
    /// From the newest event now.
    async fn start(ctx: &Context<'_>, filter: EventFilter) -> async_graphql::Result<Live> {
        let db = app(ctx).db.clone();
        let actor = actor(ctx)?;
        let below = db.event_horizon();
        let commits = events::commits();
        let cursor = db
            .read(move |tx| events::head(tx, below))
            .await
            .map_err(|e| super::to_gql(ctx, e))?;
        Ok(Live {
            db,
            actor,
            filter,
            cursor,
            commits,
            ready: VecDeque::new(),
        })
    }

    /// The next event; `None` when the store fails (the subscription ends).
    async fn next(&mut self) -> Option<EventRow> {
        loop {
            if let Some(row) = self.ready.pop_front() {
                return Some(row);
            }
            let (actor, after) = (self.actor.clone(), self.cursor);
            let filter = EventFilter {
                below: self.db.event_horizon(),
                ..self.filter.clone()
            };
            let page = self
                .db
                .read(move |tx| {
                    let args = PageArgs {
                        first: Some(100),
                        after: Some(position_key(after)),
                        skip_total: true,
                        ..PageArgs::default()
                    };
                    events::page_of(tx, &authz::event_scope(tx, &actor)?, &filter, &args)
                })
                .await;
            match page {
                Ok(page) if !page.items.is_empty() => {
                    self.cursor = page.items.last().map_or(after, |e| e.position);
                    self.ready.extend(page.items);
                }
                Ok(_) => {
                    tokio::select! {
                        _ = self.commits.changed() => {}
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "a live subscription ended");
                    return None;
                }
            }
        }
    }
}
