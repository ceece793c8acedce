//! ACO credits: recording monthly usage (LEDGER-2), settling the ledger into
//! grant and request states (FLOW-14, FLOW-15), and reading balances,
//! reconciliations and forecasts (LEDGER-8).

use rust_decimal::Decimal;

use super::Call;
use super::events::By;
use super::requests::transition;
use crate::authz::{self, Permission};
use crate::domain::UserErrorCode;
use crate::domain::actor::{Actor, Organization};
use crate::domain::ids::ObjectId;
use crate::domain::ledger::{self, Forecast, Grant, Ledger, Usage};
use crate::domain::time::Month;
use crate::domain::workflow::WorkflowAction;
use crate::domain::{AcoRequestStatus, EventType, GrantStatus, PartnerType, Role, sla};
use crate::error::{Error, Result, UserError};
use crate::fields;
use crate::store::Tx;
use crate::store::agreements::{self, AgreementScope, CreditGrantRow};
use crate::store::customers::CustomerRow;
use crate::store::partners::PartnerRow;
use crate::store::usage::{self, UsageRow};
use crate::store::{audit, requests};

/// LEDGER-2: the partner reports its own usage; finance, operations and the
/// programme admin record or correct it on a named partner's behalf.
pub const RECORD_USAGE: Permission = Permission {
    roles: &[
        Role::PartnerAdmin,
        Role::PartnerUser,
        Role::Finance,
        Role::Operations,
        Role::ProgramAdmin,
    ],
    action: "record monthly usage",
};

/// The month now, in the programme time zone.
pub fn current_month(call: &Call) -> Month {
    Month::of(sla::local_date(call.now, call.timezone))
}

fn ledger_grants(rows: &[CreditGrantRow]) -> Vec<Grant<ObjectId>> {
    rows.iter()
        .map(|g| Grant {
            id: g.id.clone(),
            amount: g.amount,
            first_month: g.first_month,
            last_month: g.last_month,
        })
        .collect()
}

fn ledger_usage(rows: &[UsageRow]) -> Vec<Usage> {
    rows.iter()
        .map(|u| Usage {
            month: u.month,
            first_party: u.first_party_acr,
            third_party: u.third_party_charges,
        })
        .collect()
}

/// One partner's grants for a customer, its usage of the customer and their
/// ledger (LEDGER-2: a grant is consumed only by its own partner's usage).
pub struct PartnerLedger {
    pub partner_id: ObjectId,
    /// The partner's row, if the caller may see it.
    pub partner: Option<PartnerRow>,
    pub grants: Vec<CreditGrantRow>,
    pub usage: Vec<UsageRow>,
    pub ledger: Ledger<ObjectId>,
}

/// The ledgers of the customer's partners the caller may see (those with a
/// grant or usage for it), by partner id, as of `as_of`. With `months`,
/// every month of that range is in each ledger: a month without recorded
/// usage counts as no usage, so the balance is carried through it.
pub fn partner_ledgers(
    tx: &Tx<'_>,
    actor: &Actor,
    customer: &ObjectId,
    as_of: Month,
    months: Option<(Month, Month)>,
) -> Result<Vec<PartnerLedger>> {
    let visible = authz::usage_scope(tx, actor)?;
    let grants = agreements::customer_grants(tx, customer)?;
    let usage = usage::all(tx, customer)?;
    let mut partners: Vec<ObjectId> = grants
        .iter()
        .map(|g| g.partner_id.clone())
        .chain(usage.iter().filter_map(|u| u.partner_id.clone()))
        .filter(|p| visible.includes(Some(p)))
        .collect();
    partners.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
    partners.dedup();
    partners
        .into_iter()
        .map(|partner_id| {
            let grants: Vec<CreditGrantRow> = grants
                .iter()
                .filter(|g| g.partner_id == partner_id)
                .cloned()
                .collect();
            let usage: Vec<UsageRow> = usage
                .iter()
                .filter(|u| u.partner_id.as_ref() == Some(&partner_id))
                .cloned()
                .collect();
            let ledger = match months {
                Some((from, to)) => ledger_over(&grants, &usage, from, to, as_of),
                None => ledger::run(&ledger_grants(&grants), &ledger_usage(&usage), as_of),
            };
            Ok(PartnerLedger {
                partner: authz::find_partner(tx, actor, &partner_id)?,
                partner_id,
                grants,
                usage,
                ledger,
            })
        })
        .collect()
}

