//! ACO credit balances, reconciliation, forecasts and usage recording (DOMAIN §6).

use async_graphql::{Context, ID, InputObject, Object, ScalarType, SimpleObject, Value};

use super::aco::CreditGrant;
use super::input::input_id;
use super::plain::{PlainContext, PlainFields, PlainList, SelectedField};
use super::scalars::{DateTime, Decimal, Month};
use super::types::{Customer, Partner};
use super::{read_as_call, to_gql, write};
use crate::domain::ids::{IdKind, ObjectId};
use crate::domain::ledger::{GrantState, Row};
use crate::domain::{GrantStatus, money};
use crate::error::{Error, Result, UserError};
use crate::service::credits::{self, PartnerLedger, UsageReport};
use crate::store::partners::PartnerRow;
use crate::store::usage::UsageRow;

/// One grant's standing (LEDGER-7: used + remaining = granted).
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct GrantBalance {
    /// The credit grant (LEDGER-1).
    pub grant: CreditGrant,
    /// The amount granted at signing (the ACO amount), a USD `Decimal`.
    pub granted: Decimal,
    /// What has been applied to first-party usage so far (LEDGER-3), a USD `Decimal`.
    pub used: Decimal,
    /// What is left to use, a USD `Decimal`; zero once the grant has lapsed (FLOW-15).
    pub remaining: Decimal,
    /// As of the current month: `ACTIVE`, `EXHAUSTED` (the balance reached zero,
    /// FLOW-14) or `LAPSED` (its credit period ended with a balance left, FLOW-15).
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
    /// The total granted, a USD `Decimal`.
    pub granted: Decimal,
    /// The total applied to first-party usage so far (LEDGER-3), a USD `Decimal`.
    pub used: Decimal,
    /// The total left to use, a USD `Decimal`; lapsed grants count as zero.
    pub remaining: Decimal,
    /// The total that lapsed unused at the end of credit periods (FLOW-15), a USD `Decimal`.
    pub lapsed: Decimal,
    /// The currency of every amount: always `USD`.
    pub currency_code: String,
    /// Each grant's standing, over the grants the caller may see.
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::RECORDS, child_complexity)"
    )]
    pub grants: Vec<GrantBalance>,
}

/// One month of one partner's ledger of the customer (LEDGER-8, LEDGER-2).
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct ReconciliationMonth {
    /// The calendar month, `YYYY-MM`.
    pub month: Month,
    /// The transacting partner whose usage and grants these are.
    pub partner_id: ID,
    /// That partner, if the caller may see it.
    pub partner: Option<Partner>,
    /// Whether usage was recorded for the month (if not, its figures are zero).
    pub recorded: bool,
    /// First-party Azure consumed revenue (ACR at ERP rate).
    pub acr: Decimal,
    /// Third-party marketplace charges billed through the partner; never covered by ACO (LEDGER-3).
    pub third_party_charges: Decimal,
    /// The balance of every grant usable this month, before this month's usage.
    pub opening_balance: Decimal,
    /// The ACO credit applied: the smaller of the opening balance and `acr` (LEDGER-3).
    pub applied: Decimal,
    /// First-party usage above the balance, in the final month only (LEDGER-5).
    pub above_aco: Option<Decimal>,
    /// 15% of `aboveAco` in the final month (LEDGER-5).
    pub pec: Option<Decimal>,
    /// `aboveAco − pec` in the final month, nothing for covered usage, all first-party usage
    /// when no ACO balance applies, plus third-party charges always.
    pub invoice_amount: Option<Decimal>,
    /// The balance left after this month: `openingBalance − applied`.
    pub closing_balance: Decimal,
    /// Whether any ACO balance applied this month.
    pub aco_applies: bool,
    /// Always `true`: each month is one partner's ledger, which covers every
    /// grant of that partner.
    #[graphql(deprecation = "each month is one partner's ledger (LEDGER-2): always true")]
    pub covers_all_grants: bool,
}

impl PlainFields for ReconciliationMonth {
    fn plain(&self, on: &PlainContext<'_>, field: &str, below: &[SelectedField]) -> Option<Value> {
        let money = |m: &Option<Decimal>| m.as_ref().map_or(Value::Null, ScalarType::to_value);
        Some(match field {
            "month" => self.month.to_value(),
            "partnerId" => Value::String(self.partner_id.to_string()),
            "partner" => super::plain::nullable(on, self.partner.as_ref(), below)?,
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
    /// The id of the credit grant expected to lapse.
    pub grant_id: ID,
    /// The last month of its credit period.
    pub month: Month,
    /// The amount expected to be left, and lapse, when its credit period ends (FLOW-15).
    pub amount: Decimal,
}

/// When the balance is expected to run out at the trailing three-month average
/// (over the grants the caller may see).
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct CreditForecast {
    /// The average first-party usage of the last three recorded months.
    pub average_monthly_acr: Decimal,
    /// What is left to use now, a USD `Decimal`; lapsed grants count as zero.
    pub remaining: Decimal,
    /// The month the balance is expected to reach zero; `null` if some of it lapses first.
    pub exhausted_in: Option<Month>,
    /// The grants expected to lapse with an amount left, at that average.
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::RECORDS, child_complexity)"
    )]
    pub lapses: Vec<ExpectedLapse>,
}

