//! Webhook subscriptions and their deliveries (Standard Webhooks): the
//! types and the queries; the mutations are in `webhook_mutation.rs`.

use async_graphql::{Context, ID, Object, SimpleObject};

use super::connection::{Conn, CursorKey, connection, page_args};
use super::events::Event;
use super::scalars::DateTime;
use super::types::Partner;
use super::{lookup, read};
use crate::authz;
use crate::domain::ids::IdKind;
use crate::domain::{EventType, WebhookDeliveryStatus};
use crate::error::Error;
use crate::store::events;
use crate::store::pagination::PageArgs;
use crate::store::webhooks::{self as store, AttemptRow, DeliveryRow, SubscriptionRow};

/// How many of a delivery's attempts `attemptLog` shows (the latest).
const ATTEMPTS_SHOWN: usize = 20;

/// An endpoint that is sent, as Standard Webhooks deliveries, the events of
/// the types it names that its owner may see.
pub struct WebhookSubscription(pub SubscriptionRow);

/// An endpoint that is sent, as Standard Webhooks deliveries, the events of
/// the types it names that its owner may see.
#[Object(serial)]
impl WebhookSubscription {
    /// The subscription's id (`whk_…`).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The partner whose events it is sent; `null` for a programme
    /// subscription, which is sent every event.
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Partner>> {
        let Some(id) = self.0.partner_id.clone() else {
            return Ok(None);
        };
        read(ctx, move |tx, actor| {
            Ok(authz::find_partner(tx, actor, &id)?.map(Partner::from))
        })
        .await
    }
    /// The endpoint: an `https` URL whose host is a public address.
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// The event types it is sent.
    #[graphql(complexity = "crate::graphql::cost::items(EventType::ALL.len(), child_complexity)")]
    async fn event_types(&self) -> &[EventType] {
        &self.0.event_types
    }
    /// What it is for, in the owner's words.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// `false` while paused: deliveries wait (and fail 24 hours after their
    /// event if it is not enabled again by then).
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
    /// Until when the secret before the last rotation still signs beside
    /// the new one; `null` when only one secret signs.
    async fn previous_secret_expires_at(&self, ctx: &Context<'_>) -> Option<DateTime> {
        let now = super::request(ctx).now;
        self.0
            .previous_secret_until
            .filter(|until| *until > now)
            .map(DateTime)
    }
    /// Starts at 1 and goes up by one with every change; updates name the
    /// version they were made from.
    async fn version(&self) -> i64 {
        self.0.version
    }
    /// When it was created (RFC 3339, UTC).
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }
    /// When it was last changed (RFC 3339, UTC).
    async fn updated_at(&self) -> DateTime {
        DateTime(self.0.updated_at)
    }
    /// Its deliveries of the last 30 days, oldest first.
    #[graphql(complexity = "crate::graphql::cost::page(first, None, child_complexity)")]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only deliveries in this state; every state when omitted.")]
        status: Option<WebhookDeliveryStatus>,
        #[graphql(
            desc = "Returns the items after this cursor (an edge's `cursor` or `pageInfo.endCursor` of this list)."
        )]
        after: Option<String>,
        #[graphql(desc = "Returns at most this many items (0 to 100; 20 when omitted).")]
        first: Option<i32>,
    ) -> async_graphql::Result<Conn<WebhookDelivery>> {
        deliveries(ctx, self.0.id.to_string(), status, after, first).await
    }
}

async fn deliveries(
    ctx: &Context<'_>,
    subscription: String,
    status: Option<WebhookDeliveryStatus>,
    after: Option<String>,
    first: Option<i32>,
) -> async_graphql::Result<Conn<WebhookDelivery>> {
    let count_total = ctx.look_ahead().field("totalCount").exists();
    read(ctx, move |tx, actor| {
        let id =
            crate::domain::ids::ObjectId::parse_kind(&subscription, IdKind::WebhookSubscription)
                .map_err(|e| Error::bad_id(&["subscriptionId"], e))?;
        store::find_in(tx, &authz::webhook_scope(actor), &id)?.ok_or(Error::NotFound)?;
        let args = PageArgs {
            skip_total: !count_total,
            ..page_args(
                first,
                after,
                None,
                None,
                CursorKey::Object(IdKind::WebhookDelivery),
            )?
        };
        let page = store::deliveries_of(tx, &id, status, &args)?;
        Ok(connection(page, |d| d.id.to_string(), WebhookDelivery))
    })
    .await
}

/// One event for one subscription: its id is the `webhook-id` header of
/// every attempt, so a receiver can tell a retry from a new message.
pub struct WebhookDelivery(pub DeliveryRow);

