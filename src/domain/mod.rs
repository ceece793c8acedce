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
        /// Buys from Microsoft directly and owns the customer relationship end
        /// to end; a transacting partner (§1).
        DirectBill = "DIRECT_BILL",
        /// Sells to customers through one or more linked indirect providers; a
        /// transacting partner (§1).
        IndirectReseller = "INDIRECT_RESELLER",
        /// A distributor that enables indirect resellers; never the
        /// transacting partner and never submits an ACO request (ROLE-1).
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
    CustomerSegment {
        /// Small and medium business; the only segment eligible for ACO (ELIG-2).
        Smb = "SMB",
        /// Enterprise; not eligible for ACO (ELIG-2).
        Enterprise = "ENTERPRISE",
    }
}

domain_enum! {
    /// §1: the kind of organisation a customer is.
    OrganizationKind {
        /// A commercial organisation; the only kind eligible for ACO (ELIG-3).
        Commercial = "COMMERCIAL",
        /// A non-profit organisation; not eligible for ACO (ELIG-3).
        NonProfit = "NON_PROFIT",
        /// An education institution; not eligible for ACO (ELIG-3).
        Education = "EDUCATION",
        /// A government body; not eligible for ACO (ELIG-3).
        Government = "GOVERNMENT",
    }
}

domain_enum! {
    /// §1: a reseller relationship between a partner and a customer.
    RelationshipStatus {
        /// Requested by the partner and not yet accepted by the customer's
        /// signer or a programme admin.
        Pending = "PENDING",
        /// In force: the partner sees and acts for the customer (ELIG-8, ROLE-3).
        Active = "ACTIVE",
        /// Revoked by the partner, the customer or a programme admin; the
        /// partner no longer sees or acts for the customer.
        Revoked = "REVOKED",
    }
}

domain_enum! {
    /// AGR-2: how the customer's acceptance of the MCA was recorded.
    AcceptanceMethod {
        /// The customer accepted the MCA itself (AGR-2).
        CustomerAccepted = "CUSTOMER_ACCEPTED",
        /// The partner attests that the customer accepted the MCA (AGR-2).
        PartnerAttested = "PARTNER_ATTESTED",
    }
}

domain_enum! {
    /// AGR-6: the life of an ACO agreement.
    AgreementStatus {
        /// Published to the customer's signer and waiting to be signed before
        /// the end of its month of publication (AGR-3, AGR-4).
        Published = "PUBLISHED",
        /// Signed by the customer's signer; the credit is granted (FLOW-10,
        /// LEDGER-1).
        Signed = "SIGNED",
        /// Not signed before its deadline; the request went back to finance
        /// review (AGR-4, AGR-5, FLOW-11).
        Expired = "EXPIRED",
        /// Withdrawn by Operations to change it; the request went back to
        /// finance review (AGR-6, FLOW-12).
        Withdrawn = "WITHDRAWN",
    }
}

domain_enum! {
    /// §5: the states of an ACO request.
    AcoRequestStatus {
        /// Submitted by the partner and waiting for the PLSR's quality and
        /// compliance check (FLOW-1, FLOW-2).
        Submitted = "SUBMITTED",
        /// Passed the PLSR check; waiting for the channel sales manager to
        /// support or reject the deal (FLOW-2, FLOW-7).
        ChannelReview = "CHANNEL_REVIEW",
        /// Waiting for Finance to approve or reject (FLOW-7, FLOW-8); also
        /// where an expired or withdrawn agreement sends the request back
        /// (FLOW-11, FLOW-12).
        FinanceReview = "FINANCE_REVIEW",
        /// Approved by Finance; waiting for Operations to create and publish
        /// the ACO agreement (FLOW-8, FLOW-9).
        OperationsReview = "OPERATIONS_REVIEW",
        /// The ACO agreement is published; waiting for the customer's signer
        /// to sign before the deadline (FLOW-9, FLOW-10, AGR-4).
        AwaitingSignature = "AWAITING_SIGNATURE",
        /// Signed; the credit is granted and being consumed (FLOW-10,
        /// LEDGER-1). Finished for ELIG-13.
        Active = "ACTIVE",
        /// The credit's balance reached zero (FLOW-14). Finished for ELIG-13.
        Exhausted = "EXHAUSTED",
        /// The credit period ended with balance left, which lapsed (FLOW-15).
        /// Finished for ELIG-13.
        Lapsed = "LAPSED",
        /// A reviewer asked the partner for more information; the answer
        /// returns the request to the state that asked (FLOW-3, FLOW-4,
        /// FLOW-5). Time here does not count towards service levels (FLOW-19).
        NeedsInfo = "NEEDS_INFO",
        /// Rejected with a reason by PLSR, channel sales or Finance (FLOW-6).
        /// Finished for ELIG-13.
        Rejected = "REJECTED",
        /// Cancelled by the submitting partner before it became active
        /// (FLOW-13). Finished for ELIG-13.
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
        /// Relieve dual cost during a migration (ELIG-12).
        Migration = "MIGRATION",
        /// Fund a production proof of concept of a new workload (ELIG-12).
        NewWorkloadPoc = "NEW_WORKLOAD_POC",
        /// Accelerate cloud adoption (ELIG-12).
        Adoption = "ADOPTION",
        /// Answer another cloud's offer (ELIG-12).
        Competitive = "COMPETITIVE",
    }
}

