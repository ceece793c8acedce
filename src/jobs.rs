//! Work the service does on its own: the ACO agreement expiry sweep (AGR-4,
//! FLOW-11), lapsing credits whose period has ended (FLOW-15), and closing
//! partners' remediation windows that have ended (AUTH-1).

use std::time::Duration;

use crate::config::AppConfig;
use crate::error::Result;
use crate::service::{Call, agreements, credits, requests};
use crate::store::Db;

/// How often the local server sweeps for expired agreements.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(5 * 60);

/// Expires every published agreement past its deadline; returns how many.
pub async fn sweep_expired_agreements(db: &Db, config: &AppConfig) -> Result<usize> {
    let call = Call {
        actor: requests::system_actor(),
        now: config.clock.now(),
        program_tenant_id: config.jwt.program_tenant_id.clone(),
        timezone: config.timezone,
    };
    // Each step in a transaction of its own, so that one failure does not
    // hold back the others.
    let agreements_call = call.clone();
    let expired = db
        .write(move |tx| agreements::expire_overdue(tx, &agreements_call, false))
        .await?;
    // Credits whose period ended: one short transaction per customer, so the
    // sweep never holds the writer for long.
    let list_call = call.clone();
    match db
        .read(move |tx| credits::customers_to_settle(tx, &list_call))
        .await
    {
        Ok(customers) => {
            for customer in customers {
                let settle_call = call.clone();
                if let Err(e) = db
                    .write(move |tx| credits::settle(tx, &settle_call, &customer))
                    .await
                {
                    tracing::error!(error = %e, "settling a customer's credits failed");
                }
            }
        }
        Err(e) => tracing::error!(error = %e, "listing credits to settle failed"),
    }
    if let Err(e) = db
        .write(move |tx| crate::service::authorization::expire_remediation(tx, &call, false))
        .await
    {
        tracing::error!(error = %e, "closing remediation windows failed");
    }
    Ok(expired.len())
}

/// Sweeps now and then every [`SWEEP_INTERVAL`], for as long as the server runs.
pub async fn run_expiry_sweeps(db: Db, config: AppConfig) {
    let mut ticks = tokio::time::interval(SWEEP_INTERVAL);
    loop {
        ticks.tick().await;
        match sweep_expired_agreements(&db, &config).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                expired = n,
                "expired ACO agreements past their signing deadline"
            ),
            Err(e) => tracing::error!(error = %e, "the expiry sweep failed"),
        }
    }
}
