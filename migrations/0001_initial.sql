-- The whole data model of DOMAIN.md. Money is canonical decimal text ("1500.00"),
-- instants are RFC 3339 UTC text, dates YYYY-MM-DD, months YYYY-MM.
-- Ids are typed text ids (prt_…, cus_…) whose body is a UUID v7: they sort by creation.

-- §1 Partners -------------------------------------------------------------------------
CREATE TABLE partners (
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
    -- §8 authorization requirements (figures the requirements are judged on)
    revenue_trailing_12m        TEXT,
    mfa_all_admins              INTEGER NOT NULL DEFAULT 0 CHECK (mfa_all_admins IN (0, 1)),
    security_contact_email      TEXT,
    support_plan                TEXT NOT NULL DEFAULT 'NONE' CHECK (support_plan IN ('NONE', 'ASFP', 'PSFP')),
    indirect_reseller_since     TEXT,
    capabilities_assessment_passed INTEGER NOT NULL DEFAULT 0 CHECK (capabilities_assessment_passed IN (0, 1)),
    prior_experience_assessed   INTEGER NOT NULL DEFAULT 0 CHECK (prior_experience_assessed IN (0, 1)),
    credit_check_passed         INTEGER NOT NULL DEFAULT 0 CHECK (credit_check_passed IN (0, 1)),
    business_email              TEXT,
    authorized_since            TEXT,
    reapply_blocked_until       TEXT,
    version                     INTEGER NOT NULL DEFAULT 1,
    created_at                  TEXT NOT NULL,
    updated_at                  TEXT NOT NULL
) STRICT;

-- §8: trailing-12-month revenue per region (indirect providers).
CREATE TABLE partner_regional_revenue (
    partner_id  TEXT NOT NULL REFERENCES partners (id),
    region      TEXT NOT NULL,
    amount      TEXT NOT NULL,
    PRIMARY KEY (partner_id, region)
) STRICT;

-- §8: Solutions Partner designations.
CREATE TABLE partner_designations (
    partner_id   TEXT NOT NULL REFERENCES partners (id),
    designation  TEXT NOT NULL,
    PRIMARY KEY (partner_id, designation)
) STRICT;

-- §8, AUTH-1: reassessments and their remediation windows.
CREATE TABLE partner_assessments (
    id                    INTEGER PRIMARY KEY,
    partner_id            TEXT NOT NULL REFERENCES partners (id),
    assessed_at           TEXT NOT NULL,
    assessed_by           TEXT NOT NULL,
    passed                INTEGER NOT NULL CHECK (passed IN (0, 1)),
    failed_requirements   TEXT NOT NULL DEFAULT '[]',
    remediation_deadline  TEXT,
    -- NULL while a remediation window is open; then REMEDIATED, DEMOTED or NOT_REMEDIATED.
    outcome               TEXT,
    resolved_at           TEXT
) STRICT;
CREATE INDEX partner_assessments_partner ON partner_assessments (partner_id, assessed_at);

-- §1: an indirect reseller works through one or more indirect providers.
CREATE TABLE indirect_links (
    reseller_id  TEXT NOT NULL REFERENCES partners (id),
    provider_id  TEXT NOT NULL REFERENCES partners (id),
    linked_at    TEXT NOT NULL,
    PRIMARY KEY (reseller_id, provider_id)
) STRICT;
CREATE INDEX indirect_links_provider ON indirect_links (provider_id);

-- AGR-1: the Microsoft Partner Agreement, every signature kept.
CREATE TABLE partner_agreements (
    id            INTEGER PRIMARY KEY,
    partner_id    TEXT NOT NULL REFERENCES partners (id),
    signer_name   TEXT NOT NULL,
    signer_email  TEXT NOT NULL,
    date_agreed   TEXT NOT NULL,
    recorded_at   TEXT NOT NULL,
    recorded_by   TEXT NOT NULL
) STRICT;
CREATE INDEX partner_agreements_partner ON partner_agreements (partner_id, id);

-- §1 Customers ------------------------------------------------------------------------
CREATE TABLE customers (
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
    version               INTEGER NOT NULL DEFAULT 1,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
) STRICT;

-- §1: reseller relationships, PENDING -> ACTIVE -> REVOKED.
CREATE TABLE reseller_relationships (
    id            TEXT PRIMARY KEY,
    partner_id    TEXT NOT NULL REFERENCES partners (id),
    customer_id   TEXT NOT NULL REFERENCES customers (id),
    status        TEXT NOT NULL CHECK (status IN ('PENDING', 'ACTIVE', 'REVOKED')),
    requested_at  TEXT NOT NULL,
    requested_by  TEXT NOT NULL,
    accepted_at   TEXT,
    revoked_at    TEXT,
    revoke_reason TEXT
) STRICT;
-- At most one live (pending or active) relationship per partner and customer.
CREATE UNIQUE INDEX reseller_relationships_live
    ON reseller_relationships (partner_id, customer_id) WHERE status IN ('PENDING', 'ACTIVE');
CREATE INDEX reseller_relationships_customer ON reseller_relationships (customer_id, status);

