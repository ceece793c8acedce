//! The ACO credit ledger (DOMAIN §6) as pure functions over grants and usage.
//!
//! Nothing here is stored: the ledger is recomputed from the grants and the
//! monthly usage whenever they change (a correction recomputes every later
//! month, LEDGER-2) and whenever it is read.

use rust_decimal::{Decimal, RoundingStrategy};

use super::GrantStatus;
use super::time::Month;

/// LEDGER-5: the flat PEC rate on first-party usage above the balance in the final month.
pub const PEC_RATE: Decimal = Decimal::from_parts(15, 0, 0, false, 2);

/// A credit granted by a signed agreement (LEDGER-1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant<Id> {
    pub id: Id,
    pub amount: Decimal,
    pub first_month: Month,
    pub last_month: Month,
}

/// One month's usage as partners report it (LEDGER-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub month: Month,
    /// First-party Azure consumption (ACR at ERP rate).
    pub first_party: Decimal,
    /// Third-party marketplace charges: never covered by ACO (LEDGER-3).
    pub third_party: Decimal,
}

/// One month of the reconciliation (LEDGER-8), for the customer as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row<Id> {
    pub month: Month,
    pub first_party: Decimal,
    pub third_party: Decimal,
    /// The balance of every grant usable this month, before this month's usage.
    pub opening_balance: Decimal,
    pub applied: Decimal,
    /// First-party usage above the balance, in the final month only (LEDGER-5).
    pub above_aco: Decimal,
    pub pec: Decimal,
    /// What is invoiced: `above − PEC` in the final month, nothing for covered
    /// usage (LEDGER-4), all first-party usage when no ACO balance applies, plus
    /// third-party charges always.
    pub invoice_amount: Decimal,
    pub closing_balance: Decimal,
    /// Whether any ACO balance applied this month.
    pub aco_applies: bool,
    /// How much each grant gave, in the order they were consumed (LEDGER-6).
    pub by_grant: Vec<(Id, Decimal)>,
    /// The opening balance of each grant usable this month.
    pub openings: Vec<(Id, Decimal)>,
}

/// Where a grant stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantState<Id> {
    pub id: Id,
    pub granted: Decimal,
    pub used: Decimal,
    pub remaining: Decimal,
    pub status: GrantStatus,
    /// The month the balance reached zero.
    pub exhausted_in: Option<Month>,
    /// What lapsed at the end of the credit period (FLOW-15).
    pub lapsed: Decimal,
}

impl<Id> GrantState<Id> {
    /// What is left to use: nothing once the grant has lapsed (FLOW-15),
    /// whatever its balance was when its period ended.
    pub fn left(&self) -> Decimal {
        if self.status == GrantStatus::Lapsed {
            Decimal::ZERO
        } else {
            self.remaining
        }
    }
}

/// The ledger of one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ledger<Id> {
    pub rows: Vec<Row<Id>>,
    pub grants: Vec<GrantState<Id>>,
}

fn cents(value: Decimal) -> Decimal {
    let mut v = value.round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven);
    v.rescale(2);
    v
}

