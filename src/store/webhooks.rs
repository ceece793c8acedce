//! Webhook subscriptions, their deliveries and each delivery's attempts.

use chrono::{DateTime, Utc};

use super::Tx;
use super::columns::{Instant, instant};
use super::pagination::{Filter, Page, PageArgs, find_one, page, text};
use crate::domain::ids::ObjectId;
use crate::domain::{EventType, WebhookDeliveryStatus};
use crate::error::{Error, Result};

/// An endpoint and what it is sent.
#[derive(Debug, Clone)]
pub struct SubscriptionRow {
    pub id: ObjectId,
    /// Whose events it is sent; `None`: a programme subscription (every event).
    pub partner_id: Option<ObjectId>,
    pub url: String,
    pub event_types: Vec<EventType>,
    pub description: Option<String>,
    pub enabled: bool,
    pub secret: String,
    /// The secret before the last rotation, still signing until `previous_secret_until`.
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// The position of the last event considered for it.
    pub cursor: i64,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub updated_at: DateTime<Utc>,
}

/// Which subscriptions a caller may see: `authz::webhook_scope`, in SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionScope {
    All,
    OfPartner(ObjectId),
    Nothing,
}

impl SubscriptionScope {
    /// The condition on subscriptions (alias `w`).
    fn filter(&self) -> Filter {
        match self {
            SubscriptionScope::All => Filter::new(),
            SubscriptionScope::OfPartner(id) => {
                Filter::new().and("w.partner_id = ?", [text(id.as_str())])
            }
            SubscriptionScope::Nothing => Filter::new().nothing(),
        }
    }
}

const COLUMNS: &str = "w.id, w.partner_id, w.url, w.event_types, w.description, w.enabled, \
    w.secret, w.previous_secret, w.previous_secret_until, w.cursor, w.version, w.created_at, \
    w.created_by, w.updated_at";

fn types_text(types: &[EventType]) -> String {
    types
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn read(r: &super::Row<'_>) -> Result<SubscriptionRow> {
    let types: String = r.get(3)?;
    Ok(SubscriptionRow {
        id: r.get(0)?,
        partner_id: r.get(1)?,
        url: r.get(2)?,
        event_types: types
            .split_whitespace()
            .map(|t| {
                t.parse()
                    .map_err(|e| Error::Internal(format!("a webhook's event types: {e}")))
            })
            .collect::<Result<_>>()?,
        description: r.get(4)?,
        enabled: r.get::<i64>(5)? != 0,
        secret: r.get(6)?,
        previous_secret: r.get(7)?,
        previous_secret_until: r.get::<Option<Instant>>(8)?.map(|i| i.0),
        cursor: r.get(9)?,
        version: r.get(10)?,
        created_at: r.get::<Instant>(11)?.0,
        created_by: r.get(12)?,
        updated_at: r.get::<Instant>(13)?.0,
    })
}

pub fn insert(tx: &Tx<'_>, w: &SubscriptionRow) -> Result<()> {
    tx.exec(
        "INSERT INTO webhook_subscriptions (id, partner_id, url, event_types, description, \
            enabled, secret, previous_secret, previous_secret_until, cursor, version, created_at, \
            created_by, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        &[
            &w.id,
            &w.partner_id,
            &w.url,
            &types_text(&w.event_types),
            &w.description,
            &i64::from(w.enabled),
            &w.secret,
            &w.previous_secret,
            &w.previous_secret_until.map(instant),
            &w.cursor,
            &w.version,
            &instant(w.created_at),
            &w.created_by,
            &instant(w.updated_at),
        ],
    )?;
    Ok(())
}

