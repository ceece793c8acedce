//! The rule book of DOMAIN.md as plain types and functions: no HTTP, no SQL.
//!
//! The enums derive `async_graphql::Enum` so that the API exposes exactly the
//! domain's values without a second list to keep in step; nothing else here
//! knows about GraphQL.

pub mod actor;
pub mod authorization;
pub mod benefits;
pub mod calendar;
pub mod eligibility;
pub mod ids;
pub mod ledger;
pub mod money;
pub mod sla;
pub mod time;
pub mod validate;
pub mod workflow;

use std::fmt;
use std::str::FromStr;

/// Declares a closed set of values spelled in SCREAMING_SNAKE_CASE, the same in
/// Rust, SQL and GraphQL.
macro_rules! domain_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum)]
        pub enum $name {
            $($(#[$vmeta])* #[graphql(name = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and wire spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue { kind: stringify!($name), value: s.to_owned() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A text that is not one of an enum's values.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{value:?} is not a valid {kind}")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

domain_enum! {
    /// §1: the three kinds of CSP partner.
    PartnerType {
        DirectBill = "DIRECT_BILL",
        IndirectReseller = "INDIRECT_RESELLER",
        IndirectProvider = "INDIRECT_PROVIDER",
    }
}

impl PartnerType {
    /// A transacting partner owns the sale to the customer (§1); an indirect
    /// provider never does.
    pub fn is_transacting(self) -> bool {
        !matches!(self, PartnerType::IndirectProvider)
    }
}

domain_enum! {
    /// §1: the customer's market segment.
    CustomerSegment { Smb = "SMB", Enterprise = "ENTERPRISE" }
}

domain_enum! {
    /// §1: the kind of organisation a customer is.
    OrganizationKind {
        Commercial = "COMMERCIAL",
        NonProfit = "NON_PROFIT",
        Education = "EDUCATION",
        Government = "GOVERNMENT",
    }
}

domain_enum! {
    /// §1: a reseller relationship between a partner and a customer.
    RelationshipStatus { Pending = "PENDING", Active = "ACTIVE", Revoked = "REVOKED" }
}

domain_enum! {
    /// AGR-2: how the customer's acceptance of the MCA was recorded.
    AcceptanceMethod { CustomerAccepted = "CUSTOMER_ACCEPTED", PartnerAttested = "PARTNER_ATTESTED" }
}

domain_enum! {
    /// AGR-6: the life of an ACO agreement.
    AgreementStatus {
        Published = "PUBLISHED",
        Signed = "SIGNED",
        Expired = "EXPIRED",
        Withdrawn = "WITHDRAWN",
    }
}

domain_enum! {
    /// §5: the states of an ACO request.
    AcoRequestStatus {
        Submitted = "SUBMITTED",
        ChannelReview = "CHANNEL_REVIEW",
        FinanceReview = "FINANCE_REVIEW",
        OperationsReview = "OPERATIONS_REVIEW",
        AwaitingSignature = "AWAITING_SIGNATURE",
        Active = "ACTIVE",
        Exhausted = "EXHAUSTED",
        Lapsed = "LAPSED",
        NeedsInfo = "NEEDS_INFO",
        Rejected = "REJECTED",
        Cancelled = "CANCELLED",
    }
}

impl AcoRequestStatus {
    /// ELIG-13: a request in one of these states no longer blocks a new one.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            AcoRequestStatus::Rejected
                | AcoRequestStatus::Cancelled
                | AcoRequestStatus::Active
                | AcoRequestStatus::Exhausted
                | AcoRequestStatus::Lapsed
        )
    }
}

domain_enum! {
    /// ELIG-12: why the customer needs the credit.
    AcoScenario {
        Migration = "MIGRATION",
        NewWorkloadPoc = "NEW_WORKLOAD_POC",
        Adoption = "ADOPTION",
        Competitive = "COMPETITIVE",
    }
}

domain_enum! {
    /// LEDGER-1, 14, 15: the state of a credit grant.
    GrantStatus { Active = "ACTIVE", Exhausted = "EXHAUSTED", Lapsed = "LAPSED" }
}

domain_enum! {
    /// BEN-1: monthly allowance or one bulk amount.
    BenefitCreditKind { Monthly = "MONTHLY", Bulk = "BULK" }
}

domain_enum! {
    /// Where a benefit credit stands on a day (BEN-2, BEN-7).
    BenefitCreditStatus {
        /// Not yet assigned to a user (BEN-2).
        NotActivated = "NOT_ACTIVATED",
        /// Assigned before its start date: nothing is available until
        /// `startsOn`, and usage is refused with `CREDIT_NOT_STARTED` (BEN-2).
        Scheduled = "SCHEDULED",
        Active = "ACTIVE",
        /// Its period is over (BEN-7).
        Ended = "ENDED",
    }
}

domain_enum! {
    /// BEN-8: what a benefit credit may be spent on.
    BenefitPurpose { General = "GENERAL", SecurityCopilot = "SECURITY_COPILOT", Github = "GITHUB" }
}

domain_enum! {
    /// §8: the partner's support plan.
    SupportPlan { None = "NONE", Asfp = "ASFP", Psfp = "PSFP" }
}

domain_enum! {
    /// §1: what a token's role lets its bearer do.
    Role {
        PartnerAdmin = "PARTNER_ADMIN",
        PartnerUser = "PARTNER_USER",
        CustomerSigner = "CUSTOMER_SIGNER",
        Plsr = "PLSR",
        ChannelSales = "CHANNEL_SALES",
        Finance = "FINANCE",
        Operations = "OPERATIONS",
        ProgramAdmin = "PROGRAM_ADMIN",
    }
}

/// Which kind of organisation a role belongs to (§1, API.md "Authentication").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleScope {
    Partner,
    Customer,
    Program,
}

