-- The whole data model on PostgreSQL-compatible engines (PostgreSQL, Aurora
-- PostgreSQL, Aurora DSQL, CockroachDB): the schema SQLite reaches after its
-- migrations 0001-0007, in the subset Aurora DSQL accepts.
--
-- Each statement is one step, run in a transaction of its own and recorded
-- after it, so every one can run again (IF NOT EXISTS). No foreign keys,
-- triggers, sequences, partial indexes, temporary tables or procedural code:
-- what they gave SQLite, the service keeps inside its transactions and
-- `aco-api check` verifies:
--   * references between rows: written together by the use cases, checked;
--   * append-only history: the store never updates or deletes it, checked;
--   * a request's newest history entry (`last_history_id`): set by the
--     service when it appends one;
--   * ELIG-13, one unfinished request per customer: a row in `open_requests`
--     per customer, keyed by customer, which also gives two concurrent
--     submissions a row to conflict on; likewise `live_relationships` and
--     `published_agreements`;
--   * history ids: assigned by the service, in order (no sequences).
--
-- Texts are kept as SQLite keeps them: money is canonical decimal text
-- ("1500.00"), instants RFC 3339 UTC text with microseconds, dates
-- YYYY-MM-DD, months YYYY-MM, ids typed text (prt_..., cus_...) whose body is
-- a UUID v7. Both stores answer byte for byte alike, and the text sorts as
-- the value does.