/// One event for one subscription: its id is the `webhook-id` header of
/// every attempt, so a receiver can tell a retry from a new message.
#[Object(serial)]
impl WebhookDelivery {
    /// The delivery's id (`msg_…`), sent as `webhook-id`.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The type of the event delivered.
    async fn event_type(&self) -> EventType {
        self.0.event_type
    }
    /// The event delivered, if the caller may still see it; `null` once it
    /// is older than events are kept.
    async fn event(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Event>> {
        let position = self.0.event_position;
        read(ctx, move |tx, actor| {
            events::find_in(tx, &authz::event_scope(tx, actor)?, position)?
                .map(Event::try_from)
                .transpose()
        })
        .await
    }
    /// Where it stands.
    async fn status(&self) -> WebhookDeliveryStatus {
        self.0.status
    }
    /// How many attempts were recorded (an attempt cut off by a crash of
    /// the server is not; it is made again after the claim runs out).
    async fn attempts(&self) -> i64 {
        self.0.attempts
    }
    /// Its latest attempts (at most 20), oldest first.
    #[graphql(complexity = "crate::graphql::cost::items(20, child_complexity)")]
    async fn attempt_log(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<WebhookAttempt>> {
        let id = self.0.id.clone();
        read(ctx, move |tx, _| {
            Ok(store::attempts_of(tx, &id, ATTEMPTS_SHOWN)?
                .into_iter()
                .map(WebhookAttempt::from)
                .collect())
        })
        .await
    }
    /// When the next attempt is due; `null` once it succeeded or failed.
    async fn next_attempt_at(&self) -> Option<DateTime> {
        self.0.next_attempt_at.map(DateTime)
    }
    /// When it was made, from its event (RFC 3339, UTC).
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }
    /// When it was last attempted.
    async fn last_attempt_at(&self) -> Option<DateTime> {
        self.0.last_attempt_at.map(DateTime)
    }
    /// When the endpoint took it (answered `2xx`).
    async fn delivered_at(&self) -> Option<DateTime> {
        self.0.delivered_at.map(DateTime)
    }
}

/// One attempt at a delivery.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct WebhookAttempt {
    /// Counted from 1.
    pub attempt: i64,
    /// When it was made (RFC 3339, UTC).
    pub at: DateTime,
    /// The endpoint's HTTP status; `null` when it gave none.
    pub status_code: Option<i64>,
    /// Why it failed (the status, a refused address, a timeout, a connection
    /// error); `null` when it succeeded.
    pub error: Option<String>,
    /// How long it took, in milliseconds.
    pub duration_ms: i64,
}

impl From<AttemptRow> for WebhookAttempt {
    fn from(a: AttemptRow) -> Self {
        WebhookAttempt {
            attempt: a.attempt,
            at: DateTime(a.at),
            status_code: a.status_code,
            error: a.error,
            duration_ms: a.duration_ms,
        }
    }
}

/// Webhook subscriptions and deliveries, for partner admins (their
/// partner's) and programme admins (all).
#[derive(Default)]
pub struct WebhookQuery;

#[Object(serial)]
impl WebhookQuery {
    /// The caller's webhook subscriptions (a programme admin: every one), oldest first.
    #[graphql(complexity = "crate::graphql::cost::page(first, None, child_complexity)")]
    async fn webhook_subscriptions(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Returns the items after this cursor (an edge's `cursor` or `pageInfo.endCursor` of this list)."
        )]
        after: Option<String>,
        #[graphql(desc = "Returns at most this many items (0 to 100; 20 when omitted).")]
        first: Option<i32>,
    ) -> async_graphql::Result<Conn<WebhookSubscription>> {
        let count_total = ctx.look_ahead().field("totalCount").exists();
        read(ctx, move |tx, actor| {
            let args = PageArgs {
                skip_total: !count_total,
                ..page_args(
                    first,
                    after,
                    None,
                    None,
                    CursorKey::Object(IdKind::WebhookSubscription),
                )?
            };
            let page = store::page_of(tx, &authz::webhook_scope(actor), &args)?;
            Ok(connection(page, |w| w.id.to_string(), WebhookSubscription))
        })
        .await
    }

    /// One webhook subscription of the caller's.
    async fn webhook_subscription(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The subscription's id (`whk_…`).")] id: ID,
    ) -> async_graphql::Result<Option<WebhookSubscription>> {
        lookup(ctx, move |tx, actor| {
            let id = crate::domain::ids::ObjectId::parse_kind(&id, IdKind::WebhookSubscription)
                .map_err(|e| Error::bad_id(&["id"], e))?;
            store::find_in(tx, &authz::webhook_scope(actor), &id)?
                .map(WebhookSubscription)
                .ok_or(Error::NotFound)
        })
        .await
    }

    /// A subscription's deliveries of the last 30 days, oldest first, with
    /// their attempts and status.
    #[graphql(complexity = "crate::graphql::cost::page(first, None, child_complexity)")]
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The subscription (`whk_…`).")] subscription_id: ID,
        #[graphql(desc = "Only deliveries in this state; every state when omitted.")]
        status: Option<WebhookDeliveryStatus>,
        #[graphql(
            desc = "Returns the items after this cursor (an edge's `cursor` or `pageInfo.endCursor` of this list)."
        )]
        after: Option<String>,
        #[graphql(desc = "Returns at most this many items (0 to 100; 20 when omitted).")]
        first: Option<i32>,
    ) -> async_graphql::Result<Conn<WebhookDelivery>> {
        deliveries(ctx, subscription_id.0, status, after, first).await
    }
}