/// Saves `w` over the version `seen`; `false` when another change came first.
pub fn update(tx: &Tx<'_>, w: &SubscriptionRow, seen: i64) -> Result<bool> {
    let changed = tx.exec(
        "UPDATE webhook_subscriptions SET url = ?2, event_types = ?3, description = ?4, \
            enabled = ?5, secret = ?6, previous_secret = ?7, previous_secret_until = ?8, \
            version = ?9, updated_at = ?10 \
         WHERE id = ?1 AND version = ?11",
        &[
            &w.id,
            &w.url,
            &types_text(&w.event_types),
            &w.description,
            &i64::from(w.enabled),
            &w.secret,
            &w.previous_secret,
            &w.previous_secret_until.map(instant),
            &w.version,
            &instant(w.updated_at),
            &seen,
        ],
    )?;
    Ok(changed == 1)
}

/// Removes the subscription at version `seen`; `false` when another change
/// came first. Its deliveries stay until they are 30 days old, and are not
/// sent again.
pub fn delete(tx: &Tx<'_>, id: &ObjectId, seen: i64) -> Result<bool> {
    let changed = tx.exec(
        "DELETE FROM webhook_subscriptions WHERE id = ?1 AND version = ?2",
        &[id, &seen],
    )?;
    Ok(changed == 1)
}

/// Moves the subscription's cursor to `position` (the deliverer's, not a
/// change of the subscription: its version stays).
pub fn advance(tx: &Tx<'_>, id: &ObjectId, position: i64) -> Result<()> {
    tx.exec(
        "UPDATE webhook_subscriptions SET cursor = ?2 WHERE id = ?1 AND cursor < ?2",
        &[id, &position],
    )?;
    Ok(())
}

/// The subscription with this id, if it is in `scope`.
pub fn find_in(
    tx: &Tx<'_>,
    scope: &SubscriptionScope,
    id: &ObjectId,
) -> Result<Option<SubscriptionRow>> {
    let filter = scope.filter().and("w.id = ?", [text(id.as_str())]);
    find_one(tx, COLUMNS, "webhook_subscriptions w", &filter, read)
}

/// A page of the subscriptions in `scope`, oldest first.
pub fn page_of(
    tx: &Tx<'_>,
    scope: &SubscriptionScope,
    args: &PageArgs,
) -> Result<Page<SubscriptionRow>> {
    page(
        tx,
        COLUMNS,
        "webhook_subscriptions w",
        "w.id",
        &scope.filter(),
        args,
        read,
    )
}

/// How many subscriptions the partner has (`None`: the programme's).
pub fn count_of(tx: &Tx<'_>, partner: Option<&ObjectId>) -> Result<i64> {
    let count: Option<i64> = match partner {
        Some(p) => tx.row(
            "SELECT COUNT(*) FROM webhook_subscriptions WHERE partner_id = ?1",
            &[p],
            |r| r.get(0),
        )?,
        None => tx.row(
            "SELECT COUNT(*) FROM webhook_subscriptions WHERE partner_id IS NULL",
            &[],
            |r| r.get(0),
        )?,
    };
    Ok(count.unwrap_or(0))
}