domain_enum! {
    /// LEDGER-1, 14, 15: the state of a credit grant.
    GrantStatus {
        /// Within its credit period with balance left to consume (LEDGER-1).
        Active = "ACTIVE",
        /// The balance reached zero (FLOW-14, LEDGER-5).
        Exhausted = "EXHAUSTED",
        /// The credit period ended with balance left; that balance lapsed and
        /// nothing is left to use (FLOW-15).
        Lapsed = "LAPSED",
    }
}

domain_enum! {
    /// BEN-1: monthly allowance or one bulk amount.
    BenefitCreditKind {
        /// An allowance per calendar month that lapses at the end of its
        /// month, valid for 13 months from activation (BEN-1, BEN-7).
        Monthly = "MONTHLY",
        /// One amount for a year, usable any time between its start and end
        /// date; cannot be reassigned once assigned (BEN-1, BEN-5).
        Bulk = "BULK",
    }
}

domain_enum! {
    /// Where a benefit credit stands on a day (BEN-2, BEN-7).
    BenefitCreditStatus {
        /// Not yet assigned to a user (BEN-2).
        NotActivated = "NOT_ACTIVATED",
        /// Assigned before its start date: nothing is available until
        /// `startsOn`, and usage is refused with `CREDIT_NOT_STARTED` (BEN-2).
        Scheduled = "SCHEDULED",
        /// Assigned and within its period: it can be used (BEN-2).
        Active = "ACTIVE",
        /// Its period is over (BEN-7).
        Ended = "ENDED",
    }
}

domain_enum! {
    /// BEN-8: what a benefit credit may be spent on.
    BenefitPurpose {
        /// Usable for any purpose (BEN-8).
        General = "GENERAL",
        /// Usable for Security Copilot only (BEN-8).
        SecurityCopilot = "SECURITY_COPILOT",
        /// Usable for GitHub only (BEN-8).
        Github = "GITHUB",
    }
}

domain_enum! {
    /// §8: the partner's support plan.
    SupportPlan {
        /// No support plan; fails the support plan requirement for direct bill
        /// partners and indirect providers (§8).
        None = "NONE",
        /// Advanced Support for Partners (ASfP); meets the support plan
        /// requirement (§8).
        Asfp = "ASFP",
        /// Premier Support for Partners (PSfP); meets the support plan
        /// requirement (§8).
        Psfp = "PSFP",
    }
}

