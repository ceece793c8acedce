//! Work the service does on its own: the ACO agreement expiry sweep (AGR-4,
//! FLOW-11), lapsing credits whose period has ended (FLOW-15), closing
//! partners' remediation windows that have ended (AUTH-1), and keeping the
//! query planner's statistics current.

use std::time::Duration;

use crate::config::AppConfig;
use crate::domain::actor::Actor;
use crate::error::Result;
use crate::service::{Call, agreements, credits};
use crate::store::Db;
use crate::store::Engine;

/// How often the local server sweeps for expired agreements.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(5 * 60);

/// Expires every published agreement past its deadline; returns how many.
pub async fn sweep_expired_agreements(db: &Db, config: &AppConfig) -> Result<usize> {
    let call = Call {
        actor: Actor::system(),
        now: config.clock.now(),
        program_tenant_id: config.jwt.program_tenant_id.clone(),
        timezone: config.timezone,
    };
    // Each step in a transaction of its own, so that one failure does not
    // hold back the others; agreements in batches.
    let mut expired = 0;
    loop {
        let agreements_call = call.clone();
        let batch = db
            .write(move |tx| agreements::expire_overdue(tx, &agreements_call, false))
            .await?
            .len();
        expired += batch;
        if batch < agreements::EXPIRY_BATCH {
            break;
        }
    }
    // Credits whose period ended: one short transaction per customer, so the
    // sweep never holds the writer for long.
    let list_call = call.clone();
    match db
        .read(move |tx| credits::customers_to_settle(tx, &list_call))
        .await
    {
        Ok(ended) => {
            for (customer, partner) in ended {
                let settle_call = call.clone();
                if let Err(e) = db
                    .write(move |tx| credits::settle(tx, &settle_call, &customer, &partner))
                    .await
                {
                    tracing::error!(error = %e, "settling a customer's credits failed");
                }
            }
        }
        Err(e) => tracing::error!(error = %e, "listing credits to settle failed"),
    }
    if let Err(e) = settle_due(db, &call).await {
        tracing::error!(error = %e, "settling the credits due to be settled again failed");
    }
    if let Err(e) = db
        .write(move |tx| crate::service::authorization::expire_remediation(tx, &call, false))
        .await
    {
        tracing::error!(error = %e, "closing remediation windows failed");
    }
    // Names written without their sort key and search terms (by a binary
    // from before search, during a rolling deployment).
    if let Err(e) = index_for_search(db).await {
        tracing::error!(error = %e, "indexing names for search failed");
    }
    if let Err(e) = remove_expired_events(db, config).await {
        tracing::error!(error = %e, "removing events and deliveries past their retention failed");
    }
    if let Err(e) = db.refresh_statistics().await {
        tracing::error!(error = %e, "refreshing the query planner's statistics failed");
    }
    Ok(expired)
}

/// Settles again, each partner's grants on its own usage, the customers
/// whose grants were settled on the usage of every partner before usage was
/// kept per partner (LEDGER-2); one transaction per customer. Returns how
/// many were settled.
pub async fn settle_due(db: &Db, call: &Call) -> Result<usize> {
    let due = db.read(credits::settlements_due).await?;
    for customer in &due {
        let (call, customer) = (call.clone(), customer.clone());
        db.write(move |tx| credits::settle_customer(tx, &call, &customer))
            .await?;
    }
    Ok(due.len())
}

/// Gives the customers and partners that have none (rows from before
/// search, on engines whose migrations change no data) their name's sort key
/// and search terms, [`INDEX_BATCH`] rows a transaction (within Aurora
/// DSQL's limit of rows changed). Returns how many.
pub async fn index_for_search(db: &Db) -> Result<usize> {
    let mut indexed = 0;
    loop {
        let done = db
            .write(|tx| crate::store::search::backfill(tx, INDEX_BATCH))
            .await?;
        indexed += done;
        if done == 0 {
            return Ok(indexed);
        }
    }
}

/// The webhook deliverer of this process, as configured.
pub fn deliverer(db: Db, config: &AppConfig) -> crate::webhooks::deliver::Deliverer {
    crate::webhooks::deliver::Deliverer::new(
        db,
        crate::webhooks::endpoint::Policy { dev: config.dev },
        config.webhook_timeout,
    )
}

/// How long webhook deliveries and their attempts are kept.
pub const DELIVERY_RETENTION_DAYS: i64 = 30;

/// Removes the events older than the retention period, and the webhook
/// deliveries older than 30 days with their attempts, in batches within
/// Aurora DSQL's limit of rows a transaction. Returns how many of each.
pub async fn remove_expired_events(db: &Db, config: &AppConfig) -> Result<(usize, usize)> {
    let before = config.clock.now() - config.event_retention;
    let mut events = 0;
    loop {
        let n = db
            .write(move |tx| crate::store::events::remove_older(tx, before, 1_000))
            .await?;
        events += n;
        if n == 0 {
            break;
        }
    }
    let before = chrono::Utc::now() - chrono::Duration::days(DELIVERY_RETENTION_DAYS);
    let mut deliveries = 0;
    loop {
        // Each delivery with its attempts (15 or so at most).
        let n = db
            .write(move |tx| crate::store::webhooks::remove_older(tx, before, 100))
            .await?;
        deliveries += n;
        if n == 0 {
            break;
        }
    }
    Ok((events, deliveries))
}

/// Rows [`index_for_search`] indexes in one transaction: each writes up to
/// 35 terms and its row.
const INDEX_BATCH: usize = 50;

/// Sweeps now and then every [`SWEEP_INTERVAL`], for as long as the server runs.
pub async fn run_expiry_sweeps(db: Db, config: AppConfig) {
    let mut ticks = tokio::time::interval(SWEEP_INTERVAL);
    loop {
        ticks.tick().await;
        let swept = sweep_expired_agreements(&db, &config).await;
        crate::observe::sweep(&swept);
        match swept {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                expired = n,
                "expired ACO agreements past their signing deadline"
            ),
            Err(e) => tracing::error!(error = %e, "the expiry sweep failed"),
        }
    }
}
