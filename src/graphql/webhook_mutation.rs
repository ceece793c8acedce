//! Webhook subscriptions managed: their mutations, inputs and payloads.

use async_graphql::{Context, ID, InputObject, Object};

use super::input::input_id;
use super::webhooks::{WebhookDelivery, WebhookSubscription};
use super::{app, to_gql, write};
use crate::domain::ids::IdKind;
use crate::domain::{EventType, UserErrorCode, validate};
use crate::error::{Error, Result, UserError};
use crate::fields;
use crate::service::webhooks::{self as service, NewSubscription, SubscriptionChanges};
use crate::webhooks::endpoint::{self, Policy};

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