domain_enum! {
    /// §1: what a token's role lets its bearer do.
    Role {
        /// Of one partner: everything a partner user may, plus manage the
        /// partner's customers, relationships, agreements (MPA) and benefit
        /// credits.
        PartnerAdmin = "PARTNER_ADMIN",
        /// Of one partner: read the partner's data, submit and follow ACO
        /// requests, answer information requests.
        PartnerUser = "PARTNER_USER",
        /// Of one customer: read that customer's ACO agreements and credit
        /// balance, sign a published ACO agreement.
        CustomerSigner = "CUSTOMER_SIGNER",
        /// Of the programme: the quality and compliance check of submitted
        /// requests (FLOW-2, FLOW-3).
        Plsr = "PLSR",
        /// Of the programme: reviews deals passed on by PLSR (FLOW-4, FLOW-7).
        ChannelSales = "CHANNEL_SALES",
        /// Of the programme: approves or rejects requests for finance (FLOW-8).
        Finance = "FINANCE",
        /// Of the programme: creates, publishes and withdraws ACO agreements
        /// and runs the expiry sweep (FLOW-9, FLOW-12).
        Operations = "OPERATIONS",
        /// Of the programme: manages partners and sees everything.
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

domain_enum! {
    /// The stable code of a business rule that refused a change, in a
    /// mutation's `userErrors` (and, for the rules of §3, in an eligibility
    /// check's results). Match on it, not on the message.
    UserErrorCode {
        /// The customer is not in the United States (ELIG-1).
        CustomerNotUs = "CUSTOMER_NOT_US",
        /// The customer is not in the SMB segment (ELIG-2).
        CustomerNotSmb = "CUSTOMER_NOT_SMB",
        /// The customer is a non-profit, education or government organisation (ELIG-3).
        CustomerNotCommercial = "CUSTOMER_NOT_COMMERCIAL",
        /// The customer's billing profile is incomplete (ELIG-4).
        BillingProfileIncomplete = "BILLING_PROFILE_INCOMPLETE",
        /// The customer has not accepted the Microsoft Customer Agreement (ELIG-5, AGR-2).
        McaNotAccepted = "MCA_NOT_ACCEPTED",
        /// The partner has not signed the Microsoft Partner Agreement (ELIG-6, AGR-1).
        MpaNotSigned = "MPA_NOT_SIGNED",
        /// The partner has not confirmed the customer's MCA acceptance (ELIG-7, AGR-2).
        McaNotConfirmed = "MCA_NOT_CONFIRMED",
        /// The partner has no active reseller relationship with the customer (ELIG-8).
        NoResellerRelationship = "NO_RESELLER_RELATIONSHIP",
        /// An indirect reseller's request names no provider linked to it with
        /// its own active relationship with the customer (ELIG-9).
        ProviderRelationshipMissing = "PROVIDER_RELATIONSHIP_MISSING",
        /// The estimated 12-month incremental ACR is below USD 5,000.00 (ELIG-10).
        DealBelowMinimum = "DEAL_BELOW_MINIMUM",
        /// The request lacks its scenario, workloads or a valid timeline (ELIG-12).
        ScopeMissing = "SCOPE_MISSING",
        /// The customer already has an unfinished ACO request (ELIG-13).
        OpenRequestExists = "OPEN_REQUEST_EXISTS",
        /// The partner does not transact for the customer: an indirect
        /// provider never submits (ELIG-14, ROLE-1), and usage is recorded only
        /// by a partner with an active relationship or a credit of the customer.
        NotTransactingPartner = "NOT_TRANSACTING_PARTNER",
        /// The partner fails its type's CSP authorization requirements and has
        /// no open remediation window (ELIG-15, §8).
        PartnerNotAuthorized = "PARTNER_NOT_AUTHORIZED",
        /// The object is not in a state that allows this step (FLOW-*, AGR-6,
        /// §1 relationships).
        InvalidTransition = "INVALID_TRANSITION",
        /// The object changed since the version the caller read; read it
        /// again and retry (FLOW-18).
        Conflict = "CONFLICT",
        /// The ACO agreement's signing window has passed (FLOW-11).
        AgreementExpired = "AGREEMENT_EXPIRED",
        /// A date given lies in the future.
        DateInFuture = "DATE_IN_FUTURE",
        /// Usage was given for a month that has not begun (LEDGER-2).
        MonthInFuture = "MONTH_IN_FUTURE",
        /// Another partner or customer already has this Entra tenant id (§1).
        TenantInUse = "TENANT_IN_USE",
        /// No customer has the tenant id given (§1).
        CustomerNotFound = "CUSTOMER_NOT_FOUND",
        /// The partner already has a relationship of this kind with the customer (§1).
        RelationshipExists = "RELATIONSHIP_EXISTS",
        /// The partner named as reseller is not an indirect reseller (§1).
        NotIndirectReseller = "NOT_INDIRECT_RESELLER",
        /// The partner named as provider is not an indirect provider (§1).
        NotIndirectProvider = "NOT_INDIRECT_PROVIDER",
        /// The reseller is already linked to this provider (§1).
        AlreadyLinked = "ALREADY_LINKED",
        /// A customer records its own MCA acceptance only as
        /// `CUSTOMER_ACCEPTED` (AGR-2).
        AcceptanceMethodNotAllowed = "ACCEPTANCE_METHOD_NOT_ALLOWED",
        /// The business email is generic or personal, not a monitored work
        /// address (§8).
        GenericOrPersonalEmail = "GENERIC_OR_PERSONAL_EMAIL",
        /// A demoted partner may not yet reapply for direct bill (§8).
        ReapplyBlocked = "REAPPLY_BLOCKED",
        /// A benefit credit goes to a user of the partner, at its domain (BEN-3).
        NotPartnerUser = "NOT_PARTNER_USER",
        /// Benefit credits go to company addresses, not free-mail ones (BEN-3).
        FreeMailDomain = "FREE_MAIL_DOMAIN",
        /// A monthly credit was already reassigned the most times allowed (BEN-4).
        ReassignmentLimit = "REASSIGNMENT_LIMIT",
        /// A bulk credit cannot be reassigned once assigned (BEN-5).
        BulkNotReassignable = "BULK_NOT_REASSIGNABLE",
        /// The user already holds a bulk credit (BEN-6).
        BulkAlreadyAssigned = "BULK_ALREADY_ASSIGNED",
        /// The user already holds a monthly credit (BEN-6).
        MonthlyAlreadyAssigned = "MONTHLY_ALREADY_ASSIGNED",
        /// The benefit credit's period has not started (BEN-2).
        CreditNotStarted = "CREDIT_NOT_STARTED",
        /// The benefit credit is not active on that day: it is used from the
        /// day it is assigned (BEN-2).
        CreditNotActive = "CREDIT_NOT_ACTIVE",
        /// The benefit credit's period has ended (BEN-7).
        CreditEnded = "CREDIT_ENDED",
        /// The benefit credit may only be used for its purpose (BEN-8).
        PurposeRestricted = "PURPOSE_RESTRICTED",
        /// The amount is more than is left of the benefit credit for that period (BEN-1).
        InsufficientCredit = "INSUFFICIENT_CREDIT",
        /// A webhook endpoint that may not be sent to: not `https`, or a host
        /// that is or resolves to a loopback, private, link-local or metadata address.
        WebhookEndpointRefused = "WEBHOOK_ENDPOINT_REFUSED",
        /// The owner already has as many webhook subscriptions as it may (10).
        WebhookLimitReached = "WEBHOOK_LIMIT_REACHED",
        /// The event of a delivery is older than events are kept; it cannot be sent again.
        EventNoLongerKept = "EVENT_NO_LONGER_KEPT",
    }
}

domain_enum! {
    /// §8: one CSP authorization requirement of a partner's type.
    AuthorizationRequirementCode {
        /// The type's minimum trailing-12-month CSP revenue (per authorized
        /// region for an indirect provider).
        Revenue = "REVENUE",
        /// The Microsoft Partner Agreement is signed (AGR-1).
        MpaAccepted = "MPA_ACCEPTED",
        /// MFA is enabled for every administrative user of the CSP tenant.
        MfaAllAdmins = "MFA_ALL_ADMINS",
        /// A security contact is named.
        SecurityContact = "SECURITY_CONTACT",
        /// An Advanced or Premier Support for Partners plan (direct bill,
        /// indirect provider).
        SupportPlan = "SUPPORT_PLAN",
        /// Prior experience: twelve months as an indirect reseller (direct
        /// bill), or assessed by Microsoft (indirect provider).
        PriorExperience = "PRIOR_EXPERIENCE",
        /// At least one Solutions Partner designation (direct bill).
        SolutionsPartnerDesignation = "SOLUTIONS_PARTNER_DESIGNATION",
        /// The capabilities assessment is passed (direct bill, indirect provider).
        CapabilitiesAssessment = "CAPABILITIES_ASSESSMENT",
        /// Microsoft's credit check is passed (direct bill).
        CreditCheck = "CREDIT_CHECK",
        /// A monitored business work email is given (indirect reseller).
        BusinessEmail = "BUSINESS_EMAIL",
    }
}

domain_enum! {
    /// What happened: the type of an event in the feed, in webhook deliveries
    /// and in subscriptions. Each is written in the transaction of the change
    /// it reports.
    EventType {
        /// A partner submitted an ACO request (FLOW-1); `data` is the history entry.
        AcoRequestSubmitted = "ACO_REQUEST_SUBMITTED",
        /// A request moved in its workflow (§5): `data` is the history entry,
        /// with `action`, `fromStatus` and `toStatus`.
        AcoRequestStatusChanged = "ACO_REQUEST_STATUS_CHANGED",
        /// Operations published the ACO agreement for signature (FLOW-9).
        AgreementPublished = "AGREEMENT_PUBLISHED",
        /// The customer's signer signed the agreement (FLOW-10).
        AgreementSigned = "AGREEMENT_SIGNED",
        /// The signing deadline passed (FLOW-11, AGR-4).
        AgreementExpired = "AGREEMENT_EXPIRED",
        /// Operations withdrew the published agreement (FLOW-12).
        AgreementWithdrawn = "AGREEMENT_WITHDRAWN",
        /// An ACO credit was granted on signature (LEDGER-1).
        CreditGranted = "CREDIT_GRANTED",
        /// A credit's balance reached zero (FLOW-14).
        CreditExhausted = "CREDIT_EXHAUSTED",
        /// A credit's period ended with a balance, which lapsed (FLOW-15).
        CreditLapsed = "CREDIT_LAPSED",
        /// A usage correction gave a credit a balance back (LEDGER-2).
        CreditReopened = "CREDIT_REOPENED",
        /// A month's usage was recorded (LEDGER-2).
        UsageRecorded = "USAGE_RECORDED",
        /// A month's usage was corrected; the earlier figures stay in its history (LEDGER-2).
        UsageCorrected = "USAGE_CORRECTED",
        /// A partner asked a customer for a reseller relationship.
        RelationshipRequested = "RELATIONSHIP_REQUESTED",
        /// A relationship was created active, with its customer.
        RelationshipCreated = "RELATIONSHIP_CREATED",
        /// The customer accepted a relationship.
        RelationshipAccepted = "RELATIONSHIP_ACCEPTED",
        /// A relationship was revoked.
        RelationshipRevoked = "RELATIONSHIP_REVOKED",
        /// A benefit credit was created for a partner.
        BenefitCreditCreated = "BENEFIT_CREDIT_CREATED",
        /// A benefit credit was assigned, or reassigned, to a user.
        BenefitCreditAssigned = "BENEFIT_CREDIT_ASSIGNED",
        /// A benefit credit's use was recorded.
        BenefitCreditUsed = "BENEFIT_CREDIT_USED",
        /// A partner was registered.
        PartnerCreated = "PARTNER_CREATED",
        /// A partner's details or links to other partners changed.
        PartnerUpdated = "PARTNER_UPDATED",
        /// A partner's CSP authorization changed (§8): its profile, an
        /// assessment, a demotion, a remediation closed, the MPA signed.
        PartnerAuthorizationChanged = "PARTNER_AUTHORIZATION_CHANGED",
        /// A customer was created.
        CustomerCreated = "CUSTOMER_CREATED",
        /// A customer's details or agreements changed.
        CustomerUpdated = "CUSTOMER_UPDATED",
        /// A webhook subscription was created, changed, deleted, or its
        /// secret rotated.
        WebhookSubscriptionChanged = "WEBHOOK_SUBSCRIPTION_CHANGED",
    }
}

impl EventType {
    /// The event a change recorded in an object's history is: every action
    /// `store::audit::record` is given has one.
    pub fn of_change(action: &str) -> Option<EventType> {
        Some(match action {
            "USAGE_RECORDED" => EventType::UsageRecorded,
            "USAGE_CORRECTED" => EventType::UsageCorrected,
            "RELATIONSHIP_REQUESTED" => EventType::RelationshipRequested,
            "RELATIONSHIP_CREATED" => EventType::RelationshipCreated,
            "RELATIONSHIP_ACTIVE" => EventType::RelationshipAccepted,
            "RELATIONSHIP_REVOKED" => EventType::RelationshipRevoked,
            "BENEFIT_CREDIT_CREATED" => EventType::BenefitCreditCreated,
            "BENEFIT_CREDIT_ACTIVATED" | "BENEFIT_CREDIT_REASSIGNED" => {
                EventType::BenefitCreditAssigned
            }
            "BENEFIT_CREDIT_USED" => EventType::BenefitCreditUsed,
            "PARTNER_CREATED" => EventType::PartnerCreated,
            "PARTNER_UPDATED" | "INDIRECT_PROVIDER_LINKED" | "INDIRECT_RESELLER_LINKED" => {
                EventType::PartnerUpdated
            }
            "PARTNER_PROFILE_UPDATED"
            | "PARTNER_REASSESSED"
            | "PARTNER_DEMOTED"
            | "REMEDIATION_CLOSED"
            | "PARTNER_AGREEMENT_SIGNED" => EventType::PartnerAuthorizationChanged,
            "CUSTOMER_CREATED" => EventType::CustomerCreated,
            "CUSTOMER_UPDATED" | "CUSTOMER_AGREEMENT_RECORDED" | "CUSTOMER_AGREEMENT_CONFIRMED" => {
                EventType::CustomerUpdated
            }
            "WEBHOOK_SUBSCRIPTION_CREATED"
            | "WEBHOOK_SUBSCRIPTION_UPDATED"
            | "WEBHOOK_SUBSCRIPTION_DELETED"
            | "WEBHOOK_SECRET_ROTATED" => EventType::WebhookSubscriptionChanged,
            _ => return None,
        })
    }
}

domain_enum! {
    /// Where a webhook delivery stands.
    WebhookDeliveryStatus {
        /// Waiting for its first attempt or for a retry.
        Pending = "PENDING",
        /// The endpoint answered `2xx`.
        Succeeded = "SUCCEEDED",
        /// No attempt succeeded within 24 hours of the event; redeliver it to try again.
        Failed = "FAILED",
    }
}
