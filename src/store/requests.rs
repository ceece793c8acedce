//! ACO requests and their append-only history (§5, FLOW-17).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::columns::{Date, Instant, Money, instant};
use super::pagination::{Filter, Page, PageArgs, find_one, page, sequence_key, text};
use super::{Param, Row, Tx};
use crate::domain::ids::ObjectId;
use crate::domain::{AcoRequestStatus, AcoScenario};
use crate::error::Result;

/// A stored ACO request.
#[derive(Debug, Clone)]
pub struct AcoRequestRow {
    pub id: ObjectId,
    pub customer_id: ObjectId,
    pub partner_id: ObjectId,
    pub indirect_provider_id: Option<ObjectId>,
    pub status: AcoRequestStatus,
    pub scenario: AcoScenario,
    pub workloads: Vec<String>,
    pub timeline_start: NaiveDate,
    pub timeline_end: NaiveDate,
    pub estimated_acr: Decimal,
    pub aco_amount: Decimal,
    pub channel_sales_manager: Option<String>,
    pub info_requested_from: Option<AcoRequestStatus>,
    pub info_requested_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
    pub stage_entered_at: DateTime<Utc>,
    pub due_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub submitted_at: DateTime<Utc>,
    pub submitted_by: String,
    pub updated_at: DateTime<Utc>,
    /// The newest history entry's sequence number, as read (the database
    /// keeps it as entries are appended; `None` in a row not read back).
    pub last_history_id: Option<i64>,
}

const COLUMNS: &str = "q.id, q.customer_id, q.partner_id, q.indirect_provider_id, q.status, q.scenario, \
    q.workloads, q.timeline_start, q.timeline_end, q.estimated_acr, q.aco_amount, q.channel_sales_manager, \
    q.info_requested_from, q.info_requested_at, q.decision_reason, q.stage_entered_at, q.due_at, q.version, \
    q.submitted_at, q.submitted_by, q.updated_at, q.last_history_id";

fn map(r: &Row<'_>) -> Result<AcoRequestRow> {
    let workloads: String = r.get(6)?;
    Ok(AcoRequestRow {
        id: r.get(0)?,
        customer_id: r.get(1)?,
        partner_id: r.get(2)?,
        indirect_provider_id: r.get(3)?,
        status: r.get(4)?,
        scenario: r.get(5)?,
        workloads: serde_json::from_str(&workloads).map_err(|e| {
            crate::error::Error::Internal(format!("a request's stored workloads: {e}"))
        })?,
        timeline_start: r.get::<Date>(7)?.0,
        timeline_end: r.get::<Date>(8)?.0,
        estimated_acr: r.get::<Money>(9)?.0,
        aco_amount: r.get::<Money>(10)?.0,
        channel_sales_manager: r.get(11)?,
        info_requested_from: r.get(12)?,
        info_requested_at: r.get::<Option<Instant>>(13)?.map(|i| i.0),
        decision_reason: r.get(14)?,
        stage_entered_at: r.get::<Instant>(15)?.0,
        due_at: r.get::<Option<Instant>>(16)?.map(|i| i.0),
        version: r.get(17)?,
        submitted_at: r.get::<Instant>(18)?.0,
        submitted_by: r.get(19)?,
        updated_at: r.get::<Instant>(20)?.0,
        last_history_id: r.get(21)?,
    })
}

/// What a list page reads of each request when its selection needs nothing
/// else: the ids it nests, its state and its service-level clock.
#[derive(Debug, Clone)]
pub struct AcoRequestBrief {
    pub id: ObjectId,
    pub customer_id: ObjectId,
    pub partner_id: ObjectId,
    pub indirect_provider_id: Option<ObjectId>,
    pub status: AcoRequestStatus,
    pub info_requested_from: Option<AcoRequestStatus>,
    pub due_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub last_history_id: Option<i64>,
}

/// The sort expressions of the orders a list of requests can take (alias
/// `q`), each served by an index of migration 0008 with the id after it.
/// (Submission order is the ids' own: a request's id is made, time-ordered,
/// when it is submitted.)
pub const BY_UPDATE: &str = "q.updated_at";
/// The due date as the API shows it (none while the clock is stopped in
/// `NEEDS_INFO`, none once finished); requests without one after every due date.
pub const BY_DUE: &str = "CASE WHEN q.due_at IS NULL OR q.status = 'NEEDS_INFO' \
    THEN '9999-12-31T23:59:59.999999Z' ELSE q.due_at END";