/// The usage figures of the customer the caller may see: each month's
/// current figures, or every revision of one month.
pub fn visible_usage(
    tx: &Tx<'_>,
    actor: &Actor,
    customer: &ObjectId,
    month: Option<Month>,
) -> Result<Vec<(UsageRow, Option<PartnerRow>)>> {
    let visible = authz::usage_scope(tx, actor)?;
    let rows = match month {
        Some(m) => usage::history(tx, customer, m)?,
        None => usage::all(tx, customer)?,
    };
    let mut partners: Vec<(ObjectId, Option<PartnerRow>)> = Vec::new();
    rows.into_iter()
        .filter(|u| visible.includes(u.partner_id.as_ref()))
        .map(|u| {
            let partner = match &u.partner_id {
                None => None,
                Some(id) => match partners.iter().find(|(p, _)| p == id) {
                    Some((_, row)) => row.clone(),
                    None => {
                        let row = authz::find_partner(tx, actor, id)?;
                        partners.push((id.clone(), row.clone()));
                        row
                    }
                },
            };
            Ok((u, partner))
        })
        .collect()
}

/// The ledger of `grants` and `recorded` usage with every month from `from`
/// to `to` in it: a month without recorded usage counts as no usage, so the
/// balance is carried through it.
pub fn ledger_over(
    grants: &[CreditGrantRow],
    recorded: &[UsageRow],
    from: Month,
    to: Month,
    as_of: Month,
) -> Ledger<ObjectId> {
    let mut usage = ledger_usage(recorded);
    let mut month = from;
    while month <= to {
        if !usage.iter().any(|u| u.month == month) {
            usage.push(Usage {
                month,
                first_party: Decimal::ZERO,
                third_party: Decimal::ZERO,
            });
        }
        month = month.plus(1);
    }
    ledger::run(&ledger_grants(grants), &usage, as_of)
}

/// Brings the status of every grant of the partner for the customer, and its
/// request's, in line with the partner's ledger (FLOW-14 exhausted, FLOW-15
/// lapsed, LEDGER-2 reopened by a correction). The request moves through the
/// transition table, as the system.
pub fn settle(tx: &Tx<'_>, call: &Call, customer: &ObjectId, partner: &ObjectId) -> Result<()> {
    // Against a recording of usage at once (which claims the customer too).
    crate::store::customers::claim(tx, customer)?;
    // Only the columns the ledger and the statuses need: this runs inside
    // every usage record's write.
    let grants = agreements::partner_grant_terms(tx, customer, partner)?;
    let terms: Vec<Grant<usize>> = grants
        .iter()
        .enumerate()
        .map(|(i, g)| Grant {
            id: i,
            amount: g.amount,
            first_month: g.first_month,
            last_month: g.last_month,
        })
        .collect();
    let usage = usage::figures(tx, customer, partner)?;
    let ledger = ledger::run(&terms, &usage, current_month(call));
    for (row, state) in grants.iter().zip(&ledger.grants) {
        if row.status == state.status {
            continue;
        }
        agreements::set_grant_status(tx, &row.id, state.status)?;
        let kind = match state.status {
            GrantStatus::Exhausted => EventType::CreditExhausted,
            GrantStatus::Lapsed => EventType::CreditLapsed,
            _ => EventType::CreditReopened,
        };
        if let Some(grant) = agreements::find_grant_in(tx, &AgreementScope::All, &row.id)? {
            super::events::grant(tx, kind, By::SYSTEM, call.now, &grant)?;
        }
        let Some(mut request) = requests::get(tx, &row.request_id)? else {
            continue;
        };
        let steps: &[WorkflowAction] = match (request.status, state.status) {
            (AcoRequestStatus::Active, GrantStatus::Exhausted) => &[WorkflowAction::Exhaust],
            (AcoRequestStatus::Active, GrantStatus::Lapsed) => &[WorkflowAction::Lapse],
            (AcoRequestStatus::Exhausted | AcoRequestStatus::Lapsed, GrantStatus::Active) => {
                &[WorkflowAction::Reopen]
            }
            (AcoRequestStatus::Exhausted, GrantStatus::Lapsed) => {
                &[WorkflowAction::Reopen, WorkflowAction::Lapse]
            }
            (AcoRequestStatus::Lapsed, GrantStatus::Exhausted) => {
                &[WorkflowAction::Reopen, WorkflowAction::Exhaust]
            }
            _ => &[],
        };
        for action in steps {
            let comment = match action {
                WorkflowAction::Exhaust => format!(
                    "the balance reached zero in {}",
                    state
                        .exhausted_in
                        .map(|m| m.to_string())
                        .unwrap_or_default()
                ),
                WorkflowAction::Lapse => format!(
                    "the credit period ended in {} with {} left, which lapses",
                    row.last_month, state.lapsed
                ),
                _ => "a usage correction gave the credit a balance back".to_owned(),
            };
            request = transition(tx, call, None, request, *action, Some(comment), |_| Ok(()))?;
        }
    }
    Ok(())
}

