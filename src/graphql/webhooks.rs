//! Webhook subscriptions and their deliveries (Standard Webhooks).

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::connection::{Conn, CursorKey, connection, page_args};
use super::events::Event;
use super::input::input_id;
use super::scalars::DateTime;
use super::types::Partner;
use super::{app, lookup, read, to_gql, write};
use crate::authz;
use crate::domain::ids::IdKind;
use crate::domain::{EventType, UserErrorCode, WebhookDeliveryStatus, validate};
use crate::error::{Error, Result, UserError};
use crate::fields;
use crate::service::webhooks::{self as service, NewSubscription, SubscriptionChanges};
use crate::store::events;
use crate::store::pagination::PageArgs;
use crate::store::webhooks::{self as store, AttemptRow, DeliveryRow, SubscriptionRow};
use crate::webhooks::endpoint::{self, Policy};

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

/// A new webhook subscription.
#[derive(InputObject)]
pub struct CreateWebhookSubscriptionInput {
    /// The endpoint: `https` (plain `http` only in dev mode), a host that is
    /// and resolves to public addresses only, at most 2,048 bytes.
    pub url: String,
    /// The event types to send it (at least one).
    pub event_types: Vec<EventType>,
    /// What it is for (at most 256 characters).
    pub description: Option<String>,
    /// `false` to create it paused.
    #[graphql(default = true)]
    pub enabled: bool,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

/// A change to a webhook subscription; what is left out stays as it is.
#[derive(InputObject)]
pub struct UpdateWebhookSubscriptionInput {
    /// The subscription (`whk_…`).
    pub id: ID,
    /// The version read (`WebhookSubscription.version`); another is a `CONFLICT`.
    pub version: i32,
    /// A new endpoint, checked as on creation.
    pub url: Option<String>,
    /// The event types to send it from now on (at least one).
    pub event_types: Option<Vec<EventType>>,
    /// A new description; an empty text clears it.
    pub description: Option<String>,
    /// `false` pauses it, `true` resumes it.
    pub enabled: Option<bool>,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

/// A webhook subscription to delete, at the version read.
#[derive(InputObject)]
pub struct DeleteWebhookSubscriptionInput {
    /// The subscription (`whk_…`).
    pub id: ID,
    /// The version read (`WebhookSubscription.version`); another is a `CONFLICT`.
    pub version: i32,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

/// A webhook subscription to give a new secret, at the version read.
#[derive(InputObject)]
pub struct RotateWebhookSecretInput {
    /// The subscription (`whk_…`).
    pub id: ID,
    /// The version read (`WebhookSubscription.version`); another is a `CONFLICT`.
    pub version: i32,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

/// A delivery to send again.
#[derive(InputObject)]
pub struct RedeliverWebhookDeliveryInput {
    /// The delivery (`msg_…`).
    pub id: ID,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

crate::graphql::mutation::payloads! {
    {
        /// The subscription as it is now; `null` when the change was refused.
        webhook_subscription: WebhookSubscription,
        /// The signing secret (`whsec_…`), shown this once: keep it to verify
        /// the `webhook-signature` of each delivery.
        secret: String,
    }
    /// The result of `createWebhookSubscription`.
    CreateWebhookSubscriptionPayload,
    /// The result of `rotateWebhookSecret`: the new secret; the one before
    /// signs beside it for 24 hours.
    RotateWebhookSecretPayload,
}

crate::graphql::mutation::payloads! {
    {
        /// The subscription as it is now; `null` when the change was refused.
        webhook_subscription: WebhookSubscription,
    }
    /// The result of `updateWebhookSubscription`.
    UpdateWebhookSubscriptionPayload,
}

crate::graphql::mutation::payloads! {
    {
        /// The id of the subscription deleted; `null` when the change was refused.
        deleted_webhook_subscription_id: ID,
    }
    /// The result of `deleteWebhookSubscription`.
    DeleteWebhookSubscriptionPayload,
}

crate::graphql::mutation::payloads! {
    {
        /// The delivery, due at once; `null` when the change was refused.
        webhook_delivery: WebhookDelivery,
    }
    /// The result of `redeliverWebhookDelivery`.
    RedeliverWebhookDeliveryPayload,
}

/// The endpoint, if it may be sent to: its URL, and every address its host
/// resolves to now (it is checked again at each delivery).
async fn endpoint_refusal(url: &str, policy: &Policy) -> Option<UserError> {
    let refused = |message: String| {
        Some(UserError::new(UserErrorCode::WebhookEndpointRefused, message).at(fields::WEBHOOK_URL))
    };
    let uri = match endpoint::check_url(url, policy) {
        Ok(uri) => uri,
        Err(e) => return refused(e.to_string()),
    };
    match endpoint::resolve(&uri, policy).await {
        Ok(_) => None,
        Err(e) => refused(e.to_string()),
    }
}

fn event_types(types: Vec<EventType>, field: &str) -> Result<Vec<EventType>> {
    let mut types = types;
    types.sort_unstable_by_key(|t| t.as_str());
    types.dedup();
    if types.is_empty() {
        return Err(Error::bad_input(
            &["input", field],
            "name at least one event type",
        ));
    }
    Ok(types)
}

fn description(text: Option<String>) -> Result<Option<String>> {
    match text {
        Some(t) if !t.trim().is_empty() => validate::text(&t).map(Some).ok_or_else(|| {
            Error::bad_input(
                &["input", "description"],
                "`description` is text of at most 256 characters",
            )
        }),
        _ => Ok(None),
    }
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object(serial)]
impl WebhookMutation {
    /// Partner admin (its partner's events) or programme admin (every event):
    /// registers an endpoint. The answer carries its signing secret, shown once.
    async fn create_webhook_subscription(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint and the event types to send it.")]
        input: CreateWebhookSubscriptionInput,
    ) -> async_graphql::Result<CreateWebhookSubscriptionPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let parsed = (|| -> Result<_> {
            Ok((
                event_types(input.event_types, "eventTypes")?,
                description(input.description)?,
            ))
        })();
        let (types, description) = parsed.map_err(|e| to_gql(ctx, e))?;
        let policy = Policy {
            dev: app(ctx).config.dev,
        };
        if let Some(refusal) = endpoint_refusal(&input.url, &policy).await {
            return Ok(CreateWebhookSubscriptionPayload::of(
                Err(vec![refusal]),
                client_mutation_id,
            ));
        }
        let new = NewSubscription {
            url: input.url,
            event_types: types,
            description,
            enabled: input.enabled,
        };
        let outcome = write(ctx, move |tx, call| service::create(tx, call, new)).await?;
        crate::webhooks::deliver::subscriptions_changed();
        Ok(CreateWebhookSubscriptionPayload::of(
            outcome.map(|row| {
                let secret = row.secret.clone();
                (WebhookSubscription(row), secret)
            }),
            client_mutation_id,
        ))
    }