/// What [`BY_DUE`] reads for a request without a due date.
pub const NEVER_DUE: &str = "9999-12-31T23:59:59.999999Z";

/// Whether a page in the order of `by` needs the whole rows for its
/// cursors: the brief does not hold the instant of the last change.
pub fn order_needs_whole_rows(by: Option<&str>) -> bool {
    by == Some(BY_UPDATE)
}

impl AcoRequestBrief {
    /// The value of a sort expression of this module for this request, as
    /// its cursor carries it; `whole` is its row, for the orders that need it.
    pub fn sort_value(&self, by: &str, whole: Option<&AcoRequestRow>) -> String {
        use crate::domain::time::instant_text;
        match (by, whole) {
            (BY_UPDATE, Some(row)) => instant_text(row.updated_at),
            (BY_DUE, _) => self
                .due_at
                .filter(|_| self.status != AcoRequestStatus::NeedsInfo)
                .map_or_else(|| NEVER_DUE.to_owned(), instant_text),
            _ => String::new(),
        }
    }

    /// The brief of a whole row.
    pub fn of(row: &AcoRequestRow) -> AcoRequestBrief {
        AcoRequestBrief {
            id: row.id.clone(),
            customer_id: row.customer_id.clone(),
            partner_id: row.partner_id.clone(),
            indirect_provider_id: row.indirect_provider_id.clone(),
            status: row.status,
            info_requested_from: row.info_requested_from,
            due_at: row.due_at,
            version: row.version,
            last_history_id: row.last_history_id,
        }
    }
}

/// A form a page reads requests in: the whole row or its brief.
pub trait RequestForm: Sized {
    /// The columns it reads (alias `q`).
    const COLUMNS: &'static str;
    fn map(r: &Row<'_>) -> Result<Self>;
}

impl RequestForm for AcoRequestRow {
    const COLUMNS: &'static str = COLUMNS;
    fn map(r: &Row<'_>) -> Result<Self> {
        map(r)
    }
}

impl RequestForm for AcoRequestBrief {
    const COLUMNS: &'static str = "q.id, q.customer_id, q.partner_id, q.indirect_provider_id, \
        q.status, q.info_requested_from, q.due_at, q.version, q.last_history_id";
    fn map(r: &Row<'_>) -> Result<Self> {
        Ok(AcoRequestBrief {
            id: r.get(0)?,
            customer_id: r.get(1)?,
            partner_id: r.get(2)?,
            indirect_provider_id: r.get(3)?,
            status: r.get(4)?,
            info_requested_from: r.get(5)?,
            due_at: r.get::<Option<Instant>>(6)?.map(|i| i.0),
            version: r.get(7)?,
            last_history_id: r.get(8)?,
        })
    }
}

/// Which requests a caller may see: what `authz::request_scope` decides,
/// turned into SQL here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestScope {
    All,
    /// A partner's own requests, and those of the resellers it is the
    /// indirect provider of.
    PartnerAndResellers(ObjectId),
    Nothing,
}

impl RequestScope {
    /// The condition on requests (alias `q`).
    pub(crate) fn filter(&self) -> Filter {
        match self {
            RequestScope::All => Filter::new(),
            RequestScope::PartnerAndResellers(id) => Filter::new().and(
                "q.partner_id = ? OR q.partner_id IN (SELECT reseller_id FROM indirect_links WHERE provider_id = ?)",
                [text(id.as_str()), text(id.as_str())],
            ),
            RequestScope::Nothing => Filter::new().nothing(),
        }
    }
}

/// What narrows a list of requests besides its scope.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub customer: Option<ObjectId>,
    pub partner: Option<ObjectId>,
    /// Any of these states (none: every state).
    pub statuses: Vec<AcoRequestStatus>,
    /// Only the requests overdue at the instant (`true`), or only those not
    /// (`false`): FLOW-19.
    pub overdue: Option<(bool, DateTime<Utc>)>,
}

/// The request with this id, if it is in `scope`.
pub fn find_in(tx: &Tx<'_>, scope: &RequestScope, id: &ObjectId) -> Result<Option<AcoRequestRow>> {
    find(tx, &scope.filter().and("q.id = ?", [text(id.as_str())]))
}