/// Runs the ledger over `usage` (any order, one entry per month), with the
/// credit period judged as of the month `as_of` (a grant lapses once its last
/// month is before `as_of` with a balance left).
pub fn run<Id: Clone + PartialEq>(
    grants: &[Grant<Id>],
    usage: &[Usage],
    as_of: Month,
) -> Ledger<Id> {
    let mut usage: Vec<Usage> = usage.to_vec();
    usage.sort_by_key(|u| u.month);
    // LEDGER-6: the grant that ends first is consumed first.
    let mut order: Vec<usize> = (0..grants.len()).collect();
    order.sort_by_key(|&i| (grants[i].last_month, grants[i].first_month));
    let mut remaining: Vec<Decimal> = grants.iter().map(|g| cents(g.amount)).collect();
    let mut exhausted_in: Vec<Option<Month>> = vec![None; grants.len()];
    let mut rows = Vec::with_capacity(usage.len());

    for u in &usage {
        let usable: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&i| {
                grants[i].first_month <= u.month
                    && u.month <= grants[i].last_month
                    && remaining[i] > Decimal::ZERO
            })
            .collect();
        let openings: Vec<(Id, Decimal)> = usable
            .iter()
            .map(|&i| (grants[i].id.clone(), remaining[i]))
            .collect();
        let opening = cents(usable.iter().map(|&i| remaining[i]).sum());
        let first_party = cents(u.first_party);
        let third_party = cents(u.third_party);
        // LEDGER-3: credits apply first, and only to first-party usage.
        let applied = opening.min(first_party);
        let mut left = applied;
        let mut by_grant = Vec::new();
        for &i in &usable {
            if left.is_zero() {
                break;
            }
            let take = left.min(remaining[i]);
            remaining[i] -= take;
            left -= take;
            by_grant.push((grants[i].id.clone(), take));
            if remaining[i].is_zero() {
                exhausted_in[i] = Some(u.month);
            }
        }
        let closing = opening - applied;
        let aco_applies = opening > Decimal::ZERO;
        // LEDGER-5: only in the final month does usage above the balance earn the flat PEC.
        let (above, pec, invoice) = if aco_applies {
            let above = first_party - applied;
            let pec = cents(above * PEC_RATE);
            (above, pec, above - pec)
        } else {
            (Decimal::ZERO, Decimal::ZERO, first_party)
        };
        rows.push(Row {
            month: u.month,
            first_party,
            third_party,
            opening_balance: opening,
            applied,
            above_aco: above,
            pec,
            invoice_amount: cents(invoice + third_party),
            closing_balance: closing,
            aco_applies,
            by_grant,
            openings,
        });
    }

    let states = grants
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let granted = cents(g.amount);
            let status = if remaining[i].is_zero() {
                GrantStatus::Exhausted
            } else if g.last_month < as_of {
                GrantStatus::Lapsed
            } else {
                GrantStatus::Active
            };
            GrantState {
                id: g.id.clone(),
                granted,
                used: granted - remaining[i],
                remaining: remaining[i],
                status,
                exhausted_in: exhausted_in[i],
                lapsed: if status == GrantStatus::Lapsed {
                    remaining[i]
                } else {
                    Decimal::ZERO
                },
            }
        })
        .collect();
    Ledger {
        rows,
        grants: states,
    }
}

/// When the balance is expected to run out, at the trailing three-month average.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forecast<Id> {
    /// The average first-party usage of the last three recorded months.
    pub average_monthly_usage: Decimal,
    /// The month the whole balance is expected to reach zero, if it does before lapsing.
    pub exhausted_in: Option<Month>,
    /// Grants expected to lapse with an amount left: (grant, last month, amount).
    pub lapses: Vec<(Id, Month, Decimal)>,
    /// Each grant as projected.
    pub grants: Vec<GrantState<Id>>,
}