    /// Changes a subscription's endpoint, event types, description, or pauses
    /// or resumes it.
    async fn update_webhook_subscription(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The subscription, the version read, and what to change.")]
        input: UpdateWebhookSubscriptionInput,
    ) -> async_graphql::Result<UpdateWebhookSubscriptionPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let parsed = (|| -> Result<_> {
            Ok((
                input_id(&input.id, "id", IdKind::WebhookSubscription)?,
                input
                    .event_types
                    .map(|t| event_types(t, "eventTypes"))
                    .transpose()?,
                input
                    .description
                    .map(|d| description(Some(d)))
                    .transpose()?,
            ))
        })();
        let (id, types, description) = parsed.map_err(|e| to_gql(ctx, e))?;
        if let Some(url) = &input.url {
            let policy = Policy {
                dev: app(ctx).config.dev,
            };
            if let Some(refusal) = endpoint_refusal(url, &policy).await {
                return Ok(UpdateWebhookSubscriptionPayload::of(
                    Err(vec![refusal]),
                    client_mutation_id,
                ));
            }
        }
        let changes = SubscriptionChanges {
            url: input.url,
            event_types: types,
            description,
            enabled: input.enabled,
        };
        let version = i64::from(input.version);
        let outcome = write(ctx, move |tx, call| {
            service::update(tx, call, &id, version, changes)
        })
        .await?;
        crate::webhooks::deliver::subscriptions_changed();
        Ok(UpdateWebhookSubscriptionPayload::of(
            outcome.map(WebhookSubscription),
            client_mutation_id,
        ))
    }

    /// Deletes a subscription: nothing more is sent to it.
    async fn delete_webhook_subscription(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The subscription and the version read.")]
        input: DeleteWebhookSubscriptionInput,
    ) -> async_graphql::Result<DeleteWebhookSubscriptionPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let id =
            input_id(&input.id, "id", IdKind::WebhookSubscription).map_err(|e| to_gql(ctx, e))?;
        let version = i64::from(input.version);
        let outcome = write(ctx, move |tx, call| service::delete(tx, call, &id, version)).await?;
        Ok(DeleteWebhookSubscriptionPayload::of(
            outcome.map(|id| ID(id.to_string())),
            client_mutation_id,
        ))
    }

    /// Gives a subscription a new signing secret, shown once; for 24 hours
    /// deliveries are signed with both, so the receiver can move over.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The subscription and the version read.")] input: RotateWebhookSecretInput,
    ) -> async_graphql::Result<RotateWebhookSecretPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let id =
            input_id(&input.id, "id", IdKind::WebhookSubscription).map_err(|e| to_gql(ctx, e))?;
        let version = i64::from(input.version);
        let outcome = write(ctx, move |tx, call| service::rotate(tx, call, &id, version)).await?;
        Ok(RotateWebhookSecretPayload::of(
            outcome.map(|row| {
                let secret = row.secret.clone();
                (WebhookSubscription(row), secret)
            }),
            client_mutation_id,
        ))
    }

    /// Sends a delivery again at once (with the same `webhook-id`), whatever
    /// became of it; it is retried for another 24 hours if it fails.
    async fn redeliver_webhook_delivery(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery.")] input: RedeliverWebhookDeliveryInput,
    ) -> async_graphql::Result<RedeliverWebhookDeliveryPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let id = input_id(&input.id, "id", IdKind::WebhookDelivery).map_err(|e| to_gql(ctx, e))?;
        let outcome = write(ctx, move |tx, call| {
            service::redeliver(tx, call, &id, chrono::Utc::now())
        })
        .await?;
        crate::webhooks::deliver::subscriptions_changed();
        Ok(RedeliverWebhookDeliveryPayload::of(
            outcome.map(WebhookDelivery),
            client_mutation_id,
        ))
    }
}
