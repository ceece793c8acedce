//! ACO credit balances, reconciliation, forecasts and usage recording (DOMAIN §6).

use async_graphql::{Context, ID, InputObject, Object, ScalarType, SimpleObject, Value};

use super::aco::CreditGrant;
use super::input::input_id;
use super::plain::{Key, Plain, PlainList, Plainly};
use super::scalars::{DateTime, Decimal, Month};
use super::types::Customer;
use super::{read_as_call, to_gql, write};
use crate::authz;
use crate::domain::ids::{IdKind, ObjectId};
use crate::domain::ledger::{GrantState, Row};
use crate::domain::{GrantStatus, money};
use crate::error::{Error, Result, UserError};
use crate::service::credits::{self, UsageReport};
use crate::store::pagination::text;
use crate::store::usage::UsageRow;

/// One grant's standing (LEDGER-7: used + remaining = granted).
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct GrantBalance {
    pub grant: CreditGrant,
    pub granted: Decimal,
    pub used: Decimal,
    pub remaining: Decimal,
    pub status: GrantStatus,
    /// The month the balance reached zero.
    pub exhausted_in: Option<Month>,
    /// What lapsed at the end of the credit period.
    pub lapsed_amount: Decimal,
}

/// The customer's ACO credit, over the grants the caller may see.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct CreditBalance {
    pub granted: Decimal,
    pub used: Decimal,
    pub remaining: Decimal,
    pub lapsed: Decimal,
    pub currency_code: String,
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::RECORDS, child_complexity)"
    )]
    pub grants: Vec<GrantBalance>,
}

/// One month of the reconciliation (LEDGER-8).
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct ReconciliationMonth {
    pub month: Month,
    /// Whether usage was recorded for the month (if not, its figures are zero).
    pub recorded: bool,
    /// First-party Azure consumed revenue (ACR at ERP rate).
    pub acr: Decimal,
    pub third_party_charges: Decimal,
    pub opening_balance: Decimal,
    pub applied: Decimal,
    /// First-party usage above the balance, in the final month only (LEDGER-5);
    /// `null` when `coversAllGrants` is false.
    pub above_aco: Option<Decimal>,
    /// 15% of `aboveAco` in the final month (LEDGER-5); `null` when `coversAllGrants` is false.
    pub pec: Option<Decimal>,
    /// `aboveAco − pec` in the final month, nothing for covered usage, all first-party usage
    /// when no ACO balance applies, plus third-party charges always; `null` when
    /// `coversAllGrants` is false.
    pub invoice_amount: Option<Decimal>,
    pub closing_balance: Decimal,
    /// Whether any ACO balance applied this month.
    pub aco_applies: bool,
    /// `false` when the customer also holds grants the caller may not see (another
    /// partner's): the balances then cover the caller's grants only, and the
    /// invoice figures, which depend on every grant, are left out.
    pub covers_all_grants: bool,
}

impl Plain for ReconciliationMonth {
    fn plain(&self, _: &Plainly<'_>, field: &str, _: &[Key]) -> Option<Value> {
        let money = |m: &Option<Decimal>| m.as_ref().map_or(Value::Null, ScalarType::to_value);
        Some(match field {
            "month" => self.month.to_value(),
            "recorded" => Value::Boolean(self.recorded),
            "acr" => self.acr.to_value(),
            "thirdPartyCharges" => self.third_party_charges.to_value(),
            "openingBalance" => self.opening_balance.to_value(),
            "applied" => self.applied.to_value(),
            "aboveAco" => money(&self.above_aco),
            "pec" => money(&self.pec),
            "invoiceAmount" => money(&self.invoice_amount),
            "closingBalance" => self.closing_balance.to_value(),
            "acoApplies" => Value::Boolean(self.aco_applies),
            "coversAllGrants" => Value::Boolean(self.covers_all_grants),
            _ => return None,
        })
    }
}

/// A grant expected to lapse with an amount left.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct ExpectedLapse {
    pub grant_id: ID,
    /// The last month of its credit period.
    pub month: Month,
    pub amount: Decimal,
}

/// When the balance is expected to run out at the trailing three-month average
/// (over the grants the caller may see).
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct CreditForecast {
    /// The average first-party usage of the last three recorded months.
    pub average_monthly_acr: Decimal,
    pub remaining: Decimal,
    /// The month the balance is expected to reach zero; `null` if some of it lapses first.
    pub exhausted_in: Option<Month>,
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::RECORDS, child_complexity)"
    )]
    pub lapses: Vec<ExpectedLapse>,
}

/// One month's usage as recorded, with its revision (LEDGER-2).
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct MonthlyUsage {
    pub month: Month,
    pub first_party_acr: Decimal,
    pub third_party_charges: Decimal,
    /// 1 for the first recording; each correction adds one.
    pub revision: i64,
    pub recorded_at: DateTime,
    /// Who recorded it (token subject); shown to programme roles only.
    pub recorded_by: Option<String>,
}