impl Role {
    pub fn scope(self) -> RoleScope {
        match self {
            Role::PartnerAdmin | Role::PartnerUser => RoleScope::Partner,
            Role::CustomerSigner => RoleScope::Customer,
            Role::Plsr
            | Role::ChannelSales
            | Role::Finance
            | Role::Operations
            | Role::ProgramAdmin => RoleScope::Program,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_text_round_trips() {
        for s in AcoRequestStatus::ALL {
            assert_eq!(s.as_str().parse::<AcoRequestStatus>().unwrap(), *s);
        }
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), *r);
        }
        assert!("direct_bill".parse::<PartnerType>().is_err());
    }

    #[test]
    fn elig_13_finished_states() {
        let finished: Vec<_> = AcoRequestStatus::ALL
            .iter()
            .filter(|s| s.is_finished())
            .map(|s| s.as_str())
            .collect();
        assert_eq!(
            finished,
            ["ACTIVE", "EXHAUSTED", "LAPSED", "REJECTED", "CANCELLED"]
        );
    }

    #[test]
    fn role_scopes() {
        assert_eq!(Role::PartnerUser.scope(), RoleScope::Partner);
        assert_eq!(Role::CustomerSigner.scope(), RoleScope::Customer);
        assert_eq!(Role::Finance.scope(), RoleScope::Program);
    }
}

/// A postal address (Partner Center's `defaultAddress`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

impl Address {
    /// ELIG-4: line 1, city, state, postal code and country are all present.
    pub fn is_complete(&self) -> bool {
        [
            &self.address_line1,
            &self.city,
            &self.state,
            &self.postal_code,
            &self.country,
        ]
        .iter()
        .all(|f| f.as_deref().is_some_and(|v| !v.trim().is_empty()))
    }
}

/// A person to contact (Partner Center's `primaryContact`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone_number: Option<String>,
}

/// A customer's billing profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BillingProfile {
    pub legal_name: Option<String>,
    pub tax_id: Option<String>,
    pub registration_number: Option<String>,
    pub email: Option<String>,
    pub address: Address,
}

impl BillingProfile {
    /// ELIG-4: legal name, tax id, registration number and a complete address.
    pub fn is_complete(&self) -> bool {
        [&self.legal_name, &self.tax_id, &self.registration_number]
            .iter()
            .all(|f| f.as_deref().is_some_and(|v| !v.trim().is_empty()))
            && self.address.is_complete()
    }
}

// The macro above declares the enums; a default for this one is written here.
#[allow(clippy::derivable_impls)]
impl Default for SupportPlan {
    fn default() -> Self {
        SupportPlan::None
    }
}
