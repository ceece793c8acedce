//! The event feed: `events`, a connection a client resumes from its last
//! cursor, and the same events live over a WebSocket (`Subscription`).

use async_graphql::{Context, Object, SimpleObject};

use super::connection::{Conn, CursorKey, connection, page_args};
use super::scalars::{DateTime, Json};
use super::types::ActorRole;
use super::{app, read};
use crate::authz;
use crate::domain::EventType;
use crate::error::{Error, Result};
use crate::store::events::{self, EventFilter, EventRow, position_key};
use crate::store::pagination::PageArgs;

/// Something that happened: one change, written in the transaction that
/// made it. The same envelope is a webhook delivery's body.
#[derive(SimpleObject, Clone)]
#[graphql(serial)]
pub struct Event {
    /// The event's id (`evt_…`), the same in the feed, in subscriptions and
    /// in webhook bodies.
    pub id: String,
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