/// The enabled subscriptions and their cursors, for the deliverer.
pub fn enabled(tx: &Tx<'_>) -> Result<Vec<(ObjectId, i64)>> {
    tx.rows(
        "SELECT id, cursor FROM webhook_subscriptions WHERE enabled = 1 ORDER BY id",
        &[],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Whether any delivery waits to be sent, now or later.
pub fn any_pending(tx: &Tx<'_>) -> Result<bool> {
    Ok(tx
        .row(
            "SELECT id FROM webhook_deliveries WHERE next_attempt_at IS NOT NULL LIMIT 1",
            &[],
            |r| r.get::<String>(0),
        )?
        .is_some())
}

/// Whether any delivery is due at `now`.
pub fn any_due(tx: &Tx<'_>, now: DateTime<Utc>) -> Result<bool> {
    Ok(tx
        .row(
            "SELECT id FROM webhook_deliveries WHERE next_attempt_at <= ?1 LIMIT 1",
            &[&instant(now)],
            |r| r.get::<String>(0),
        )?
        .is_some())
}

/// One event for one subscription.
#[derive(Debug, Clone)]
pub struct DeliveryRow {
    /// `msg_…`: the `webhook-id` of every attempt.
    pub id: ObjectId,
    pub subscription_id: ObjectId,
    pub event_position: i64,
    pub event_type: EventType,
    pub status: WebhookDeliveryStatus,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// After this instant a failed attempt is the last: the delivery fails.
    pub retry_until: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
}

const DELIVERY_COLUMNS: &str = "d.id, d.subscription_id, d.event_position, d.event_type, d.status, \
    d.attempts, d.next_attempt_at, d.retry_until, d.created_at, d.last_attempt_at, d.delivered_at";

fn read_delivery(r: &super::Row<'_>) -> Result<DeliveryRow> {
    let kind: String = r.get(3)?;
    let status: String = r.get(4)?;
    let bad = |e: crate::domain::UnknownValue| Error::Internal(format!("a webhook delivery: {e}"));
    Ok(DeliveryRow {
        id: r.get(0)?,
        subscription_id: r.get(1)?,
        event_position: r.get(2)?,
        event_type: kind.parse().map_err(bad)?,
        status: status.parse().map_err(bad)?,
        attempts: r.get(5)?,
        next_attempt_at: r.get::<Option<Instant>>(6)?.map(|i| i.0),
        retry_until: r.get::<Instant>(7)?.0,
        created_at: r.get::<Instant>(8)?.0,
        last_attempt_at: r.get::<Option<Instant>>(9)?.map(|i| i.0),
        delivered_at: r.get::<Option<Instant>>(10)?.map(|i| i.0),
    })
}

pub fn insert_delivery(tx: &Tx<'_>, d: &DeliveryRow) -> Result<()> {
    tx.exec(
        "INSERT INTO webhook_deliveries (id, subscription_id, event_position, event_type, status, \
            attempts, next_attempt_at, retry_until, created_at, last_attempt_at, delivered_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        &[
            &d.id,
            &d.subscription_id,
            &d.event_position,
            &d.event_type,
            &d.status,
            &d.attempts,
            &d.next_attempt_at.map(instant),
            &instant(d.retry_until),
            &instant(d.created_at),
            &d.last_attempt_at.map(instant),
            &d.delivered_at.map(instant),
        ],
    )?;
    Ok(())
}

/// Saves what an attempt (or a redelivery) made of the delivery.
pub fn save_delivery(tx: &Tx<'_>, d: &DeliveryRow) -> Result<()> {
    tx.exec(
        "UPDATE webhook_deliveries SET status = ?2, attempts = ?3, next_attempt_at = ?4, \
            retry_until = ?5, last_attempt_at = ?6, delivered_at = ?7 WHERE id = ?1",
        &[
            &d.id,
            &d.status,
            &d.attempts,
            &d.next_attempt_at.map(instant),
            &instant(d.retry_until),
            &d.last_attempt_at.map(instant),
            &d.delivered_at.map(instant),
        ],
    )?;
    Ok(())
}

/// The delivery with this id, if its subscription is in `scope`.
pub fn find_delivery_in(
    tx: &Tx<'_>,
    scope: &SubscriptionScope,
    id: &ObjectId,
) -> Result<Option<DeliveryRow>> {
    let filter = Filter::new()
        .and("d.id = ?", [text(id.as_str())])
        .and_within(
            "EXISTS (SELECT 1 FROM webhook_subscriptions w WHERE w.id = d.subscription_id AND {})",
            &scope.filter(),
        );
    find_one(
        tx,
        DELIVERY_COLUMNS,
        "webhook_deliveries d",
        &filter,
        read_delivery,
    )
}

/// The delivery with this id, whoever owns it (the deliverer's read).
pub fn delivery(tx: &Tx<'_>, id: &ObjectId) -> Result<Option<DeliveryRow>> {
    let filter = Filter::new().and("d.id = ?", [text(id.as_str())]);
    find_one(
        tx,
        DELIVERY_COLUMNS,
        "webhook_deliveries d",
        &filter,
        read_delivery,
    )
}

/// A page of a subscription's deliveries, oldest first, of one status or all.
pub fn deliveries_of(
    tx: &Tx<'_>,
    subscription: &ObjectId,
    status: Option<WebhookDeliveryStatus>,
    args: &PageArgs,
) -> Result<Page<DeliveryRow>> {
    let mut filter = Filter::new().and("d.subscription_id = ?", [text(subscription.as_str())]);
    if let Some(status) = status {
        filter = filter.and("d.status = ?", [text(status.as_str())]);
    }
    page(
        tx,
        DELIVERY_COLUMNS,
        "webhook_deliveries d",
        "d.id",
        &filter,
        args,
        read_delivery,
    )
}

/// Up to `limit` deliveries due at `now` (waiting, or their lease run out),
/// soonest first.
pub fn due(tx: &Tx<'_>, now: DateTime<Utc>, limit: usize) -> Result<Vec<DeliveryRow>> {
    tx.rows(
        &format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d \
             WHERE d.next_attempt_at <= ?1 ORDER BY d.next_attempt_at LIMIT ?2"
        ),
        &[&instant(now), &(limit as i64)],
        read_delivery,
    )
}

