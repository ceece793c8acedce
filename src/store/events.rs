//! The event outbox: every change written as an event in its own
//! transaction, and the feed that reads them back in commit order, each
//! reader seeing only the events of objects it may see.
//!
//! **Order.** An event's `position` orders the feed. On SQLite the engine
//! assigns it (one more than the largest), and its single writer makes that order the
//! order of the commits: a reader never finds a gap filled in later. (The
//! retention sweep never removes the newest event, so a position once
//! given is never given again.) On
//! PostgreSQL there is no sequence to draw from (Aurora DSQL has none), so
//! the position is made from the clock ([`clock_key`]) when the event is
//! written, and a transaction that began earlier may commit later with a
//! smaller one. The feed therefore reads only below a **horizon**: a
//! position every transaction that may still commit is past. The
//! PostgreSQL engine commits a transaction within two seconds of its first
//! event (`tx::EVENT_COMMIT_WINDOW`; a later attempt is rolled back and run
//! again), so the horizon is the clock less that window and a margin for
//! the commit and clocks apart, five seconds in all (`Db::event_horizon`): a
//! client resuming from its last cursor never misses an event, at the price
//! of reading the PostgreSQL feed that far behind.
//!
//! **Visibility** is judged when the feed is read, by the scope of the
//! object each event names: a request's events by the request scope, a
//! grant's by the agreement scope, usage by the customer and the partner
//! whose usage it is, and so on (ROLE-3, LEDGER-2).

use chrono::{DateTime, Utc};

use super::Tx;
use super::agreements::AgreementScope;
use super::benefits::BenefitScope;
use super::columns::{Instant, instant};
use super::customers::CustomerScope;
use super::pagination::{Filter, Page, PageArgs, page, sequence_key, text};
use super::partners::PartnerScope;
use super::relationships::RelationshipScope;
use super::requests::RequestScope;
pub use super::tx::clock_key;
use crate::domain::EventType;
use crate::domain::ids::ObjectId;
use crate::error::{Error, Result};

/// Counts the writes this process committed, so that the webhook deliverer
/// and live subscriptions look for new events at once rather than on their
/// next tick. (Writes of other processes sharing a PostgreSQL database are
/// found on that tick.)
static COMMITTED: std::sync::LazyLock<tokio::sync::watch::Sender<u64>> =
    std::sync::LazyLock::new(|| tokio::sync::watch::Sender::new(0));

/// Called after each write transaction this process commits.
pub fn committed() {
    COMMITTED.send_modify(|n| *n = n.wrapping_add(1));
}

/// A receiver that wakes after each write this process commits.
pub fn commits() -> tokio::sync::watch::Receiver<u64> {
    COMMITTED.subscribe()
}

/// The version of the envelope and of every type's `data`.
pub const SCHEMA_VERSION: i64 = 1;

/// Whose scope decides who sees an event: the kind of object it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Request,
    Agreement,
    Grant,
    /// Usage of a customer (the object) by a partner (`partner_id`).
    Usage,
    Relationship,
    Benefit,
    /// A partner, as its linked partners see it.
    Partner,
    /// A partner's own affairs (its authorization, its webhooks): the partner
    /// itself (`partner_id`) and programme roles.
    PartnerOwn,
    Customer,
}

