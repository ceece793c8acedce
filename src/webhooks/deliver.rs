//! The deliverer: turns events into deliveries, sends what is due, and
//! records each attempt.
//!
//! **Fan-out.** Each enabled subscription has a cursor in the event feed.
//! The deliverer reads the feed after it as the subscription's owner would
//! (the same query and scope as `events`: a receiver gets only events its
//! owner may see), writes a delivery for each event of the types it wants,
//! and moves the cursor, in one transaction: no event is skipped, none is
//! fanned out twice.
//!
//! **Sending.** A due delivery is claimed (its next attempt moved past the
//! time the attempt may take, a lease), sent, and its outcome recorded. A
//! process killed while sending leaves the claim to run out: the delivery is
//! sent again, with the same `webhook-id` (at least once). A failure is
//! retried after 1 s, 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h and then
//! every 8 h (each ±20%), until 24 hours after the event; then it fails.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;

use super::endpoint::Policy;
use super::signature::{self, Secret};
use super::transport::{self, Message, Outcome};
use crate::authz;
use crate::domain::actor::{Actor, Organization};
use crate::domain::ids::{IdKind, ObjectId};
use crate::domain::{Role, WebhookDeliveryStatus};
use crate::error::Result;
use crate::store::events::{self, EventFilter, position_key};
use crate::store::pagination::PageArgs;
use crate::store::webhooks::{self, AttemptRow, DeliveryRow, SubscriptionRow, SubscriptionScope};
use crate::store::{Db, Engine, Tx, partners};

/// How long a delivery is retried after its event (then it fails).
pub const RETRY_HOURS: i64 = 24;

/// Events fanned out to one subscription in one transaction (each writes a
/// delivery: well inside Aurora DSQL's 3,000 rows).
const FAN_OUT_BATCH: usize = 100;

/// Deliveries sent at once, at most.
const IN_FLIGHT: usize = 64;

/// The pause before attempt `n + 1` after `n` failed ones.
fn backoff(failed: i64) -> Duration {
    const STEPS: [u64; 9] = [1, 5, 30, 120, 600, 1_800, 3_600, 7_200, 14_400];
    let seconds = usize::try_from(failed - 1)
        .ok()
        .and_then(|i| STEPS.get(i).copied())
        .unwrap_or(28_800);
    // ±20%, so that the retries of many deliveries that failed together spread out.
    let random = f64::from(uuid::Uuid::new_v4().as_bytes()[0]) / 255.0;
    Duration::from_millis((seconds as f64 * 1_000.0 * (0.8 + 0.4 * random)) as u64)
}

/// Counts the webhook subscriptions this process created or changed, so
/// that a deliverer with nothing to do wakes for the first one at once.
static SUBSCRIPTIONS: std::sync::LazyLock<tokio::sync::watch::Sender<u64>> =
    std::sync::LazyLock::new(|| tokio::sync::watch::Sender::new(0));

/// Called once a change to a subscription has committed.
pub fn subscriptions_changed() {
    SUBSCRIPTIONS.send_modify(|n| *n = n.wrapping_add(1));
}

/// What one step did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Step {
    /// Deliveries written.
    pub written: usize,
    /// Sends started.
    pub started: usize,
    /// No subscription is enabled and no delivery waits.
    pub idle: bool,
}

/// Sends webhook deliveries for one process.
#[derive(Clone)]
pub struct Deliverer {
    db: Db,
    policy: Policy,
    timeout: Duration,
    slots: Arc<Semaphore>,
}

/// One claimed delivery, ready to send.
struct Job {
    id: ObjectId,
    url: String,
    secrets: Vec<String>,
    body: Bytes,
}

impl Deliverer {
    pub fn new(db: Db, policy: Policy, timeout: Duration) -> Self {
        Deliverer {
            db,
            policy,
            timeout,
            slots: Arc::new(Semaphore::new(IN_FLIGHT)),
        }
    }