/// Settles the grants of every partner of the customer, each on its own
/// partner's usage, and takes it off the list of settlements due.
pub fn settle_customer(tx: &Tx<'_>, call: &Call, customer: &ObjectId) -> Result<()> {
    let mut partners: Vec<ObjectId> = agreements::customer_grants(tx, customer)?
        .into_iter()
        .map(|g| g.partner_id)
        .collect();
    // Grants come by id, their partners interleaved: each partner once.
    partners.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
    partners.dedup();
    for partner in &partners {
        settle(tx, call, customer, partner)?;
    }
    usage::settled(tx, customer)
}

/// The customers whose grants wait to be settled again, each partner's on
/// its own usage (after usage came to be kept per partner).
pub fn settlements_due(tx: &Tx<'_>) -> Result<Vec<ObjectId>> {
    usage::settlements_due(tx)
}

/// LEDGER-2: one month's usage as reported.
#[derive(Debug, Clone)]
pub struct UsageReport {
    pub customer_id: ObjectId,
    /// The partner whose usage it is: named by programme roles, never by a
    /// partner (whose own it is).
    pub partner_id: Option<ObjectId>,
    pub month: Month,
    pub first_party_acr: Decimal,
    pub third_party_charges: Decimal,
}

/// What recording did.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub customer: CustomerRow,
    /// The partner whose usage it is.
    pub partner: PartnerRow,
    pub usage: UsageRow,
    /// `false` when the same figures were recorded again: nothing changed.
    pub changed: bool,
    /// `true` when earlier figures were corrected.
    pub corrected: bool,
}

/// LEDGER-2: whose usage the caller records. A partner records its own for a
/// customer it transacts for; a programme role names the partner, which must
/// transact for the customer (an active relationship, or a grant of the
/// customer's to correct).
fn usage_partner(
    tx: &Tx<'_>,
    actor: &Actor,
    customer: &CustomerRow,
    named: Option<&ObjectId>,
) -> Result<PartnerRow> {
    authz::require(actor, &RECORD_USAGE)?;
    match &actor.organization {
        Organization::Partner {
            partner_type: PartnerType::IndirectProvider,
            ..
        } => Err(Error::forbidden(
            "NOT_TRANSACTING_PARTNER",
            "usage is recorded by the customer's transacting partner, not its indirect provider",
        )),
        Organization::Partner { .. } if named.is_some() => Err(Error::bad_input(
            fields::USAGE_PARTNER.path(),
            "partners record their own usage; leave partnerId out",
        )),
        Organization::Partner { id, .. } => {
            if crate::store::relationships::is_active(tx, id, &customer.id)? {
                authz::partner(tx, actor, id)
            } else {
                Err(Error::NotFound)
            }
        }
        Organization::Customer { .. } => Err(Error::forbidden(
            "ROLE_NOT_PERMITTED",
            "customers do not record usage",
        )),
        Organization::Program => {
            let id = named.ok_or_else(|| {
                Error::bad_input(
                    fields::USAGE_PARTNER.path(),
                    "programme roles name the partner whose usage this is (partnerId)",
                )
            })?;
            let partner = authz::partner(tx, actor, id)?;
            let transacts = partner.partner_type != PartnerType::IndirectProvider
                && (crate::store::relationships::is_active(tx, id, &customer.id)?
                    || agreements::customer_grants(tx, &customer.id)?
                        .iter()
                        .any(|g| &g.partner_id == id));
            if !transacts {
                return Err(Error::rejected(
                    UserError::new(
                        UserErrorCode::NotTransactingPartner,
                        "the partner does not transact for this customer: it has no active \
                         reseller relationship with it and no credit of it",
                    )
                    .at(fields::USAGE_PARTNER),
                ));
            }
            Ok(partner)
        }
    }
}

/// LEDGER-2: records a month; the same figures again change nothing, other
/// figures are a correction that keeps the earlier ones in the history and
/// recomputes every later month.
pub fn record_monthly_usage(tx: &Tx<'_>, call: &Call, report: UsageReport) -> Result<Recorded> {
    let customer = authz::customer(tx, &call.actor, &report.customer_id)?;
    // The ledger settles on every month of the customer's usage: two
    // recordings at once must not each settle without the other's month.
    crate::store::customers::claim(tx, &customer.id)?;
    let partner_row = usage_partner(tx, &call.actor, &customer, report.partner_id.as_ref())?;
    let partner = partner_row.id.clone();
    if report.month > current_month(call) {
        return Err(Error::rejected(
            UserError::new(
                UserErrorCode::MonthInFuture,
                "usage can only be recorded for a month that has begun",
            )
            .at(fields::USAGE_MONTH),
        ));
    }
    let existing = usage::get(tx, &customer.id, &partner, report.month)?;
    if let Some(current) = existing.as_ref().filter(|c| {
        c.first_party_acr == report.first_party_acr
            && c.third_party_charges == report.third_party_charges
    }) {
        return Ok(Recorded {
            customer,
            partner: partner_row,
            usage: current.clone(),
            changed: false,
            corrected: false,
        });
    }
    let row = UsageRow {
        partner_id: Some(partner.clone()),
        month: report.month,
        first_party_acr: report.first_party_acr,
        third_party_charges: report.third_party_charges,
        revision: existing.as_ref().map_or(1, |e| e.revision + 1),
        recorded_at: call.now,
        recorded_by: call.actor.subject.clone(),
    };
    usage::record(tx, &customer.id, &partner, &row, call.actor.recorded_role())?;
    let corrected = existing.is_some();
    audit::record(
        tx,
        &call.actor,
        &customer.id,
        if corrected {
            "USAGE_CORRECTED"
        } else {
            "USAGE_RECORDED"
        },
        serde_json::json!({
            "partnerId": partner.as_str(),
            "month": row.month.to_string(),
            "firstPartyAcr": crate::domain::money::to_text(row.first_party_acr),
            "thirdPartyCharges": crate::domain::money::to_text(row.third_party_charges),
            "revision": row.revision,
        }),
        call.now,
    )?;
    settle(tx, call, &customer.id, &partner)?;
    Ok(Recorded {
        customer,
        partner: partner_row,
        usage: row,
        changed: true,
        corrected,
    })
}