-- AGR-2: the customer's MCA acceptance, every record kept; the newest counts.
CREATE TABLE customer_agreements (
    id                   TEXT PRIMARY KEY,
    customer_id          TEXT NOT NULL REFERENCES customers (id),
    date_agreed          TEXT NOT NULL,
    contact_first_name   TEXT NOT NULL,
    contact_last_name    TEXT NOT NULL,
    contact_email        TEXT NOT NULL,
    contact_phone        TEXT,
    acceptance_method    TEXT NOT NULL CHECK (acceptance_method IN ('CUSTOMER_ACCEPTED', 'PARTNER_ATTESTED')),
    recorded_by_partner  TEXT REFERENCES partners (id),
    recorded_at          TEXT NOT NULL,
    recorded_by          TEXT NOT NULL
) STRICT;
CREATE INDEX customer_agreements_customer ON customer_agreements (customer_id, id);

-- AGR-2 / ELIG-7: the transacting partner's confirmation in its own records.
CREATE TABLE mca_confirmations (
    customer_id    TEXT NOT NULL REFERENCES customers (id),
    partner_id     TEXT NOT NULL REFERENCES partners (id),
    agreement_id   TEXT NOT NULL REFERENCES customer_agreements (id),
    confirmed_at   TEXT NOT NULL,
    confirmed_by   TEXT NOT NULL,
    PRIMARY KEY (customer_id, partner_id)
) STRICT;

-- §3, §5 ACO requests ---------------------------------------------------------------
CREATE TABLE aco_requests (
    id                     TEXT PRIMARY KEY,
    customer_id            TEXT NOT NULL REFERENCES customers (id),
    partner_id             TEXT NOT NULL REFERENCES partners (id),
    indirect_provider_id   TEXT REFERENCES partners (id),
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
    -- FLOW-5: the state that asked for information, while NEEDS_INFO.
    info_requested_from    TEXT,
    info_requested_at      TEXT,
    decision_reason        TEXT,
    -- FLOW-19: when the current service-level stage began, and its due instant
    -- (NULL outside the review stages and while the clock is paused in NEEDS_INFO).
    stage_entered_at       TEXT NOT NULL,
    due_at                 TEXT,
    version                INTEGER NOT NULL DEFAULT 1,
    submitted_at           TEXT NOT NULL,
    submitted_by           TEXT NOT NULL,
    updated_at             TEXT NOT NULL
) STRICT;
-- ELIG-13: one unfinished request per customer, enforced by the database as well.
CREATE UNIQUE INDEX aco_requests_one_open_per_customer ON aco_requests (customer_id)
    WHERE status NOT IN ('REJECTED', 'CANCELLED', 'ACTIVE', 'EXHAUSTED', 'LAPSED');
CREATE INDEX aco_requests_partner ON aco_requests (partner_id, id);
CREATE INDEX aco_requests_provider ON aco_requests (indirect_provider_id, id);
CREATE INDEX aco_requests_status ON aco_requests (status, id);
CREATE INDEX aco_requests_due ON aco_requests (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX aco_requests_customer ON aco_requests (customer_id, id);

-- FLOW-17: every transition, append-only.
CREATE TABLE aco_request_history (
    id            INTEGER PRIMARY KEY,
    request_id    TEXT NOT NULL REFERENCES aco_requests (id),
    at            TEXT NOT NULL,
    actor_subject TEXT NOT NULL,
    actor_name    TEXT,
    actor_role    TEXT NOT NULL,
    action        TEXT NOT NULL,
    from_status   TEXT,
    to_status     TEXT NOT NULL,
    comment       TEXT
) STRICT;
CREATE INDEX aco_request_history_request ON aco_request_history (request_id, id);
CREATE TRIGGER aco_request_history_no_update BEFORE UPDATE ON aco_request_history
BEGIN SELECT RAISE(ABORT, 'aco_request_history is append-only'); END;
CREATE TRIGGER aco_request_history_no_delete BEFORE DELETE ON aco_request_history
BEGIN SELECT RAISE(ABORT, 'aco_request_history is append-only'); END;

-- AGR-3..6: ACO agreements (PL-MCA amendments), every one kept with its status.
CREATE TABLE aco_agreements (
    id                    TEXT PRIMARY KEY,
    request_id            TEXT NOT NULL REFERENCES aco_requests (id),
    customer_id           TEXT NOT NULL REFERENCES customers (id),
    status                TEXT NOT NULL CHECK (status IN ('PUBLISHED', 'SIGNED', 'EXPIRED', 'WITHDRAWN')),
    signer_name           TEXT NOT NULL,
    signer_email          TEXT NOT NULL,
    credit_period_months  INTEGER NOT NULL CHECK (credit_period_months BETWEEN 1 AND 60),
    aco_amount            TEXT NOT NULL,
    published_at          TEXT NOT NULL,
    published_by          TEXT NOT NULL,
    expires_at            TEXT NOT NULL,
    signed_at             TEXT,
    signed_by             TEXT,
    closed_at             TEXT,
    closed_reason         TEXT
) STRICT;
-- At most one published agreement per request at a time.
CREATE UNIQUE INDEX aco_agreements_one_published ON aco_agreements (request_id) WHERE status = 'PUBLISHED';
CREATE INDEX aco_agreements_customer ON aco_agreements (customer_id, id);
CREATE INDEX aco_agreements_expiry ON aco_agreements (status, expires_at);

-- §6 Credits --------------------------------------------------------------------------
-- LEDGER-1: a grant per signed agreement.
CREATE TABLE credit_grants (
    id              TEXT PRIMARY KEY,
    customer_id     TEXT NOT NULL REFERENCES customers (id),
    request_id      TEXT NOT NULL UNIQUE REFERENCES aco_requests (id),
    agreement_id    TEXT NOT NULL UNIQUE REFERENCES aco_agreements (id),
    amount          TEXT NOT NULL,
    first_month     TEXT NOT NULL,
    last_month      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('ACTIVE', 'EXHAUSTED', 'LAPSED')),
    granted_at      TEXT NOT NULL
) STRICT;
CREATE INDEX credit_grants_customer ON credit_grants (customer_id, last_month);