    /// Fans out new events and starts sending what is due: one read says
    /// whether there is anything to do, and only then does it write.
    pub async fn step(&self) -> Result<Step> {
        let below = self.db.event_horizon();
        let now = Utc::now();
        let (subscriptions, head, due, pending) = self
            .db
            .read(move |tx| {
                Ok((
                    webhooks::enabled(tx)?,
                    events::head(tx, below)?,
                    webhooks::any_due(tx, now)?,
                    webhooks::any_pending(tx)?,
                ))
            })
            .await?;
        let mut step = Step {
            // Deliveries waiting for a retry (or for their subscription to be
            // enabled again) keep it ticking: they fall due, or fail in time.
            idle: subscriptions.is_empty() && !pending,
            ..Step::default()
        };
        for (id, cursor) in subscriptions {
            if cursor < head {
                // One subscription's failure holds back none of the others.
                match self.fan_out(&id).await {
                    Ok(written) => step.written += written,
                    Err(e) => {
                        tracing::error!(error = %e, subscription = %id, "fanning out events failed");
                    }
                }
            }
        }
        if due || step.written > 0 {
            step.started = self.send_due().await?;
        }
        Ok(step)
    }

    /// The local server's loop: a step after each commit of this process,
    /// and at least once a second (retries falling due, other processes'
    /// events on a shared database). With no subscription and nothing due,
    /// commits do not wake it, only a subscription's creation or change (and,
    /// on a shared PostgreSQL database, every second, for another process's).
    pub async fn run(self) {
        let mut commits = events::commits();
        let mut subscriptions = SUBSCRIPTIONS.subscribe();
        loop {
            let idle = match self.step().await {
                // More waiting than one step claims: go on at once.
                Ok(step) if step.started > 0 && self.slots.available_permits() > 0 => continue,
                Ok(step) => step.idle,
                Err(e) => {
                    // Tried again on the next tick, whatever the store.
                    tracing::error!(error = %e, "webhook delivery failed");
                    false
                }
            };
            if idle {
                // On SQLite this process is the only one that creates
                // subscriptions; on a shared PostgreSQL database another may.
                let shared = self.db.event_horizon().is_some();
                tokio::select! {
                    _ = subscriptions.changed() => {}
                    () = tokio::time::sleep(Duration::from_secs(1)), if shared => {}
                }
                commits.borrow_and_update();
                continue;
            }
            tokio::select! {
                _ = commits.changed() => {}
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    /// For a scheduled invocation (Lambda): steps until nothing is due or
    /// `budget` has passed, then waits for the sends in flight.
    pub async fn drain(&self, budget: Duration) -> Result<usize> {
        let until = std::time::Instant::now() + budget;
        let mut sent = 0;
        loop {
            let step = self.step().await?;
            sent += step.started;
            if (step.written == 0 && step.started == 0) || std::time::Instant::now() >= until {
                break;
            }
            if self.slots.available_permits() == 0 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        // Every send holds a slot until its outcome is recorded.
        let all = u32::try_from(IN_FLIGHT).unwrap_or(u32::MAX);
        drop(self.slots.acquire_many(all).await);
        Ok(sent)
    }

    /// Writes the deliveries of the events subscription `id` has not yet
    /// been considered for, a batch a transaction.
    async fn fan_out(&self, id: &ObjectId) -> Result<usize> {
        let mut written = 0;
        loop {
            let below = self.db.event_horizon();
            let id = id.clone();
            let (n, more) = self
                .db
                .write(move |tx| fan_out_one(tx, &id, below, Utc::now()))
                .await?;
            written += n;
            if !more {
                return Ok(written);
            }
        }
    }

    /// Claims the deliveries that are due (as many as there are free slots)
    /// and sends each on a task of its own, which records its outcome.
    pub async fn send_due(&self) -> Result<usize> {
        let free = self.slots.available_permits();
        if free == 0 {
            return Ok(0);
        }
        // Long enough for the attempt and its record: a claim outlives its
        // attempt only when the process died.
        let lease = chrono::Duration::from_std(self.timeout + Duration::from_secs(5))
            .unwrap_or(chrono::Duration::seconds(65));
        let jobs = self
            .db
            .write(move |tx| claim(tx, Utc::now(), lease, free))
            .await?;
        let started = jobs.len();
        for job in jobs {
            let Ok(permit) = self.slots.clone().acquire_owned().await else {
                break;
            };
            let (db, policy, timeout) = (self.db.clone(), self.policy, self.timeout);
            tokio::spawn(async move {
                let _permit = permit;
                let at = Utc::now();
                let began = std::time::Instant::now();
                let outcome = send(&job, &policy, timeout).await;
                let took = began.elapsed();
                crate::observe::webhook_attempt(outcome.is_delivered(), took);
                let id = job.id.clone();
                let recorded = db
                    .write(move |tx| record(tx, &id, &outcome, at, took, Utc::now()))
                    .await;
                if let Err(e) = recorded {
                    tracing::error!(error = %e, delivery = %job.id, "recording a webhook attempt failed");
                }
            });
        }
        Ok(started)
    }
}

async fn send(job: &Job, policy: &Policy, timeout: Duration) -> Outcome {
    let uri = match super::endpoint::check_url(&job.url, policy) {
        Ok(uri) => uri,
        Err(e) => {
            return Outcome::Failed {
                reason: e.to_string(),
            };
        }
    };
    let secrets: Vec<Secret> = job
        .secrets
        .iter()
        .filter_map(|s| Secret::parse(s).ok())
        .collect();
    let timestamp = Utc::now().timestamp();
    let signature = signature::sign(
        &secrets.iter().collect::<Vec<_>>(),
        job.id.as_str(),
        timestamp,
        &job.body,
    );
    let message = Message {
        url: &uri,
        msg_id: job.id.as_str(),
        timestamp,
        body: job.body.clone(),
        signature,
    };
    transport::post(&message, policy, timeout).await
}

/// The subscription's owner as the feed knows it: a partner admin of its
/// partner, or a programme admin. `None` when the partner is gone.
fn owner(tx: &Tx<'_>, w: &SubscriptionRow) -> Result<Option<Actor>> {
    let (roles, organization) = match &w.partner_id {
        None => (vec![Role::ProgramAdmin], Organization::Program),
        Some(id) => match partners::get(tx, id)? {
            Some(p) => (
                vec![Role::PartnerAdmin],
                Organization::Partner {
                    id: p.id,
                    partner_type: p.partner_type,
                },
            ),
            None => return Ok(None),
        },
    };
    Ok(Some(Actor {
        subject: format!("webhook:{}", w.id),
        name: None,
        email: None,
        tenant_id: String::new(),
        roles,
        organization,
    }))
}

/// One batch of one subscription's fan-out: its deliveries written and its
/// cursor moved, in one transaction. Whether more may follow.
fn fan_out_one(
    tx: &Tx<'_>,
    id: &ObjectId,
    below: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(usize, bool)> {
    let Some(w) = webhooks::find_in(tx, &SubscriptionScope::All, id)? else {
        return Ok((0, false));
    };
    let Some(actor) = owner(tx, &w)?.filter(|_| w.enabled) else {
        return Ok((0, false));
    };
    let args = PageArgs {
        first: Some(FAN_OUT_BATCH),
        after: Some(position_key(w.cursor)),
        skip_total: true,
        ..PageArgs::default()
    };
    let filter = EventFilter {
        types: w.event_types.clone(),
        request: None,
        below,
    };
    let page = events::page_of(tx, &authz::event_scope(tx, &actor)?, &filter, &args)?;
    for event in &page.items {
        webhooks::insert_delivery(
            tx,
            &DeliveryRow {
                id: ObjectId::generate(IdKind::WebhookDelivery),
                subscription_id: w.id.clone(),
                event_position: event.position,
                event_type: event.kind,
                status: WebhookDeliveryStatus::Pending,
                attempts: 0,
                next_attempt_at: Some(now),
                retry_until: now + chrono::Duration::hours(RETRY_HOURS),
                created_at: now,
                last_attempt_at: None,
                delivered_at: None,
            },
        )?;
    }
    // Past the events it was not sent too (other types, other partners'):
    // the next read starts at the newest event considered.
    let last = page.items.last().map(|e| e.position);
    let cursor = if page.has_next {
        last
    } else {
        Some(events::head(tx, below)?.max(last.unwrap_or(0)))
    };
    if let Some(cursor) = cursor.filter(|c| *c > w.cursor) {
        webhooks::advance(tx, &w.id, cursor)?;
    }
    Ok((page.items.len(), page.has_next))
}

/// Claims up to `limit` due deliveries: each one's next attempt moved past
/// `lease`, so no other step (of this process or another) sends it
/// meanwhile. Deliveries whose subscription or event is gone fail here.
fn claim(
    tx: &Tx<'_>,
    now: DateTime<Utc>,
    lease: chrono::Duration,
    limit: usize,
) -> Result<Vec<Job>> {
    let mut jobs = Vec::new();
    for mut d in webhooks::due(tx, now, limit)? {
        let subscription = webhooks::find_in(tx, &SubscriptionScope::All, &d.subscription_id)?;
        let event = events::at_position(tx, d.event_position)?;
        match (subscription, event) {
            (Some(w), Some(event)) if w.enabled => {
                d.next_attempt_at = Some(now + lease);
                webhooks::save_delivery(tx, &d)?;
                let mut secrets = vec![w.secret.clone()];
                if let (Some(previous), Some(until)) = (&w.previous_secret, w.previous_secret_until)
                    && until > now
                {
                    secrets.push(previous.clone());
                }
                jobs.push(Job {
                    id: d.id,
                    url: w.url,
                    secrets,
                    body: Bytes::from(event.envelope().to_string()),
                });
            }
            // Disabled: it waits, and fails if it is not enabled in time.
            (Some(_), Some(_)) => {
                let next = now + chrono::Duration::minutes(1);
                if next > d.retry_until {
                    d.status = WebhookDeliveryStatus::Failed;
                    d.next_attempt_at = None;
                } else {
                    d.next_attempt_at = Some(next);
                }
                webhooks::save_delivery(tx, &d)?;
            }
            _ => {
                d.status = WebhookDeliveryStatus::Failed;
                d.next_attempt_at = None;
                webhooks::save_delivery(tx, &d)?;
            }
        }
    }
    Ok(jobs)
}

/// Records an attempt and what it makes of the delivery.
fn record(
    tx: &Tx<'_>,
    id: &ObjectId,
    outcome: &Outcome,
    at: DateTime<Utc>,
    took: Duration,
    now: DateTime<Utc>,
) -> Result<()> {
    let Some(mut d) = webhooks::delivery(tx, id)? else {
        return Ok(());
    };
    d.attempts += 1;
    d.last_attempt_at = Some(at);
    let (status_code, error) = match outcome {
        Outcome::Delivered { status } => (Some(i64::from(*status)), None),
        Outcome::Refused { status } => (
            Some(i64::from(*status)),
            Some(format!("the endpoint answered {status}")),
        ),
        Outcome::Failed { reason } => (None, Some(reason.clone())),
    };
    webhooks::insert_attempt(
        tx,
        &AttemptRow {
            delivery_id: d.id.clone(),
            attempt: d.attempts,
            at,
            status_code,
            error,
            duration_ms: i64::try_from(took.as_millis()).unwrap_or(i64::MAX),
        },
    )?;
    if outcome.is_delivered() {
        d.status = WebhookDeliveryStatus::Succeeded;
        d.next_attempt_at = None;
        d.delivered_at = Some(now);
    } else {
        let next = now + chrono::Duration::from_std(backoff(d.attempts)).unwrap_or_default();
        if next > d.retry_until {
            d.status = WebhookDeliveryStatus::Failed;
            d.next_attempt_at = None;
        } else {
            d.status = WebhookDeliveryStatus::Pending;
            d.next_attempt_at = Some(next);
        }
    }
    webhooks::save_delivery(tx, &d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_every_eight_hours() {
        let seconds = |n| backoff(n).as_secs_f64();
        assert!((0.8..=1.2).contains(&seconds(1)));
        assert!((4.0..=6.0).contains(&seconds(2)));
        assert!((11_520.0..=17_280.0).contains(&seconds(9)));
        assert!((23_040.0..=34_560.0).contains(&seconds(10)));
        assert!((23_040.0..=34_560.0).contains(&seconds(40)));
    }
}