/// A page of the requests in `scope` that `filter` lets through, oldest
/// first, read through the index that serves it: the open requests' index
/// for the overdue list alone, the `(status, id)` index per state asked for,
/// else the primary key.
pub fn page_of<R: RequestForm>(
    tx: &Tx<'_>,
    scope: &RequestScope,
    filter: &RequestFilter,
    args: &PageArgs,
) -> Result<Page<R>> {
    let mut sql = scope.filter();
    if let Some(c) = &filter.customer {
        sql = sql.and("q.customer_id = ?", [text(c.as_str())]);
    }
    if let Some(p) = &filter.partner {
        sql = sql.and("q.partner_id = ?", [text(p.as_str())]);
    }
    let mut statuses = filter.statuses.clone();
    statuses.sort_unstable_by_key(|s| s.as_str());
    statuses.dedup();
    // Nothing but the overdue condition narrows the list: the open-requests
    // index (migration 0003, whose WHERE that condition repeats) serves it.
    let only_overdue =
        matches!(filter.overdue, Some((true, _))) && statuses.is_empty() && sql.is_empty();
    if let Some((overdue, at)) = filter.overdue {
        let condition = format!("{CLOCK_RUNNING} AND q.due_at <= ?");
        let at = text(crate::domain::time::instant_text(at));
        sql = if overdue {
            sql.and(&condition, [at])
        } else {
            sql.and(&format!("NOT ({condition})"), [at])
        };
    }
    if only_overdue && args.order.by.is_none() {
        list_open(tx, &sql, args)
    } else if statuses.is_empty() {
        list(tx, &sql, args)
    } else {
        list_in_states(tx, &sql, &statuses, args)
    }
}

/// The first request `filter` lets through (column alias `q`).
fn find(tx: &Tx<'_>, filter: &Filter) -> Result<Option<AcoRequestRow>> {
    find_one(tx, COLUMNS, "aco_requests q", filter, map)
}

/// A page of the requests `filter` lets through (column alias `q`).
fn list<R: RequestForm>(tx: &Tx<'_>, filter: &Filter, args: &PageArgs) -> Result<Page<R>> {
    page(
        tx,
        R::COLUMNS,
        "aco_requests q",
        "q.id",
        filter,
        args,
        R::map,
    )
}

/// Open requests whose service-level clock runs (alias `q`), written as the
/// index of migration 0003 writes it, so that a filter holding it can use that
/// index: comparisons, not an `IN` list (which SQLite evaluates through a
/// temporary b-tree).
pub const CLOCK_RUNNING: &str = "q.due_at IS NOT NULL \
    AND (q.status = 'SUBMITTED' OR q.status = 'CHANNEL_REVIEW' OR q.status = 'FINANCE_REVIEW' \
    OR q.status = 'OPERATIONS_REVIEW' OR q.status = 'AWAITING_SIGNATURE')";

/// [`list`] through the index of open requests with a due date, in id order:
/// for a filter that holds [`CLOCK_RUNNING`] (the overdue list), which the
/// planner would otherwise answer by sorting every open request of those states.
fn list_open<R: RequestForm>(tx: &Tx<'_>, filter: &Filter, args: &PageArgs) -> Result<Page<R>> {
    page(
        tx,
        R::COLUMNS,
        "aco_requests q INDEXED BY aco_requests_open_by_id",
        "q.id",
        filter,
        args,
        R::map,
    )
}

/// A page of the requests `filter` lets through that are in any of `statuses`
/// (each read through the `(status, id)` index, then merged).
fn list_in_states<R: RequestForm>(
    tx: &Tx<'_>,
    filter: &Filter,
    statuses: &[AcoRequestStatus],
    args: &PageArgs,
) -> Result<Page<R>> {
    let any_of: Vec<Filter> = statuses
        .iter()
        .map(|s| Filter::new().and("q.status = ?", [text(s.as_str())]))
        .collect();
    super::pagination::page_any(
        tx,
        R::COLUMNS,
        "aco_requests q",
        "q.id",
        filter,
        &any_of,
        args,
        R::map,
    )
}

pub fn get(tx: &Tx<'_>, id: &ObjectId) -> Result<Option<AcoRequestRow>> {
    find(tx, &Filter::new().and("q.id = ?", [text(id.as_str())]))
}