/// One month's usage of one transacting partner as recorded, with its
/// revision (LEDGER-2).
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct MonthlyUsage {
    /// The calendar month of the usage, `YYYY-MM`.
    pub month: Month,
    /// The partner whose usage it is; `null` only for figures recorded before
    /// usage was kept per partner that could not be attributed to one.
    pub partner_id: Option<ID>,
    /// That partner, if the caller may see it.
    pub partner: Option<Partner>,
    /// First-party Azure consumption (ACR at ERP rate), a USD `Decimal`.
    pub first_party_acr: Decimal,
    /// Third-party marketplace charges billed through the partner; never covered by ACO (LEDGER-3).
    pub third_party_charges: Decimal,
    /// 1 for the first recording; each correction adds one.
    pub revision: i64,
    /// When this revision was recorded.
    pub recorded_at: DateTime,
    /// Who recorded it (token subject); shown to programme roles only.
    pub recorded_by: Option<String>,
}

fn usage_view(u: UsageRow, partner: Option<PartnerRow>, show_recorder: bool) -> MonthlyUsage {
    MonthlyUsage {
        month: Month(u.month),
        partner_id: u.partner_id.map(|id| ID(id.to_string())),
        partner: partner.map(Partner::from),
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
    partner: &PartnerLedger,
) -> ReconciliationMonth {
    ReconciliationMonth {
        month: Month(row.month),
        partner_id: ID(partner.partner_id.to_string()),
        partner: partner.partner.clone().map(Partner::from),
        recorded,
        acr: Decimal(row.first_party),
        third_party_charges: Decimal(row.third_party),
        opening_balance: Decimal(row.opening_balance),
        applied: Decimal(row.applied),
        closing_balance: Decimal(row.closing_balance),
        above_aco: Some(Decimal(row.above_aco)),
        pec: Some(Decimal(row.pec)),
        invoice_amount: Some(Decimal(row.invoice_amount)),
        aco_applies: row.aco_applies,
        covers_all_grants: true,
    }
}

/// The longest reconciliation one query may ask for.
pub const MAX_RECONCILIATION_MONTHS: u32 = 60;

pub(crate) async fn credit_balance(
    ctx: &Context<'_>,
    customer: ObjectId,
) -> async_graphql::Result<CreditBalance> {
    read_as_call(ctx, move |tx, call| {
        let as_of = credits::current_month(call);
        let ledgers = credits::partner_ledgers(tx, &call.actor, &customer, as_of, None)?;
        let states: Vec<(
            &GrantState<ObjectId>,
            &crate::store::agreements::CreditGrantRow,
        )> = ledgers
            .iter()
            .flat_map(|l| l.ledger.grants.iter().zip(l.grants.iter()))
            .collect();
        Ok(CreditBalance {
            granted: sum(states.iter().map(|(s, _)| s.granted)),
            used: sum(states.iter().map(|(s, _)| s.used)),
            remaining: sum(states.iter().map(|(s, _)| s.left())),
            lapsed: sum(states.iter().map(|(s, _)| s.lapsed)),
            currency_code: "USD".into(),
            grants: states
                .iter()
                .map(|(s, row)| GrantBalance {
                    grant: CreditGrant((*row).clone()),
                    granted: Decimal(s.granted),
                    used: Decimal(s.used),
                    remaining: Decimal(money::normalize(s.left())),
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
    partner: Option<ID>,
) -> async_graphql::Result<PlainList<ReconciliationMonth>> {
    let partner = partner
        .map(|id| input_id(&id, "partnerId", IdKind::Partner))
        .transpose()
        .map_err(|e| to_gql(ctx, e))?;
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
        let as_of = credits::current_month(call);
        let ledgers =
            credits::partner_ledgers(tx, &call.actor, &customer, as_of, Some((from.0, to.0)))?;
        let mut months: Vec<ReconciliationMonth> = ledgers
            .iter()
            .filter(|l| partner.as_ref().is_none_or(|p| *p == l.partner_id))
            .flat_map(|l| {
                l.ledger
                    .rows
                    .iter()
                    .filter(|r| from.0 <= r.month && r.month <= to.0)
                    .map(move |r| {
                        reconciliation_month(r, l.usage.iter().any(|u| u.month == r.month), l)
                    })
            })
            .collect();
        // By month, then partner (the ledgers come by partner).
        months.sort_by_key(|m| m.month.0);
        Ok(months)
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
        let ledgers = credits::partner_ledgers(tx, &call.actor, &customer, as_of, None)?;
        // Each partner's grants run out on its own usage (LEDGER-2); the
        // customer's figures are their sums.
        let forecasts: Vec<_> = ledgers
            .iter()
            .map(|l| (l, credits::forecast(l, as_of)))
            .collect();
        let states: Vec<&GrantState<ObjectId>> = forecasts
            .iter()
            .flat_map(|(_, f)| f.grants.iter())
            .collect();
        let exhausted_in =
            if !states.is_empty() && states.iter().all(|g| g.status == GrantStatus::Exhausted) {
                states.iter().filter_map(|g| g.exhausted_in).max()
            } else {
                None
            };
        let remaining = ledgers
            .iter()
            .flat_map(|l| l.ledger.grants.iter())
            .map(GrantState::left);
        Ok(CreditForecast {
            average_monthly_acr: sum(forecasts.iter().map(|(_, f)| f.average_monthly_usage)),
            remaining: sum(remaining),
            exhausted_in: exhausted_in.map(Month),
            lapses: forecasts
                .into_iter()
                .flat_map(|(_, f)| f.lapses)
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
        let rows = credits::visible_usage(tx, &call.actor, &customer, month.map(|m| m.0))?;
        let show = call.actor.is_program();
        Ok(rows
            .into_iter()
            .map(|(u, partner)| usage_view(u, partner, show))
            .collect())
    })
    .await
}

/// One calendar month's usage of a customer through one transacting partner (LEDGER-2).
#[derive(InputObject)]
pub struct RecordMonthlyUsageInput {
    /// The customer whose usage this is.
    pub customer_id: ID,
    /// The transacting partner whose usage this is: required from `FINANCE`,
    /// `OPERATIONS` and `PROGRAM_ADMIN`, who record on its behalf; refused
    /// from a partner, which records its own (LEDGER-2).
    pub partner_id: Option<ID>,
    /// The calendar month, `YYYY-MM`; a month that has not begun yet is refused
    /// (`MONTH_IN_FUTURE`).
    pub month: Month,
    /// First-party Azure consumption (ACR at ERP rate), e.g. `"85.00"`.
    pub first_party_acr: Decimal,
    /// Third-party marketplace charges; never covered by ACO.
    pub third_party_charges: Decimal,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
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
            partner_id: self
                .partner_id
                .as_ref()
                .map(|id| input_id(id, "partnerId", IdKind::Partner))
                .transpose()?,
            month: self.month.0,
            first_party_acr: self.first_party_acr.0,
            third_party_charges: self.third_party_charges.0,
        })
    }
}

/// The result of recording a month's usage (LEDGER-2).
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct RecordMonthlyUsagePayload {
    /// The customer; `null` when the recording was refused.
    pub customer: Option<Customer>,
    /// The month's usage as recorded now (or already, when nothing changed);
    /// `null` when the recording was refused.
    pub usage: Option<MonthlyUsage>,
    /// `false` when the same figures were already recorded: nothing changed.
    pub changed: bool,
    /// `true` when earlier figures were corrected (they stay in the history).
    pub corrected: bool,
    /// The input's `clientMutationId`, echoed back.
    pub client_mutation_id: Option<String>,
    /// Why the recording was refused, all at once; empty on success. With user errors nothing changed.
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::USER_ERRORS, child_complexity)"
    )]
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct CreditsMutation;

#[Object(serial)]
impl CreditsMutation {
    /// LEDGER-2: a transacting partner's `PARTNER_ADMIN` or `PARTNER_USER`
    /// records its month's usage of a customer; `FINANCE`, `OPERATIONS` and
    /// `PROGRAM_ADMIN` record or correct it on a named partner's behalf
    /// (`partnerId`). It consumes only that partner's grants. The same figures
    /// again change nothing; other figures are a correction, and every month
    /// from it onward is recomputed.
    async fn record_monthly_usage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer, month and figures to record.")]
        input: RecordMonthlyUsageInput,
    ) -> async_graphql::Result<RecordMonthlyUsagePayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let report = input.into_report().map_err(|e| to_gql(ctx, e))?;
        let outcome = write(ctx, move |tx, call| {
            credits::record_monthly_usage(tx, call, report)
        })
        .await?;
        Ok(match outcome {
            Ok(r) => RecordMonthlyUsagePayload {
                client_mutation_id: client_mutation_id.clone(),
                customer: Some(Customer::from(r.customer)),
                usage: Some(usage_view(r.usage, Some(r.partner), true)),
                changed: r.changed,
                corrected: r.corrected,
                user_errors: Vec::new(),
            },
            Err(user_errors) => RecordMonthlyUsagePayload {
                client_mutation_id: client_mutation_id.clone(),
                customer: None,
                usage: None,
                changed: false,
                corrected: false,
                user_errors,
            },
        })
    }
}
