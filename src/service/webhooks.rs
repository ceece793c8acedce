//! Webhook subscriptions: a partner admin (or a programme admin, for every
//! event) registers an endpoint and the event types it wants; the deliverer
//! (`crate::webhooks::deliver`) sends it each such event its owner may see.
//! Every change to a subscription is in its history, and is an event of its
//! owner's.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::Call;
use crate::authz::{self, Permission};
use crate::domain::ids::{IdKind, ObjectId};
use crate::domain::{EventType, Role, UserErrorCode, WebhookDeliveryStatus};
use crate::error::{Error, Result, UserError};
use crate::fields;
use crate::store::webhooks::{self, DeliveryRow, SubscriptionRow};
use crate::store::{Tx, audit, events};
use crate::webhooks::deliver::RETRY_HOURS;
use crate::webhooks::signature::Secret;

pub const MANAGE: Permission = Permission {
    roles: &[Role::PartnerAdmin, Role::ProgramAdmin],
    action: "manage webhook subscriptions",
};

/// How many subscriptions a partner (or the programme) may have.
pub const MAX_SUBSCRIPTIONS: i64 = 10;

/// How long the secret before a rotation keeps signing beside the new one.
pub const ROTATION_OVERLAP_HOURS: i64 = 24;

/// A subscription to create; its URL already checked (`webhooks::endpoint`).
#[derive(Debug, Clone)]
pub struct NewSubscription {
    pub url: String,
    pub event_types: Vec<EventType>,
    pub description: Option<String>,
    pub enabled: bool,
}

/// The endpoint as its history and events record it: scheme and host (and
/// port), never the path or query, which may carry a token.
fn endpoint_of(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            format!("{scheme}://{host}")
        }
        None => String::new(),
    }
}

fn recorded(w: &SubscriptionRow) -> serde_json::Value {
    json!({
        "partnerId": w.partner_id.as_ref().map(|p| p.as_str()),
        "endpoint": endpoint_of(&w.url),
        "eventTypes": w.event_types.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        "enabled": w.enabled,
    })
}

/// Registers an endpoint for the caller's partner (a programme admin's: for
/// every event). Its secret is in the row, to be shown once.
pub fn create(tx: &Tx<'_>, call: &Call, new: NewSubscription) -> Result<SubscriptionRow> {
    authz::require(&call.actor, &MANAGE)?;
    let owner = call.actor.partner_id().cloned();
    // Two creations at once conflict on the partner's row (PostgreSQL), so
    // that both cannot count nine and make eleven.
    if let Some(partner) = &owner {
        crate::store::partners::claim(tx, partner)?;
    }
    if webhooks::count_of(tx, owner.as_ref())? >= MAX_SUBSCRIPTIONS {
        return Err(Error::rejected(UserError::new(
            UserErrorCode::WebhookLimitReached,
            format!(
                "there are already {MAX_SUBSCRIPTIONS} webhook subscriptions; delete one first"
            ),
        )));
    }
    let row = SubscriptionRow {
        id: ObjectId::generate(IdKind::WebhookSubscription),
        partner_id: owner,
        url: new.url,
        event_types: new.event_types,
        description: new.description,
        enabled: new.enabled,
        secret: Secret::generate().as_str().to_owned(),
        previous_secret: None,
        previous_secret_until: None,
        // From the newest event on: an endpoint is sent what happens after
        // it was registered.
        cursor: events::head(tx, None)?,
        version: 1,
        created_at: call.now,
        created_by: call.actor.subject.clone(),
        updated_at: call.now,
    };
    webhooks::insert(tx, &row)?;
    audit::record(
        tx,
        &call.actor,
        &row.id,
        "WEBHOOK_SUBSCRIPTION_CREATED",
        recorded(&row),
        call.now,
    )?;
    Ok(row)
}

/// What an update changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct SubscriptionChanges {
    pub url: Option<String>,
    pub event_types: Option<Vec<EventType>>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
}