-- LEDGER-2: the current usage figures per customer and month.
CREATE TABLE monthly_usage (
    customer_id          TEXT NOT NULL REFERENCES customers (id),
    month                TEXT NOT NULL,
    first_party_acr      TEXT NOT NULL,
    third_party_charges  TEXT NOT NULL,
    recorded_at          TEXT NOT NULL,
    recorded_by          TEXT NOT NULL,
    revision             INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (customer_id, month)
) STRICT;

-- LEDGER-2: every figure ever recorded, append-only.
CREATE TABLE monthly_usage_history (
    id                   INTEGER PRIMARY KEY,
    customer_id          TEXT NOT NULL REFERENCES customers (id),
    month                TEXT NOT NULL,
    first_party_acr      TEXT NOT NULL,
    third_party_charges  TEXT NOT NULL,
    revision             INTEGER NOT NULL,
    recorded_at          TEXT NOT NULL,
    recorded_by          TEXT NOT NULL,
    recorded_by_role     TEXT NOT NULL
) STRICT;
CREATE INDEX monthly_usage_history_customer ON monthly_usage_history (customer_id, month, id);
CREATE TRIGGER monthly_usage_history_no_update BEFORE UPDATE ON monthly_usage_history
BEGIN SELECT RAISE(ABORT, 'monthly_usage_history is append-only'); END;
CREATE TRIGGER monthly_usage_history_no_delete BEFORE DELETE ON monthly_usage_history
BEGIN SELECT RAISE(ABORT, 'monthly_usage_history is append-only'); END;

-- §7 Partner benefit credits ----------------------------------------------------------
CREATE TABLE benefit_credits (
    id                  TEXT PRIMARY KEY,
    partner_id          TEXT NOT NULL REFERENCES partners (id),
    kind                TEXT NOT NULL CHECK (kind IN ('MONTHLY', 'BULK')),
    purpose             TEXT NOT NULL CHECK (purpose IN ('GENERAL', 'SECURITY_COPILOT', 'GITHUB')),
    amount              TEXT NOT NULL,
    starts_on           TEXT NOT NULL,
    ends_on             TEXT NOT NULL,
    activated_at        TEXT,
    assignee_email      TEXT,
    assignee_name       TEXT,
    reassignments       INTEGER NOT NULL DEFAULT 0,
    version             INTEGER NOT NULL DEFAULT 1,
    created_at          TEXT NOT NULL,
    created_by          TEXT NOT NULL
) STRICT;
CREATE INDEX benefit_credits_partner ON benefit_credits (partner_id, id);
CREATE INDEX benefit_credits_assignee ON benefit_credits (assignee_email, kind);

CREATE TABLE benefit_usage (
    id           INTEGER PRIMARY KEY,
    credit_id    TEXT NOT NULL REFERENCES benefit_credits (id),
    used_on      TEXT NOT NULL,
    amount       TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    recorded_at  TEXT NOT NULL,
    recorded_by  TEXT NOT NULL
) STRICT;
CREATE INDEX benefit_usage_credit ON benefit_usage (credit_id, used_on);

-- History on changes -----------------------------------------------------------------
-- Every change to partners, customers, relationships, agreements and credits, append-only.
CREATE TABLE change_log (
    id            INTEGER PRIMARY KEY,
    entity_id     TEXT NOT NULL,
    at            TEXT NOT NULL,
    actor_subject TEXT NOT NULL,
    actor_name    TEXT,
    actor_role    TEXT NOT NULL,
    action        TEXT NOT NULL,
    detail        TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX change_log_entity ON change_log (entity_id, id);
CREATE TRIGGER change_log_no_update BEFORE UPDATE ON change_log
BEGIN SELECT RAISE(ABORT, 'change_log is append-only'); END;
CREATE TRIGGER change_log_no_delete BEFORE DELETE ON change_log
BEGIN SELECT RAISE(ABORT, 'change_log is append-only'); END;