/// Projects the ledger forward from the month after the last recorded one,
/// consuming the trailing three-month average each month.
pub fn forecast<Id: Clone + PartialEq>(
    grants: &[Grant<Id>],
    usage: &[Usage],
    as_of: Month,
) -> Forecast<Id> {
    let mut recorded: Vec<Usage> = usage.to_vec();
    recorded.sort_by_key(|u| u.month);
    let window: Vec<Decimal> = recorded
        .iter()
        .rev()
        .take(3)
        .map(|u| u.first_party)
        .collect();
    let average = if window.is_empty() {
        Decimal::ZERO
    } else {
        cents(window.iter().copied().sum::<Decimal>() / Decimal::from(window.len()))
    };
    let start = recorded.last().map(|u| u.month.plus(1)).unwrap_or(as_of);
    let end = grants.iter().map(|g| g.last_month).max().unwrap_or(start);
    let mut projected = recorded.clone();
    let mut month = start;
    while month <= end {
        projected.push(Usage {
            month,
            first_party: average,
            third_party: Decimal::ZERO,
        });
        month = month.plus(1);
    }
    let ledger = run(grants, &projected, end.plus(1));
    // The balance runs out when every grant is exhausted; otherwise some of it lapses.
    let exhausted_in = if ledger
        .grants
        .iter()
        .all(|g| g.status == GrantStatus::Exhausted)
    {
        ledger.grants.iter().filter_map(|g| g.exhausted_in).max()
    } else {
        None
    };
    let lapses = ledger
        .grants
        .iter()
        .zip(grants)
        .filter(|(s, _)| s.status == GrantStatus::Lapsed)
        .map(|(s, g)| (s.id.clone(), g.last_month, s.lapsed))
        .collect();
    Forecast {
        average_monthly_usage: average,
        exhausted_in,
        lapses,
        grants: ledger.grants,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Month {
        s.parse().unwrap()
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn usage(month: &str, first_party: &str) -> Usage {
        Usage {
            month: m(month),
            first_party: d(first_party),
            third_party: Decimal::ZERO,
        }
    }

    fn grant(id: u32, amount: &str, first: &str, last: &str) -> Grant<u32> {
        Grant {
            id,
            amount: d(amount),
            first_month: m(first),
            last_month: m(last),
        }
    }

    #[test]
    fn ledger_the_worked_example_of_the_programme_guide() {
        let grants = [grant(1, "500.00", "2027-01", "2027-12")];
        let months = [
            "2027-01", "2027-02", "2027-03", "2027-04", "2027-05", "2027-06",
        ];
        let acr = ["75.00", "85.00", "90.00", "112.00", "85.00", "100.00"];
        let recorded: Vec<Usage> = months.iter().zip(acr).map(|(mo, a)| usage(mo, a)).collect();
        let ledger = run(&grants, &recorded, m("2027-07"));
        let column = |f: fn(&Row<u32>) -> Decimal| {
            ledger
                .rows
                .iter()
                .map(f)
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            column(|r| r.opening_balance),
            ["500.00", "425.00", "340.00", "250.00", "138.00", "53.00"]
        );
        assert_eq!(
            column(|r| r.above_aco),
            ["0.00", "0.00", "0.00", "0.00", "0.00", "47.00"]
        );
        assert_eq!(
            column(|r| r.pec),
            ["0.00", "0.00", "0.00", "0.00", "0.00", "7.05"]
        );
        assert_eq!(
            column(|r| r.invoice_amount),
            ["0.00", "0.00", "0.00", "0.00", "0.00", "39.95"]
        );
        assert_eq!(
            column(|r| r.closing_balance),
            ["425.00", "340.00", "250.00", "138.00", "53.00", "0.00"]
        );
        assert_eq!(ledger.grants[0].status, GrantStatus::Exhausted);
        assert_eq!(ledger.grants[0].exhausted_in, Some(m("2027-06")));
    }

    #[test]
    fn ledger_3_third_party_charges_are_never_covered() {
        let grants = [grant(1, "500.00", "2027-01", "2027-12")];
        let recorded = [Usage {
            month: m("2027-01"),
            first_party: d("100.00"),
            third_party: d("40.00"),
        }];
        let row = &run(&grants, &recorded, m("2027-02")).rows[0];
        assert_eq!(
            (row.applied, row.closing_balance, row.invoice_amount),
            (d("100.00"), d("400.00"), d("40.00"))
        );
    }

    #[test]
    fn ledger_5_pec_rounds_half_to_even() {
        // 0.15 × 0.70 = 0.105 → 0.10 (half to even); 0.15 × 0.30 = 0.045 → 0.04.
        for (acr, pec) in [("10.70", "0.10"), ("10.30", "0.04")] {
            let grants = [grant(1, "10.00", "2027-01", "2027-12")];
            let row = &run(&grants, &[usage("2027-01", acr)], m("2027-02")).rows[0];
            assert_eq!(row.pec.to_string(), pec, "{acr}");
        }
    }

    #[test]
    fn ledger_6_the_grant_that_ends_first_is_consumed_first() {
        let grants = [
            grant(1, "300.00", "2027-01", "2027-12"),
            grant(2, "200.00", "2027-02", "2027-06"),
        ];
        let ledger = run(
            &grants,
            &[
                usage("2027-01", "50.00"),
                usage("2027-02", "250.00"),
                usage("2027-03", "260.00"),
            ],
            m("2027-04"),
        );
        assert_eq!(
            ledger.rows[1].by_grant,
            vec![(2, d("200.00")), (1, d("50.00"))]
        );
        assert_eq!(ledger.rows[2].opening_balance, d("200.00"));
        assert_eq!(ledger.rows[2].above_aco, d("60.00"));
        assert!(
            ledger
                .grants
                .iter()
                .all(|g| g.status == GrantStatus::Exhausted)
        );
    }

    #[test]
    fn flow_15_a_balance_left_after_the_period_lapses() {
        let grants = [grant(1, "500.00", "2027-01", "2027-03")];
        let recorded = [usage("2027-01", "100.00"), usage("2027-04", "100.00")];
        let ledger = run(&grants, &recorded, m("2027-03"));
        assert_eq!(ledger.grants[0].status, GrantStatus::Active);
        let ledger = run(&grants, &recorded, m("2027-04"));
        assert_eq!(
            (ledger.grants[0].status, ledger.grants[0].lapsed),
            (GrantStatus::Lapsed, d("400.00"))
        );
        assert!(
            !ledger.rows[1].aco_applies,
            "months after the period are not charged to it"
        );
        assert_eq!(ledger.rows[1].invoice_amount, d("100.00"));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn money() -> impl Strategy<Value = Decimal> {
            (0i64..2_000_000).prop_map(|c| Decimal::new(c, 2))
        }

        fn grants() -> impl Strategy<Value = Vec<Grant<u32>>> {
            prop::collection::vec((money(), 0u32..24, 1u32..24), 0..4).prop_map(|gs| {
                gs.into_iter()
                    .enumerate()
                    .map(|(i, (amount, start, len))| {
                        let first = m("2027-01").plus(start);
                        Grant {
                            id: i as u32,
                            amount,
                            first_month: first,
                            last_month: first.plus(len - 1),
                        }
                    })
                    .collect()
            })
        }

        fn usage_months() -> impl Strategy<Value = Vec<Usage>> {
            prop::collection::btree_map(0u32..48, (money(), money()), 0..30).prop_map(|months| {
                months
                    .into_iter()
                    .map(|(offset, (first_party, third_party))| Usage {
                        month: m("2027-01").plus(offset),
                        first_party,
                        third_party,
                    })
                    .collect()
            })
        }

        proptest! {
            /// LEDGER-7: for any grants and usage the ledger adds up and no balance leaves [0, granted].
            #[test]
            fn ledger_7_always_adds_up(grants in grants(), usage in usage_months(), as_of in 0u32..60) {
                let ledger = run(&grants, &usage, m("2027-01").plus(as_of));
                for g in &ledger.grants {
                    prop_assert!(g.remaining >= Decimal::ZERO && g.remaining <= g.granted);
                    prop_assert_eq!(g.used + g.remaining, g.granted);
                    let applied: Decimal = ledger.rows.iter().flat_map(|r| &r.by_grant).filter(|(id, _)| *id == g.id).map(|(_, a)| *a).sum();
                    prop_assert_eq!(applied, g.used);
                }
                for r in &ledger.rows {
                    prop_assert_eq!(r.opening_balance - r.applied, r.closing_balance);
                    prop_assert!(r.applied <= r.first_party && r.closing_balance >= Decimal::ZERO);
                    prop_assert_eq!(r.by_grant.iter().map(|(_, a)| *a).sum::<Decimal>(), r.applied);
                    prop_assert_eq!(r.invoice_amount, r.first_party - r.applied - r.pec + r.third_party);
                    prop_assert!(r.above_aco.is_zero() || r.closing_balance.is_zero(), "usage above the balance only in the final month");
                    prop_assert_eq!(r.applied.scale(), 2);
                }
                let total_applied: Decimal = ledger.rows.iter().map(|r| r.applied).sum();
                let total_used: Decimal = ledger.grants.iter().map(|g| g.used).sum();
                prop_assert_eq!(total_applied, total_used);
            }
        }
    }

    #[test]
    fn forecast_runs_out_or_lapses() {
        let grants = [grant(1, "500.00", "2027-01", "2027-12")];
        let steady = [
            usage("2027-01", "100.00"),
            usage("2027-02", "100.00"),
            usage("2027-03", "100.00"),
        ];
        let f = forecast(&grants, &steady, m("2027-04"));
        assert_eq!(
            (f.average_monthly_usage, f.exhausted_in, f.lapses.len()),
            (d("100.00"), Some(m("2027-05")), 0)
        );
        let slow = [
            usage("2027-01", "10.00"),
            usage("2027-02", "20.00"),
            usage("2027-03", "30.00"),
        ];
        let f = forecast(&grants, &slow, m("2027-04"));
        assert_eq!(f.exhausted_in, None);
        assert_eq!(f.lapses, vec![(1, m("2027-12"), d("260.00"))]);
    }
}