impl Visibility {
    pub fn of(kind: EventType) -> Visibility {
        use EventType as E;
        match kind {
            E::AcoRequestSubmitted | E::AcoRequestStatusChanged => Visibility::Request,
            E::AgreementPublished
            | E::AgreementSigned
            | E::AgreementExpired
            | E::AgreementWithdrawn => Visibility::Agreement,
            E::CreditGranted | E::CreditExhausted | E::CreditLapsed | E::CreditReopened => {
                Visibility::Grant
            }
            E::UsageRecorded | E::UsageCorrected => Visibility::Usage,
            E::RelationshipRequested
            | E::RelationshipCreated
            | E::RelationshipAccepted
            | E::RelationshipRevoked => Visibility::Relationship,
            E::BenefitCreditCreated | E::BenefitCreditAssigned | E::BenefitCreditUsed => {
                Visibility::Benefit
            }
            E::PartnerCreated | E::PartnerUpdated => Visibility::Partner,
            E::PartnerAuthorizationChanged | E::WebhookSubscriptionChanged => {
                Visibility::PartnerOwn
            }
            E::CustomerCreated | E::CustomerUpdated => Visibility::Customer,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Visibility::Request => "REQUEST",
            Visibility::Agreement => "AGREEMENT",
            Visibility::Grant => "GRANT",
            Visibility::Usage => "USAGE",
            Visibility::Relationship => "RELATIONSHIP",
            Visibility::Benefit => "BENEFIT",
            Visibility::Partner => "PARTNER",
            Visibility::PartnerOwn => "PARTNER_OWN",
            Visibility::Customer => "CUSTOMER",
        }
    }
}

/// An event to write.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub kind: EventType,
    pub at: DateTime<Utc>,
    /// The role that acted, or `SYSTEM`.
    pub actor_role: &'a str,
    pub actor_subject: &'a str,
    /// The object the event names.
    pub object_id: &'a ObjectId,
    /// The request it concerns, if any (its agreement's and grant's events too).
    pub request_id: Option<&'a ObjectId>,
    /// The partner whose usage, authorization or webhook it is.
    pub partner_id: Option<&'a ObjectId>,
    /// A JSON object, as text.
    pub data: &'a str,
}

/// Writes `event` in the caller's transaction: it commits or rolls back
/// with the change it reports.
pub fn record(tx: &Tx<'_>, event: &NewEvent<'_>) -> Result<()> {
    tx.wrote_event();
    let id = format!("evt_{}", uuid::Uuid::now_v7().simple());
    let visibility = Visibility::of(event.kind).as_str();
    let at = instant(event.at);
    let data = event.data;
    let kind = event.kind.as_str();
    // SQLite assigns a position given as NULL (one more than the largest);
    // PostgreSQL has none to assign, so it is made from the clock.
    let position = tx.is_postgres().then(clock_key);
    tx.exec(
        "INSERT INTO events (position, id, type, schema_version, at, actor_role, actor_subject, \
            visibility, object_id, request_id, partner_id, data) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        &[
            &position,
            &id,
            &kind,
            &SCHEMA_VERSION,
            &at,
            &event.actor_role,
            &event.actor_subject,
            &visibility,
            event.object_id,
            &event.request_id,
            &event.partner_id,
            &data,
        ],
    )?;
    Ok(())
}

/// An event as stored.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub position: i64,
    pub id: String,
    pub kind: EventType,
    pub schema_version: i64,
    pub at: DateTime<Utc>,
    pub actor_role: String,
    pub actor_subject: String,
    pub object_id: String,
    pub request_id: Option<String>,
    pub data: String,
}

impl EventRow {
    /// The envelope a webhook carries and a subscription yields: the same
    /// fields as the API's `Event`, with `data` as JSON.
    pub fn envelope(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "type": self.kind.as_str(),
            "schemaVersion": self.schema_version,
            "timestamp": crate::domain::time::instant_text(self.at),
            "actorRole": self.actor_role,
            "objectId": self.object_id,
            "requestId": self.request_id,
            "data": serde_json::from_str::<serde_json::Value>(&self.data)
                .unwrap_or(serde_json::Value::Null),
        })
    }
}

/// The events a reader may see: everything (programme roles), or those of
/// the objects in its scopes.
#[derive(Debug, Clone)]
pub enum EventScope {
    All,
    Of(Box<Scopes>),
}

/// A reader's scope on each kind of object an event may name.
#[derive(Debug, Clone)]
pub struct Scopes {
    pub requests: RequestScope,
    pub agreements: AgreementScope,
    pub customers: CustomerScope,
    pub partners: PartnerScope,
    pub relationships: RelationshipScope,
    pub benefits: BenefitScope,
    /// The partners whose usage it sees; `None`: every partner's (of the
    /// customers it sees).
    pub usage_of: Option<Vec<ObjectId>>,
    /// The partner whose own affairs it sees, if any.
    pub own_partner: Option<ObjectId>,
}