/// The customers and partners whose grants may have lapsed as time passed
/// (the sweep settles each).
pub fn customers_to_settle(tx: &Tx<'_>, call: &Call) -> Result<Vec<(ObjectId, ObjectId)>> {
    usage::customers_with_ended_grants(tx, current_month(call))
}

/// The forecast of a partner's balance for a customer.
pub fn forecast(current: &PartnerLedger, as_of: Month) -> Forecast<ObjectId> {
    ledger::forecast(
        &ledger_grants(&current.grants),
        &ledger_usage(&current.usage),
        as_of,
    )
}

/// One line of the credit balance report (Partner Center's Azure credit balance report columns).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BalanceReportLine {
    pub partner_id: String,
    pub customer_id: String,
    pub invoice_month: String,
    pub credit_name: String,
    /// Cumulative amount used up to and including the invoice month.
    pub credit_amount: String,
    pub status: String,
    pub balance_amount: String,
    pub currency_code: String,
    pub agreement_id: String,
    pub effective_date: String,
    pub expiry_date: String,
}

fn first_day(month: Month) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::from_ymd_opt(month.year, month.month, 1)
}

/// The credit balance report for `month`: every grant the caller may see that
/// had begun by then, with what was used through that month and what is left.
pub fn balance_report(tx: &Tx<'_>, actor: &Actor, month: Month) -> Result<Vec<BalanceReportLine>> {
    let grants = agreements::grants_with_tenants(tx, &authz::agreement_scope(actor), month)?;
    let mut lines = Vec::with_capacity(grants.len());
    let mut cached: Option<((ObjectId, ObjectId), Ledger<ObjectId>)> = None;
    for g in grants {
        let key = (g.grant.customer_id.clone(), g.grant.partner_id.clone());
        if cached.as_ref().is_none_or(|(k, _)| *k != key) {
            let (customer, partner) = &key;
            let all: Vec<CreditGrantRow> = agreements::customer_grants(tx, customer)?
                .into_iter()
                .filter(|other| &other.partner_id == partner)
                .collect();
            let usage: Vec<UsageRow> = usage::all(tx, customer)?
                .into_iter()
                .filter(|u| u.month <= month && u.partner_id.as_ref() == Some(partner))
                .collect();
            cached = Some((
                key,
                ledger::run(&ledger_grants(&all), &ledger_usage(&usage), month),
            ));
        }
        let Some((_, ledger)) = &cached else { continue };
        let Some(state) = ledger.grants.iter().find(|s| s.id == g.grant.id) else {
            continue;
        };
        let status = match state.status {
            GrantStatus::Active => "Active",
            GrantStatus::Exhausted => "Exhausted",
            GrantStatus::Lapsed => "Lapsed",
        };
        let expiry = first_day(g.grant.last_month.plus(1)).map(|d| d - chrono::Duration::days(1));
        lines.push(BalanceReportLine {
            partner_id: g.partner_tenant_id,
            customer_id: g.customer_tenant_id,
            invoice_month: month.to_string(),
            credit_name: format!(
                "Azure Credit Offer {}",
                crate::domain::money::to_text(g.grant.amount)
            ),
            credit_amount: crate::domain::money::to_text(state.used),
            status: status.to_owned(),
            balance_amount: crate::domain::money::to_text(state.left()),
            currency_code: "USD".to_owned(),
            agreement_id: g.grant.agreement_id.to_string(),
            effective_date: first_day(g.grant.first_month)
                .map(|d| d.to_string())
                .unwrap_or_default(),
            expiry_date: expiry.map(|d| d.to_string()).unwrap_or_default(),
        });
    }
    Ok(lines)
}