fn usage_view(u: UsageRow, show_recorder: bool) -> MonthlyUsage {
    MonthlyUsage {
        month: Month(u.month),
        first_party_acr: Decimal(u.first_party_acr),
        third_party_charges: Decimal(u.third_party_charges),
        revision: u.revision,
        recorded_at: DateTime(u.recorded_at),
        recorded_by: show_recorder.then_some(u.recorded_by),
    }
}

fn sum(values: impl Iterator<Item = rust_decimal::Decimal>) -> Decimal {
    Decimal(money::normalize(values.sum()))
}

fn reconciliation_month(
    row: &Row<ObjectId>,
    recorded: bool,
    visible: &[ObjectId],
    all: bool,
) -> ReconciliationMonth {
    let mine = |list: &[(ObjectId, rust_decimal::Decimal)]| {
        sum(list
            .iter()
            .filter(|(id, _)| visible.contains(id))
            .map(|(_, v)| *v))
    };
    let (opening, applied) = if all {
        (Decimal(row.opening_balance), Decimal(row.applied))
    } else {
        (mine(&row.openings), mine(&row.by_grant))
    };
    ReconciliationMonth {
        month: Month(row.month),
        recorded,
        acr: Decimal(row.first_party),
        third_party_charges: Decimal(row.third_party),
        closing_balance: Decimal(money::normalize(opening.0 - applied.0)),
        opening_balance: opening,
        applied,
        above_aco: all.then_some(Decimal(row.above_aco)),
        pec: all.then_some(Decimal(row.pec)),
        invoice_amount: all.then_some(Decimal(row.invoice_amount)),
        aco_applies: row.aco_applies,
        covers_all_grants: all,
    }
}

/// The longest reconciliation one query may ask for.
pub const MAX_RECONCILIATION_MONTHS: u32 = 60;

/// The customer's grants the caller may see, among all of its `grants`.
fn visible_grants(
    tx: &crate::store::Tx<'_>,
    actor: &crate::domain::actor::Actor,
    customer: &ObjectId,
    grants: &[crate::store::agreements::CreditGrantRow],
) -> Result<Vec<ObjectId>> {
    let scope = authz::grant_scope(actor);
    if scope.is_empty() {
        // A caller who may see every grant (the programme) sees all of them.
        return Ok(grants.iter().map(|g| g.id.clone()).collect());
    }
    let filter = scope.and("g.customer_id = ?", [text(customer.as_str())]);
    crate::store::agreements::grant_ids(tx, &filter)
}

pub(crate) async fn credit_balance(
    ctx: &Context<'_>,
    customer: ObjectId,
) -> async_graphql::Result<CreditBalance> {
    read_as_call(ctx, move |tx, call| {
        let current = credits::customer_ledger(tx, &customer, credits::current_month(call))?;
        let visible = visible_grants(tx, &call.actor, &customer, &current.grants)?;
        let states: Vec<(
            &GrantState<ObjectId>,
            &crate::store::agreements::CreditGrantRow,
        )> = current
            .ledger
            .grants
            .iter()
            .zip(current.grants.iter())
            .filter(|(s, _)| visible.contains(&s.id))
            .collect();
        let left = |s: &GrantState<ObjectId>| {
            if s.status == GrantStatus::Lapsed {
                rust_decimal::Decimal::ZERO
            } else {
                s.remaining
            }
        };
        Ok(CreditBalance {
            granted: sum(states.iter().map(|(s, _)| s.granted)),
            used: sum(states.iter().map(|(s, _)| s.used)),
            remaining: sum(states.iter().map(|(s, _)| left(s))),
            lapsed: sum(states.iter().map(|(s, _)| s.lapsed)),
            currency_code: "USD".into(),
            grants: states
                .iter()
                .map(|(s, row)| GrantBalance {
                    grant: CreditGrant((*row).clone()),
                    granted: Decimal(s.granted),
                    used: Decimal(s.used),
                    remaining: Decimal(money::normalize(left(s))),
                    status: s.status,
                    exhausted_in: s.exhausted_in.map(Month),
                    lapsed_amount: Decimal(s.lapsed),
                })
                .collect(),
        })
    })
    .await
}

pub(crate) async fn reconciliation(
    ctx: &Context<'_>,
    customer: ObjectId,
    from: Month,
    to: Month,
) -> async_graphql::Result<PlainList<ReconciliationMonth>> {
    if to.0 < from.0 {
        return Err(to_gql(
            ctx,
            Error::bad_input(&["to"], "`to` must not be before `from`"),
        ));
    }
    if to.0 > from.0.plus(MAX_RECONCILIATION_MONTHS - 1) {
        return Err(to_gql(
            ctx,
            Error::bad_input(&["to"], "at most 60 months at once"),
        ));
    }
    read_as_call(ctx, move |tx, call| {
        let (grants, usage) = credits::customer_records(tx, &customer)?;
        let visible = visible_grants(tx, &call.actor, &customer, &grants)?;
        let all = grants.iter().all(|g| visible.contains(&g.id));
        let as_of = credits::current_month(call);
        let ledger = credits::ledger_over(&grants, &usage, from.0, to.0, as_of);
        Ok(ledger
            .rows
            .iter()
            .filter(|r| from.0 <= r.month && r.month <= to.0)
            .map(|r| {
                reconciliation_month(r, usage.iter().any(|u| u.month == r.month), &visible, all)
            })
            .collect())
    })
    .await
    .map(PlainList)
}

