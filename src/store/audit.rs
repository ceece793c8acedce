//! The append-only change log: who changed what, when.

use super::Tx;
use super::columns::{Instant, instant};
use super::events::{self, Visibility};
use super::pagination::{Filter, Page, PageArgs, page, sequence_key, text};
use crate::domain::EventType;
use crate::domain::actor::Actor;
use crate::domain::ids::ObjectId;
use crate::error::{Error, Result};
use chrono::{DateTime, Utc};

/// One entry of an object's history.
#[derive(Debug, Clone)]
pub struct ChangeRow {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_subject: String,
    pub actor_name: Option<String>,
    pub actor_role: String,
    pub action: String,
    pub detail: String,
}

/// Appends a change to `entity`'s history, and writes the event it is
/// (`EventType::of_change`) in the same transaction.
pub fn record(
    tx: &Tx<'_>,
    actor: &Actor,
    entity: &ObjectId,
    action: &str,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<()> {
    let id = tx.history_id("change_log", "entity_id", entity)?;
    let text = detail.to_string();
    tx.exec(
        "INSERT INTO change_log (id, entity_id, at, actor_subject, actor_name, actor_role, action, \
            detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        &[
            &id,
            entity,
            &instant(now),
            &actor.subject,
            &actor.name,
            &actor.recorded_role(),
            &action,
            &text,
        ],
    )?;
    let kind = EventType::of_change(action)
        .ok_or_else(|| Error::Internal(format!("the change {action} has no event type")))?;
    // Usage is the partner's whose figures they are; a partner's own affairs
    // are its own (a webhook's, its owner's).
    let partner = match Visibility::of(kind) {
        Visibility::Usage | Visibility::PartnerOwn => detail
            .get("partnerId")
            .and_then(|p| p.as_str())
            .map(|p| ObjectId::from_trusted(p.to_owned()))
            .or_else(|| entity.as_str().starts_with("prt_").then(|| entity.clone())),
        _ => None,
    };
    events::record(
        tx,
        &events::NewEvent {
            kind,
            at: now,
            actor_role: actor.recorded_role(),
            actor_subject: &actor.subject,
            object_id: entity,
            request_id: None,
            partner_id: partner.as_ref(),
            data: &text,
        },
    )
}

/// A page of `entity`'s history, oldest first. Entries are paged by their
/// sequence number, carried in the cursor as text.
pub fn history(tx: &Tx<'_>, entity: &ObjectId, args: &PageArgs) -> Result<Page<ChangeRow>> {
    let filter = Filter::new().and("entity_id = ?", [text(entity.as_str())]);
    page(
        tx,
        "id, at, actor_subject, actor_name, actor_role, action, detail",
        "change_log",
        &sequence_key(tx, "id"),
        &filter,
        args,
        |r| {
            Ok(ChangeRow {
                seq: r.get(0)?,
                at: r.get::<Instant>(1)?.0,
                actor_subject: r.get(2)?,
                actor_name: r.get(3)?,
                actor_role: r.get(4)?,
                action: r.get(5)?,
                detail: r.get(6)?,
            })
        },
    )
}