/// One attempt at a delivery.
#[derive(Debug, Clone)]
pub struct AttemptRow {
    pub delivery_id: ObjectId,
    pub attempt: i64,
    pub at: DateTime<Utc>,
    /// The endpoint's answer, if it gave one.
    pub status_code: Option<i64>,
    /// Why the attempt failed, when it did.
    pub error: Option<String>,
    pub duration_ms: i64,
}

pub fn insert_attempt(tx: &Tx<'_>, a: &AttemptRow) -> Result<()> {
    tx.exec(
        "INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, error, duration_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &[
            &a.delivery_id,
            &a.attempt,
            &instant(a.at),
            &a.status_code,
            &a.error,
            &a.duration_ms,
        ],
    )?;
    Ok(())
}

/// A delivery's attempts, first first (at most `limit`, the latest kept).
pub fn attempts_of(tx: &Tx<'_>, delivery: &ObjectId, limit: usize) -> Result<Vec<AttemptRow>> {
    let mut rows = tx.rows(
        "SELECT delivery_id, attempt, at, status_code, error, duration_ms FROM webhook_attempts \
         WHERE delivery_id = ?1 ORDER BY attempt DESC LIMIT ?2",
        &[delivery, &(limit as i64)],
        |r| {
            Ok(AttemptRow {
                delivery_id: r.get(0)?,
                attempt: r.get(1)?,
                at: r.get::<Instant>(2)?.0,
                status_code: r.get(3)?,
                error: r.get(4)?,
                duration_ms: r.get(5)?,
            })
        },
    )?;
    rows.reverse();
    Ok(rows)
}

/// Removes up to `limit` of the oldest deliveries created before `before`,
/// with their attempts; returns how many. Ids are in creation order, so the
/// scan stops at the first delivery young enough to keep.
pub fn remove_older(tx: &Tx<'_>, before: DateTime<Utc>, limit: usize) -> Result<usize> {
    let oldest: Vec<(ObjectId, DateTime<Utc>)> = tx.rows(
        "SELECT id, created_at FROM webhook_deliveries ORDER BY id LIMIT ?1",
        &[&(limit as i64)],
        |r| Ok((r.get(0)?, r.get::<Instant>(1)?.0)),
    )?;
    let old: Vec<&ObjectId> = oldest
        .iter()
        .take_while(|(_, at)| *at < before)
        .map(|(id, _)| id)
        .collect();
    for id in &old {
        tx.exec(
            "DELETE FROM webhook_attempts WHERE delivery_id = ?1",
            &[*id],
        )?;
        tx.exec("DELETE FROM webhook_deliveries WHERE id = ?1", &[*id])?;
    }
    Ok(old.len())
}