impl EventScope {
    /// The condition on events (alias `e`).
    fn filter(&self) -> Filter {
        let Self::Of(s) = self else {
            return Filter::new();
        };
        let within = |visibility: Visibility, template: &str, inner: Filter| {
            Filter::new()
                .and(&format!("e.visibility = '{}'", visibility.as_str()), [])
                .and_within(template, &inner)
        };
        let mut any = vec![
            within(
                Visibility::Request,
                "EXISTS (SELECT 1 FROM aco_requests q WHERE q.id = e.object_id AND {})",
                s.requests.filter(),
            ),
            within(
                Visibility::Agreement,
                "EXISTS (SELECT 1 FROM aco_agreements a WHERE a.id = e.object_id AND {})",
                s.agreements.filter("a"),
            ),
            within(
                Visibility::Grant,
                "EXISTS (SELECT 1 FROM credit_grants g WHERE g.id = e.object_id AND {})",
                s.agreements.filter("g"),
            ),
            within(
                Visibility::Relationship,
                "EXISTS (SELECT 1 FROM reseller_relationships r WHERE r.id = e.object_id AND {})",
                s.relationships.filter(),
            ),
            within(
                Visibility::Benefit,
                "EXISTS (SELECT 1 FROM benefit_credits b WHERE b.id = e.object_id AND {})",
                s.benefits.filter(),
            ),
            within(
                Visibility::Partner,
                "EXISTS (SELECT 1 FROM partners p WHERE p.id = e.object_id AND {})",
                s.partners.filter(),
            ),
            within(
                Visibility::Customer,
                "EXISTS (SELECT 1 FROM customers c WHERE c.id = e.object_id AND {})",
                s.customers.filter(),
            ),
        ];
        let mut usage = within(
            Visibility::Usage,
            "EXISTS (SELECT 1 FROM customers c WHERE c.id = e.object_id AND {})",
            s.customers.filter(),
        );
        if let Some(partners) = &s.usage_of {
            usage = usage.and(
                &format!(
                    "e.partner_id IN ({})",
                    vec!["?"; partners.len().max(1)].join(", ")
                ),
                if partners.is_empty() {
                    vec![String::new()]
                } else {
                    partners.iter().map(|p| text(p.as_str())).collect()
                },
            );
        }
        any.push(usage);
        if let Some(own) = &s.own_partner {
            any.push(
                Filter::new()
                    .and(
                        &format!("e.visibility = '{}'", Visibility::PartnerOwn.as_str()),
                        [],
                    )
                    .and("e.partner_id = ?", [text(own.as_str())]),
            );
        }
        Filter::new().or(&any)
    }
}

/// What narrows the feed besides the reader's scope.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Any of these types (none: every type).
    pub types: Vec<EventType>,
    /// Only the events of this request (its agreement's and grant's too).
    pub request: Option<ObjectId>,
    /// Only positions below this one (PostgreSQL's horizon).
    pub below: Option<i64>,
}

/// A position as the feed's cursors carry it: zero-padded text, whose order
/// is the numbers'.
pub fn position_key(position: i64) -> String {
    format!("{position:020}")
}

const COLUMNS: &str = "e.position, e.id, e.type, e.schema_version, e.at, e.actor_role, \
    e.actor_subject, e.object_id, e.request_id, e.data";

fn read(r: &super::Row<'_>) -> Result<EventRow> {
    let kind: String = r.get(2)?;
    Ok(EventRow {
        position: r.get(0)?,
        id: r.get(1)?,
        kind: kind
            .parse()
            .map_err(|e| Error::Internal(format!("an event's type: {e}")))?,
        schema_version: r.get(3)?,
        at: r.get::<Instant>(4)?.0,
        actor_role: r.get(5)?,
        actor_subject: r.get(6)?,
        object_id: r.get(7)?,
        request_id: r.get(8)?,
        data: r.get(9)?,
    })
}