pub(crate) async fn forecast(
    ctx: &Context<'_>,
    customer: ObjectId,
) -> async_graphql::Result<CreditForecast> {
    read_as_call(ctx, move |tx, call| {
        let as_of = credits::current_month(call);
        let current = credits::customer_ledger(tx, &customer, as_of)?;
        let visible = visible_grants(tx, &call.actor, &customer, &current.grants)?;
        let f = credits::forecast(&current, as_of);
        let mine: Vec<&GrantState<ObjectId>> = f
            .grants
            .iter()
            .filter(|g| visible.contains(&g.id))
            .collect();
        let exhausted_in =
            if !mine.is_empty() && mine.iter().all(|g| g.status == GrantStatus::Exhausted) {
                mine.iter().filter_map(|g| g.exhausted_in).max()
            } else {
                None
            };
        let remaining = current
            .ledger
            .grants
            .iter()
            .filter(|g| g.status == GrantStatus::Active && visible.contains(&g.id))
            .map(|g| g.remaining);
        Ok(CreditForecast {
            average_monthly_acr: Decimal(f.average_monthly_usage),
            remaining: sum(remaining),
            exhausted_in: exhausted_in.map(Month),
            lapses: f
                .lapses
                .into_iter()
                .filter(|(id, _, _)| visible.contains(id))
                .map(|(id, month, amount)| ExpectedLapse {
                    grant_id: ID(id.to_string()),
                    month: Month(month),
                    amount: Decimal(amount),
                })
                .collect(),
        })
    })
    .await
}

pub(crate) async fn usage_history(
    ctx: &Context<'_>,
    customer: ObjectId,
    month: Option<Month>,
) -> async_graphql::Result<Vec<MonthlyUsage>> {
    read_as_call(ctx, move |tx, call| {
        let rows = match month {
            Some(m) => crate::store::usage::history(tx, &customer, m.0)?,
            None => crate::store::usage::all(tx, &customer)?,
        };
        let show = call.actor.is_program();
        Ok(rows.into_iter().map(|u| usage_view(u, show)).collect())
    })
    .await
}

#[derive(InputObject)]
pub struct RecordMonthlyUsageInput {
    pub customer_id: ID,
    pub month: Month,
    /// First-party Azure consumption (ACR at ERP rate), e.g. `"85.00"`.
    pub first_party_acr: Decimal,
    /// Third-party marketplace charges; never covered by ACO.
    pub third_party_charges: Decimal,
}

impl RecordMonthlyUsageInput {
    fn into_report(self) -> Result<UsageReport> {
        for (name, value) in [
            ("firstPartyAcr", self.first_party_acr),
            ("thirdPartyCharges", self.third_party_charges),
        ] {
            if value.0.is_sign_negative() && !value.0.is_zero() {
                return Err(Error::bad_input(
                    &["input", name],
                    format!("`{name}` must not be negative"),
                ));
            }
        }
        Ok(UsageReport {
            customer_id: input_id(&self.customer_id, "customerId", IdKind::Customer)?,
            month: self.month.0,
            first_party_acr: self.first_party_acr.0,
            third_party_charges: self.third_party_charges.0,
        })
    }
}

#[derive(SimpleObject)]
#[graphql(serial)]
pub struct RecordMonthlyUsagePayload {
    pub customer: Option<Customer>,
    pub usage: Option<MonthlyUsage>,
    /// `false` when the same figures were already recorded: nothing changed.
    pub changed: bool,
    /// `true` when earlier figures were corrected (they stay in the history).
    pub corrected: bool,
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::USER_ERRORS, child_complexity)"
    )]
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct CreditsMutation;

#[Object(serial)]
impl CreditsMutation {
    /// LEDGER-2: the customer's transacting partner (or a programme role) records
    /// a month's usage. The same figures again change nothing; other figures are
    /// a correction, and every month from it onward is recomputed.
    async fn record_monthly_usage(
        &self,
        ctx: &Context<'_>,
        input: RecordMonthlyUsageInput,
    ) -> async_graphql::Result<RecordMonthlyUsagePayload> {
        let report = input.into_report().map_err(|e| to_gql(ctx, e))?;
        let outcome = write(ctx, move |tx, call| {
            credits::record_monthly_usage(tx, call, report)
        })
        .await?;
        Ok(match outcome {
            Ok(r) => RecordMonthlyUsagePayload {
                customer: Some(Customer::from(r.customer)),
                usage: Some(usage_view(r.usage, true)),
                changed: r.changed,
                corrected: r.corrected,
                user_errors: Vec::new(),
            },
            Err(user_errors) => RecordMonthlyUsagePayload {
                customer: None,
                usage: None,
                changed: false,
                corrected: false,
                user_errors,
            },
        })
    }
}
