//! The input fields a user error points to (`UserError.field`), all in one
//! place: each names its path from the mutation's argument and the mutations
//! whose input has it, so that a test reads the input types from the schema
//! and fails on a path that does not exist (a renamed or removed field).
//! Paths are only made here: [`InputField`] cannot be built elsewhere.

/// A path into a mutation's input, e.g. `["input", "estimatedAcr"]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputField {
    path: &'static [&'static str],
    mutations: &'static [&'static str],
}

impl InputField {
    /// The path from the mutation's argument to the field.
    pub fn path(&self) -> &'static [&'static str] {
        self.path
    }

    /// The mutations whose input has this field.
    pub fn mutations(&self) -> &'static [&'static str] {
        self.mutations
    }
}

/// The mutations that act on a request at the version the caller read.
const VERSIONED: &[&str] = &[
    "passAcoComplianceCheck",
    "requestAcoInformation",
    "answerAcoInformationRequest",
    "supportAcoRequest",
    "approveAcoRequest",
    "rejectAcoRequest",
    "cancelAcoRequest",
    "publishAcoAgreement",
    "withdrawAcoAgreement",
];

/// The mutations that state or correct a request's deal and scope.
const DEAL: &[&str] = &["submitAcoRequest", "answerAcoInformationRequest"];

macro_rules! input_fields {
    ($($(#[$doc:meta])* $name:ident = $mutations:expr, [$($segment:literal),+];)+) => {
        $($(#[$doc])* pub const $name: InputField = InputField {
            path: &["input", $($segment),+],
            mutations: $mutations,
        };)+

        /// Every field above, for the test that checks them against the schema.
        pub const ALL: &[InputField] = &[$($name),+];
    };
}

input_fields! {
    TENANT_ID = &["createPartner", "createCustomer"], ["tenantId"];
    PARTNER_TYPE = &["updatePartner"], ["partnerType"];
    RESELLER_ID = &["linkIndirectReseller"], ["resellerId"];
    PROVIDER_ID = &["linkIndirectReseller"], ["providerId"];
    PARTNER_AGREEMENT_DATE = &["signPartnerAgreement"], ["dateAgreed"];
    ACCEPTANCE_METHOD = &["recordCustomerAgreement"], ["acceptanceMethod"];
    CUSTOMER_AGREEMENT_DATE = &["recordCustomerAgreement"], ["dateAgreed"];
    CONFIRMED_CUSTOMER = &["confirmCustomerAgreement"], ["customerId"];
    CUSTOMER_TENANT_ID = &["requestResellerRelationship"], ["customerTenantId"];
    /// The version a review step was taken at (FLOW-18).
    VERSION = VERSIONED, ["version"];
    ESTIMATED_ACR = DEAL, ["estimatedAcr"];
    SCENARIO = DEAL, ["scenario"];
    WORKLOADS = DEAL, ["workloads"];
    TIMELINE = DEAL, ["timeline"];
    INDIRECT_PROVIDER_ID = &["submitAcoRequest"], ["indirectProviderId"];
    USAGE_MONTH = &["recordMonthlyUsage"], ["month"];
    USAGE_PARTNER = &["recordMonthlyUsage"], ["partnerId"];
    ASSIGNEE_EMAIL = &["assignBenefitCredit"], ["assigneeEmail"];
    USED_ON = &["recordBenefitUsage"], ["usedOn"];
    BENEFIT_AMOUNT = &["recordBenefitUsage"], ["amount"];
    BENEFIT_PURPOSE = &["recordBenefitUsage"], ["purpose"];
    BUSINESS_EMAIL = &["updatePartnerProfile"], ["businessEmail"];
    WEBHOOK_URL = &["createWebhookSubscription", "updateWebhookSubscription"], ["url"];
    /// The version of a webhook subscription the caller read.
    WEBHOOK_VERSION = &["updateWebhookSubscription", "deleteWebhookSubscription", "rotateWebhookSecret"], ["version"];
}