/// ELIG-13: a request not finished (`AcoRequestStatus::is_finished`, a test
/// holds them equal), written as the unique index of migration 0003 writes
/// it, so that a query holding it can use that index.
macro_rules! unfinished {
    () => {
        "status <> 'REJECTED' AND status <> 'CANCELLED' AND status <> 'ACTIVE' \
         AND status <> 'EXHAUSTED' AND status <> 'LAPSED'"
    };
}
pub(crate) use unfinished;

/// ELIG-13: whether the customer has a request that is not finished.
pub fn open_request_exists(tx: &Tx<'_>, customer: &ObjectId) -> Result<bool> {
    let open = tx.row(
        concat!(
            "SELECT EXISTS (SELECT 1 FROM aco_requests WHERE customer_id = ?1 AND ",
            unfinished!(),
            ")"
        ),
        &[customer],
        |r| r.get(0),
    )?;
    Ok(open == Some(true))
}

fn workloads_json(workloads: &[String]) -> String {
    serde_json::Value::from(workloads.to_vec()).to_string()
}

/// What both writes of a request store of its state, as stored: the
/// parameters `?1` to `?14`, in the order of [`STATE_COLUMNS`].
fn state(q: &AcoRequestRow) -> [Box<dyn Param + '_>; 14] {
    [
        Box::new(&q.status),
        Box::new(&q.scenario),
        Box::new(workloads_json(&q.workloads)),
        Box::new(q.timeline_start.to_string()),
        Box::new(q.timeline_end.to_string()),
        Box::new(Money(q.estimated_acr)),
        Box::new(Money(q.aco_amount)),
        Box::new(&q.channel_sales_manager),
        Box::new(&q.info_requested_from),
        Box::new(q.info_requested_at.map(instant)),
        Box::new(&q.decision_reason),
        Box::new(instant(q.stage_entered_at)),
        Box::new(q.due_at.map(instant)),
        Box::new(instant(q.updated_at)),
    ]
}

/// The columns [`state`] writes.
const STATE_COLUMNS: [&str; 14] = [
    "status",
    "scenario",
    "workloads",
    "timeline_start",
    "timeline_end",
    "estimated_acr",
    "aco_amount",
    "channel_sales_manager",
    "info_requested_from",
    "info_requested_at",
    "decision_reason",
    "stage_entered_at",
    "due_at",
    "updated_at",
];

pub fn insert(tx: &Tx<'_>, q: &AcoRequestRow) -> Result<()> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let numbers: Vec<String> = (1..=14).map(|n| format!("?{n}")).collect();
        format!(
            "INSERT INTO aco_requests ({}, id, customer_id, partner_id, indirect_provider_id, \
                version, submitted_at, submitted_by) \
             VALUES ({}, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
            STATE_COLUMNS.join(", "),
            numbers.join(", ")
        )
    });
    let state = state(q);
    let submitted_at = instant(q.submitted_at);
    let mut params: Vec<&dyn Param> = state.iter().map(|p| &**p as &dyn Param).collect();
    params.extend([
        &q.id as &dyn Param,
        &q.customer_id,
        &q.partner_id,
        &q.indirect_provider_id,
        &q.version,
        &submitted_at,
        &q.submitted_by,
    ]);
    tx.exec(&SQL, &params)?;
    keep_open_request(tx, q)
}

/// ELIG-13 on PostgreSQL, where a partial unique index is not to be had: a
/// row in `open_requests` per customer with an unfinished request, written
/// with the request and removed when it finishes. On SQLite the unique
/// index of migration 0003 holds the rule.
const OPEN_REQUESTS: super::guard::Guard = super::guard::Guard {
    table: "open_requests",
    columns: &["customer_id", "request_id"],
    rule: "ELIG-13, one unfinished request per customer",
};

fn keep_open_request(tx: &Tx<'_>, q: &AcoRequestRow) -> Result<()> {
    OPEN_REQUESTS.keep(tx, &[&q.customer_id], &q.id, !q.status.is_finished())
}