/// The feed's key as its cursors compare it, read through an index: on
/// SQLite the position itself (a zero-padded cursor compares as the number
/// it spells, the column being an integer); on PostgreSQL its zero-padded
/// text, which migration 0003 indexes.
fn key(tx: &Tx<'_>) -> String {
    if tx.is_postgres() {
        sequence_key(tx, "e.position")
    } else {
        "e.position".to_owned()
    }
}

/// A page of the events in `scope` that `filter` lets through, in commit
/// order; its cursors are positions ([`position_key`]).
pub fn page_of(
    tx: &Tx<'_>,
    scope: &EventScope,
    filter: &EventFilter,
    args: &PageArgs,
) -> Result<Page<EventRow>> {
    let key = key(tx);
    let mut sql = scope.filter();
    if !filter.types.is_empty() {
        let mut types: Vec<&str> = filter.types.iter().map(|t| t.as_str()).collect();
        types.sort_unstable();
        types.dedup();
        sql = sql.and(
            &format!("e.type IN ({})", vec!["?"; types.len()].join(", ")),
            types.into_iter().map(text),
        );
    }
    if let Some(request) = &filter.request {
        sql = sql.and("e.request_id = ?", [text(request.as_str())]);
    }
    if let Some(below) = filter.below {
        sql = sql.and(&format!("{key} < ?"), [position_key(below)]);
    }
    page(tx, COLUMNS, "events e", &key, &sql, args, read)
}

/// The position of the newest event (0 when there is none), below `below`
/// when given: where a reader that wants only what comes next starts.
pub fn head(tx: &Tx<'_>, below: Option<i64>) -> Result<i64> {
    let newest: Option<i64> = match below {
        Some(b) => tx.row(
            "SELECT MAX(position) FROM events WHERE position < ?1",
            &[&b],
            |r| r.get(0),
        )?,
        None => tx.row("SELECT MAX(position) FROM events", &[], |r| r.get(0))?,
    }
    .flatten();
    Ok(newest.unwrap_or(0))
}

/// The event at `position`, if it is in `scope`.
pub fn find_in(tx: &Tx<'_>, scope: &EventScope, position: i64) -> Result<Option<EventRow>> {
    let filter = scope.filter();
    let mut params = filter.bound();
    params.push(&position);
    tx.row(
        &format!(
            "SELECT {COLUMNS} FROM events e WHERE {} AND e.position = ?",
            filter.sql()
        ),
        &params,
        read,
    )
}

/// The event at `position`, whoever may see it (the deliverer's read).
pub fn at_position(tx: &Tx<'_>, position: i64) -> Result<Option<EventRow>> {
    tx.row(
        &format!("SELECT {COLUMNS} FROM events e WHERE e.position = ?1"),
        &[&position],
        read,
    )
}

/// Removes up to `limit` of the oldest events written before `before`;
/// returns how many. Positions follow time closely enough for retention,
/// so the scan stops at the first event young enough to keep.
pub fn remove_older(tx: &Tx<'_>, before: DateTime<Utc>, limit: usize) -> Result<usize> {
    // Never the newest: SQLite's next position is one more than it.
    let newest = head(tx, None)?;
    let oldest: Vec<(i64, DateTime<Utc>)> = tx.rows(
        "SELECT position, at FROM events WHERE position < ?2 ORDER BY position LIMIT ?1",
        &[&(limit as i64), &newest],
        |r| Ok((r.get(0)?, r.get::<Instant>(1)?.0)),
    )?;
    let Some(last) = oldest.iter().take_while(|(_, at)| *at < before).last() else {
        return Ok(0);
    };
    let count = oldest.iter().take_while(|(_, at)| *at < before).count();
    let first = oldest[0].0;
    tx.exec(
        "DELETE FROM events WHERE position >= ?1 AND position <= ?2",
        &[&first, &last.0],
    )?;
    Ok(count)
}