-- §1 Partners
CREATE TABLE IF NOT EXISTS partners (
    id                          TEXT PRIMARY KEY,
    tenant_id                   TEXT NOT NULL UNIQUE,
    company_name                TEXT NOT NULL,
    domain                      TEXT NOT NULL,
    partner_type                TEXT NOT NULL
        CHECK (partner_type IN ('DIRECT_BILL', 'INDIRECT_RESELLER', 'INDIRECT_PROVIDER')),
    mpn_id                      TEXT,
    address_line1               TEXT,
    address_line2               TEXT,
    address_city                TEXT,
    address_state               TEXT,
    address_postal_code         TEXT,
    address_country             TEXT,
    contact_first_name          TEXT,
    contact_last_name           TEXT,
    contact_email               TEXT,
    contact_phone               TEXT,
    revenue_trailing_12m        TEXT,
    mfa_all_admins              BOOLEAN NOT NULL DEFAULT FALSE,
    security_contact_email      TEXT,
    support_plan                TEXT NOT NULL DEFAULT 'NONE' CHECK (support_plan IN ('NONE', 'ASFP', 'PSFP')),
    indirect_reseller_since     TEXT,
    capabilities_assessment_passed BOOLEAN NOT NULL DEFAULT FALSE,
    prior_experience_assessed   BOOLEAN NOT NULL DEFAULT FALSE,
    credit_check_passed         BOOLEAN NOT NULL DEFAULT FALSE,
    business_email              TEXT,
    authorized_since            TEXT,
    reapply_blocked_until       TEXT,
    version                     BIGINT NOT NULL DEFAULT 1,
    created_at                  TEXT NOT NULL,
    updated_at                  TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS partner_regional_revenue (
    partner_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    amount      TEXT NOT NULL,
    PRIMARY KEY (partner_id, region)
);

CREATE TABLE IF NOT EXISTS partner_designations (
    partner_id   TEXT NOT NULL,
    designation  TEXT NOT NULL,
    PRIMARY KEY (partner_id, designation)
);

CREATE TABLE IF NOT EXISTS partner_assessments (
    id                    BIGINT PRIMARY KEY,
    partner_id            TEXT NOT NULL,
    assessed_at           TEXT NOT NULL,
    assessed_by           TEXT NOT NULL,
    passed                BOOLEAN NOT NULL,
    failed_requirements   TEXT NOT NULL DEFAULT '[]',
    remediation_deadline  TEXT,
    outcome               TEXT,
    resolved_at           TEXT
);

CREATE INDEX IF NOT EXISTS partner_assessments_partner ON partner_assessments (partner_id, assessed_at);

-- AUTH-1: open remediation windows (outcome NULL), by deadline.
CREATE INDEX IF NOT EXISTS partner_assessments_by_deadline ON partner_assessments (outcome, remediation_deadline);

CREATE TABLE IF NOT EXISTS indirect_links (
    reseller_id  TEXT NOT NULL,
    provider_id  TEXT NOT NULL,
    linked_at    TEXT NOT NULL,
    PRIMARY KEY (reseller_id, provider_id)
);

CREATE INDEX IF NOT EXISTS indirect_links_provider ON indirect_links (provider_id);

CREATE TABLE IF NOT EXISTS partner_agreements (
    id            BIGINT PRIMARY KEY,
    partner_id    TEXT NOT NULL,
    signer_name   TEXT NOT NULL,
    signer_email  TEXT NOT NULL,
    date_agreed   TEXT NOT NULL,
    recorded_at   TEXT NOT NULL,
    recorded_by   TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS partner_agreements_partner ON partner_agreements (partner_id, id);

-- §1 Customers
CREATE TABLE IF NOT EXISTS customers (
    id                    TEXT PRIMARY KEY,
    tenant_id             TEXT NOT NULL UNIQUE,
    domain                TEXT NOT NULL,
    company_name          TEXT NOT NULL,
    country               TEXT NOT NULL,
    segment               TEXT NOT NULL CHECK (segment IN ('SMB', 'ENTERPRISE')),
    organization_kind     TEXT NOT NULL
        CHECK (organization_kind IN ('COMMERCIAL', 'NON_PROFIT', 'EDUCATION', 'GOVERNMENT')),
    billing_legal_name    TEXT,
    billing_tax_id        TEXT,
    billing_registration_number TEXT,
    billing_email         TEXT,
    billing_line1         TEXT,
    billing_line2         TEXT,
    billing_city          TEXT,
    billing_state         TEXT,
    billing_postal_code   TEXT,
    billing_country       TEXT,
    version               BIGINT NOT NULL DEFAULT 1,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS reseller_relationships (
    id            TEXT PRIMARY KEY,
    partner_id    TEXT NOT NULL,
    customer_id   TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('PENDING', 'ACTIVE', 'REVOKED')),
    requested_at  TEXT NOT NULL,
    requested_by  TEXT NOT NULL,
    accepted_at   TEXT,
    revoked_at    TEXT,
    revoke_reason TEXT
);

CREATE INDEX IF NOT EXISTS reseller_relationships_customer ON reseller_relationships (customer_id, status);

CREATE INDEX IF NOT EXISTS reseller_relationships_partner ON reseller_relationships (partner_id, status, customer_id);

-- At most one live (pending or active) relationship per partner and customer:
-- a row while it is live.
CREATE TABLE IF NOT EXISTS live_relationships (
    partner_id       TEXT NOT NULL,
    customer_id      TEXT NOT NULL,
    relationship_id  TEXT NOT NULL,
    PRIMARY KEY (partner_id, customer_id)
);

CREATE TABLE IF NOT EXISTS customer_agreements (
    id                   TEXT PRIMARY KEY,
    customer_id          TEXT NOT NULL,
    date_agreed          TEXT NOT NULL,
    contact_first_name   TEXT NOT NULL,
    contact_last_name    TEXT NOT NULL,
    contact_email        TEXT NOT NULL,
    contact_phone        TEXT,
    acceptance_method    TEXT NOT NULL CHECK (acceptance_method IN ('CUSTOMER_ACCEPTED', 'PARTNER_ATTESTED')),
    recorded_by_partner  TEXT,
    recorded_at          TEXT NOT NULL,
    recorded_by          TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS customer_agreements_customer ON customer_agreements (customer_id, id);

CREATE TABLE IF NOT EXISTS mca_confirmations (
    customer_id    TEXT NOT NULL,
    partner_id     TEXT NOT NULL,
    agreement_id   TEXT NOT NULL,
    confirmed_at   TEXT NOT NULL,
    confirmed_by   TEXT NOT NULL,
    PRIMARY KEY (customer_id, partner_id)
);

-- §3, §5 ACO requests
CREATE TABLE IF NOT EXISTS aco_requests (
    id                     TEXT PRIMARY KEY,
    customer_id            TEXT NOT NULL,
    partner_id             TEXT NOT NULL,
    indirect_provider_id   TEXT,
    status                 TEXT NOT NULL CHECK (status IN (
        'SUBMITTED', 'CHANNEL_REVIEW', 'FINANCE_REVIEW', 'OPERATIONS_REVIEW', 'AWAITING_SIGNATURE',
        'ACTIVE', 'EXHAUSTED', 'LAPSED', 'NEEDS_INFO', 'REJECTED', 'CANCELLED')),
    scenario               TEXT NOT NULL CHECK (scenario IN ('MIGRATION', 'NEW_WORKLOAD_POC', 'ADOPTION', 'COMPETITIVE')),
    workloads              TEXT NOT NULL,
    timeline_start         TEXT NOT NULL,
    timeline_end           TEXT NOT NULL,
    estimated_acr          TEXT NOT NULL,
    aco_amount             TEXT NOT NULL,
    channel_sales_manager  TEXT,
    info_requested_from    TEXT,
    info_requested_at      TEXT,
    decision_reason        TEXT,
    stage_entered_at       TEXT NOT NULL,
    due_at                 TEXT,
    version                BIGINT NOT NULL DEFAULT 1,
    submitted_at           TEXT NOT NULL,
    submitted_by           TEXT NOT NULL,
    updated_at             TEXT NOT NULL,
    -- The newest entry of its history, set as each is appended.
    last_history_id        BIGINT
);

CREATE INDEX IF NOT EXISTS aco_requests_partner ON aco_requests (partner_id, id);

CREATE INDEX IF NOT EXISTS aco_requests_provider ON aco_requests (indirect_provider_id, id);

CREATE INDEX IF NOT EXISTS aco_requests_status ON aco_requests (status, id);

CREATE INDEX IF NOT EXISTS aco_requests_customer ON aco_requests (customer_id, id);

-- The overdue list and the service-level clock: requests of a state by due instant.
CREATE INDEX IF NOT EXISTS aco_requests_due ON aco_requests (status, due_at, id);

-- ELIG-13: a row per customer with an unfinished request, removed when the
-- request ends (rejected, cancelled, active, exhausted or lapsed).
CREATE TABLE IF NOT EXISTS open_requests (
    customer_id  TEXT PRIMARY KEY,
    request_id   TEXT NOT NULL
);

-- FLOW-17: every transition, append-only.
CREATE TABLE IF NOT EXISTS aco_request_history (
    id            BIGINT PRIMARY KEY,
    request_id    TEXT NOT NULL,
    at            TEXT NOT NULL,
    actor_subject TEXT NOT NULL,
    actor_name    TEXT,
    actor_role    TEXT NOT NULL,
    action        TEXT NOT NULL,
    from_status   TEXT,
    to_status     TEXT NOT NULL,
    comment       TEXT,
    recorded_at   TEXT
);

CREATE INDEX IF NOT EXISTS aco_request_history_request ON aco_request_history (request_id, id);

-- AGR-3..6: ACO agreements.
CREATE TABLE IF NOT EXISTS aco_agreements (
    id                    TEXT PRIMARY KEY,
    request_id            TEXT NOT NULL,
    customer_id           TEXT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('PUBLISHED', 'SIGNED', 'EXPIRED', 'WITHDRAWN')),
    signer_name           TEXT NOT NULL,
    signer_email          TEXT NOT NULL,
    credit_period_months  BIGINT NOT NULL CHECK (credit_period_months BETWEEN 1 AND 60),
    aco_amount            TEXT NOT NULL,
    published_at          TEXT NOT NULL,
    published_by          TEXT NOT NULL,
    expires_at            TEXT NOT NULL,
    signed_at             TEXT,
    signed_by             TEXT,
    closed_at             TEXT,
    closed_reason         TEXT
);

CREATE INDEX IF NOT EXISTS aco_agreements_customer ON aco_agreements (customer_id, id);

CREATE INDEX IF NOT EXISTS aco_agreements_expiry ON aco_agreements (status, expires_at);

-- At most one published agreement per request: a row while it is published.
CREATE TABLE IF NOT EXISTS published_agreements (
    request_id    TEXT PRIMARY KEY,
    agreement_id  TEXT NOT NULL
);

-- §6 Credits: LEDGER-1, a grant per signed agreement.
CREATE TABLE IF NOT EXISTS credit_grants (
    id              TEXT PRIMARY KEY,
    customer_id     TEXT NOT NULL,
    request_id      TEXT NOT NULL UNIQUE,
    agreement_id    TEXT NOT NULL UNIQUE,
    amount          TEXT NOT NULL,
    first_month     TEXT NOT NULL,
    last_month      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('ACTIVE', 'EXHAUSTED', 'LAPSED')),
    granted_at      TEXT NOT NULL,
    partner_id      TEXT
);

CREATE INDEX IF NOT EXISTS credit_grants_customer ON credit_grants (customer_id, last_month);

CREATE INDEX IF NOT EXISTS credit_grants_partner ON credit_grants (customer_id, partner_id);

-- FLOW-15: grants of a state whose period has ended, by last month.
CREATE INDEX IF NOT EXISTS credit_grants_by_end ON credit_grants (status, last_month, customer_id);

-- LEDGER-2: the current figures per customer, transacting partner and month.
CREATE TABLE IF NOT EXISTS monthly_usage (
    customer_id          TEXT NOT NULL,
    partner_id           TEXT NOT NULL,
    month                TEXT NOT NULL,
    first_party_acr      TEXT NOT NULL,
    third_party_charges  TEXT NOT NULL,
    recorded_at          TEXT NOT NULL,
    recorded_by          TEXT NOT NULL,
    revision             BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (customer_id, partner_id, month)
);

-- LEDGER-2: every figure ever recorded, append-only.
CREATE TABLE IF NOT EXISTS monthly_usage_history (
    id                   BIGINT PRIMARY KEY,
    customer_id          TEXT NOT NULL,
    partner_id           TEXT,
    month                TEXT NOT NULL,
    first_party_acr      TEXT NOT NULL,
    third_party_charges  TEXT NOT NULL,
    revision             BIGINT NOT NULL,
    recorded_at          TEXT NOT NULL,
    recorded_by          TEXT NOT NULL,
    recorded_by_role     TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS monthly_usage_history_customer ON monthly_usage_history (customer_id, partner_id, month, id);

-- How SQLite's migration 0007 attributed earlier usage (kept by `aco-api copy`).
CREATE TABLE IF NOT EXISTS usage_attribution (
    customer_id  TEXT PRIMARY KEY,
    partner_id   TEXT,
    rule         TEXT NOT NULL CHECK (rule IN ('GRANTS_OF_ONE_PARTNER', 'ONLY_ACTIVE_RELATIONSHIP',
                     'EARLIEST_GRANT', 'EARLIEST_RELATIONSHIP', 'NO_PARTNER')),
    rows         BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS settlements_due (
    customer_id  TEXT PRIMARY KEY
);

-- §7 Partner benefit credits
CREATE TABLE IF NOT EXISTS benefit_credits (
    id                  TEXT PRIMARY KEY,
    partner_id          TEXT NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN ('MONTHLY', 'BULK')),
    purpose             TEXT NOT NULL CHECK (purpose IN ('GENERAL', 'SECURITY_COPILOT', 'GITHUB')),
    amount              TEXT NOT NULL,
    starts_on           TEXT NOT NULL,
    ends_on             TEXT NOT NULL,
    activated_at        TEXT,
    assignee_email      TEXT,
    assignee_name       TEXT,
    reassignments       BIGINT NOT NULL DEFAULT 0,
    version             BIGINT NOT NULL DEFAULT 1,
    created_at          TEXT NOT NULL,
    created_by          TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS benefit_credits_partner ON benefit_credits (partner_id, id);

CREATE INDEX IF NOT EXISTS benefit_credits_assignee ON benefit_credits (assignee_email, kind);

CREATE TABLE IF NOT EXISTS benefit_usage (
    id           BIGINT PRIMARY KEY,
    credit_id    TEXT NOT NULL,
    used_on      TEXT NOT NULL,
    amount       TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    recorded_at  TEXT NOT NULL,
    recorded_by  TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS benefit_usage_credit ON benefit_usage (credit_id, used_on);

-- Every change to partners, customers, relationships, agreements and credits, append-only.
CREATE TABLE IF NOT EXISTS change_log (
    id            BIGINT PRIMARY KEY,
    entity_id     TEXT NOT NULL,
    at            TEXT NOT NULL,
    actor_subject TEXT NOT NULL,
    actor_name    TEXT,
    actor_role    TEXT NOT NULL,
    action        TEXT NOT NULL,
    detail        TEXT NOT NULL DEFAULT '{}'
);

CREATE INDEX IF NOT EXISTS change_log_entity ON change_log (entity_id, id);