/// Writes `q`'s new state if the stored version is still `seen_version`, and
/// bumps the version. `false` means someone else changed it first (FLOW-18).
pub fn update(tx: &Tx<'_>, q: &AcoRequestRow, seen_version: i64) -> Result<bool> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let set: Vec<String> = STATE_COLUMNS
            .iter()
            .enumerate()
            .map(|(n, column)| format!("{column} = ?{}", n + 1))
            .collect();
        format!(
            "UPDATE aco_requests SET {}, version = version + 1 WHERE id = ?15 AND version = ?16",
            set.join(", ")
        )
    });
    let state = state(q);
    let mut params: Vec<&dyn Param> = state.iter().map(|p| &**p as &dyn Param).collect();
    params.extend([&q.id as &dyn Param, &seen_version]);
    let n = tx.exec(&SQL, &params)?;
    if n == 1 {
        keep_open_request(tx, q)?;
    }
    Ok(n == 1)
}

/// One transition in a request's history.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub seq: i64,
    pub request_id: ObjectId,
    pub at: DateTime<Utc>,
    pub actor_subject: String,
    pub actor_name: Option<String>,
    pub actor_role: String,
    pub action: String,
    pub from_status: Option<AcoRequestStatus>,
    pub to_status: AcoRequestStatus,
    pub comment: Option<String>,
    /// When the entry was written, if later than `at` (FLOW-11: an expiry
    /// found after its deadline is recorded at the deadline).
    pub recorded_at: Option<DateTime<Utc>>,
}

pub fn append_history(tx: &Tx<'_>, h: &HistoryRow) -> Result<()> {
    let id = tx.history_id("aco_request_history", "request_id", &h.request_id)?;
    tx.exec(
        "INSERT INTO aco_request_history (id, request_id, at, actor_subject, actor_name, actor_role, \
            action, from_status, to_status, comment, recorded_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        &[
            &id,
            &h.request_id,
            &instant(h.at),
            &h.actor_subject,
            &h.actor_name,
            &h.actor_role,
            &h.action,
            &h.from_status,
            &h.to_status,
            &h.comment,
            &h.recorded_at.map(instant),
        ],
    )?;
    // SQLite's trigger (migration 0005) keeps the newest entry's id.
    if let Some(id) = id {
        tx.exec(
            "UPDATE aco_requests SET last_history_id = ?2 WHERE id = ?1",
            &[&h.request_id, &id],
        )?;
    }
    Ok(())
}

const HISTORY_COLUMNS: &str = "h.id, h.request_id, h.at, h.actor_subject, h.actor_name, h.actor_role, \
    h.action, h.from_status, h.to_status, h.comment, h.recorded_at";

fn map_history(r: &Row<'_>) -> Result<HistoryRow> {
    Ok(HistoryRow {
        seq: r.get(0)?,
        request_id: r.get(1)?,
        at: r.get::<Instant>(2)?.0,
        actor_subject: r.get(3)?,
        actor_name: r.get(4)?,
        actor_role: r.get(5)?,
        action: r.get(6)?,
        from_status: r.get(7)?,
        to_status: r.get(8)?,
        comment: r.get(9)?,
        recorded_at: r.get::<Option<Instant>>(10)?.map(|i| i.0),
    })
}

/// A page of a request's history, oldest first; cursors are sequence numbers.
pub fn history(tx: &Tx<'_>, request: &ObjectId, args: &PageArgs) -> Result<Page<HistoryRow>> {
    let filter = Filter::new().and("h.request_id = ?", [text(request.as_str())]);
    page(
        tx,
        HISTORY_COLUMNS,
        "aco_request_history h",
        &sequence_key(tx, "h.id"),
        &filter,
        args,
        map_history,
    )
}

/// The newest history entry of a request.
pub fn last_history(tx: &Tx<'_>, request: &ObjectId) -> Result<Option<HistoryRow>> {
    tx.row(
        &format!(
            "SELECT {HISTORY_COLUMNS} FROM aco_request_history h WHERE h.request_id = ?1 \
             ORDER BY h.id DESC LIMIT 1"
        ),
        &[request],
        map_history,
    )
}

/// The history entries with these sequence numbers (each request's newest,
/// from [`AcoRequestRow::last_history_id`]): one query for a page, a lookup
/// for [`Tx::together`].
pub fn history_among<'a>(
    tx: &Tx<'_>,
    seqs: &'a [i64],
) -> super::among::Mapped<'a, i64, HistoryRow> {
    super::among::Among::new(
        tx,
        HISTORY_COLUMNS,
        "aco_request_history h",
        "h.id",
        seqs,
        std::borrow::Cow::Owned(super::pagination::Filter::new()),
        map_history,
    )
}