/// Loads the subscription as the caller sees it and checks the version it saw.
fn load(tx: &Tx<'_>, call: &Call, id: &ObjectId, version: i64) -> Result<SubscriptionRow> {
    authz::require(&call.actor, &MANAGE)?;
    let row =
        webhooks::find_in(tx, &authz::webhook_scope(&call.actor), id)?.ok_or(Error::NotFound)?;
    if row.version != version {
        return Err(conflict(row.version));
    }
    Ok(row)
}

fn conflict(version: i64) -> Error {
    Error::rejected(
        UserError::new(
            UserErrorCode::Conflict,
            format!(
                "the subscription changed meanwhile (it is at version {version}); read it again"
            ),
        )
        .at(fields::WEBHOOK_VERSION),
    )
}

fn save(
    tx: &Tx<'_>,
    call: &Call,
    mut row: SubscriptionRow,
    action: &str,
) -> Result<SubscriptionRow> {
    let seen = row.version;
    row.version += 1;
    row.updated_at = call.now;
    if !webhooks::update(tx, &row, seen)? {
        return Err(conflict(seen));
    }
    audit::record(tx, &call.actor, &row.id, action, recorded(&row), call.now)?;
    Ok(row)
}

pub fn update(
    tx: &Tx<'_>,
    call: &Call,
    id: &ObjectId,
    version: i64,
    changes: SubscriptionChanges,
) -> Result<SubscriptionRow> {
    let mut row = load(tx, call, id, version)?;
    if let Some(url) = changes.url {
        row.url = url;
    }
    if let Some(types) = changes.event_types {
        row.event_types = types;
    }
    if let Some(description) = changes.description {
        row.description = description;
    }
    if let Some(enabled) = changes.enabled {
        row.enabled = enabled;
    }
    save(tx, call, row, "WEBHOOK_SUBSCRIPTION_UPDATED")
}

/// Deletes the subscription: nothing more is sent to it.
pub fn delete(tx: &Tx<'_>, call: &Call, id: &ObjectId, version: i64) -> Result<ObjectId> {
    let row = load(tx, call, id, version)?;
    if !webhooks::delete(tx, &row.id, version)? {
        return Err(conflict(version));
    }
    audit::record(
        tx,
        &call.actor,
        &row.id,
        "WEBHOOK_SUBSCRIPTION_DELETED",
        recorded(&row),
        call.now,
    )?;
    Ok(row.id)
}

/// A new secret; the one before keeps signing beside it for 24 hours, so
/// that the receiver can move over without missing a delivery.
pub fn rotate(tx: &Tx<'_>, call: &Call, id: &ObjectId, version: i64) -> Result<SubscriptionRow> {
    let mut row = load(tx, call, id, version)?;
    let fresh = Secret::generate().as_str().to_owned();
    row.previous_secret = Some(std::mem::replace(&mut row.secret, fresh));
    row.previous_secret_until = Some(call.now + Duration::hours(ROTATION_OVERLAP_HOURS));
    save(tx, call, row, "WEBHOOK_SECRET_ROTATED")
}

/// Sends a delivery again, whatever became of it: at once, with the same
/// `webhook-id`, and retried for another 24 hours if it fails.
pub fn redeliver(
    tx: &Tx<'_>,
    call: &Call,
    id: &ObjectId,
    now: DateTime<Utc>,
) -> Result<DeliveryRow> {
    authz::require(&call.actor, &MANAGE)?;
    let mut row = webhooks::find_delivery_in(tx, &authz::webhook_scope(&call.actor), id)?
        .ok_or(Error::NotFound)?;
    if events::at_position(tx, row.event_position)?.is_none() {
        return Err(Error::rejected(UserError::new(
            UserErrorCode::EventNoLongerKept,
            "the delivery's event is older than events are kept; it cannot be sent again",
        )));
    }
    row.status = WebhookDeliveryStatus::Pending;
    row.next_attempt_at = Some(now);
    row.retry_until = now + Duration::hours(RETRY_HOURS);
    webhooks::save_delivery(tx, &row)?;
    Ok(row)
}
