-- Indexes for queries that read a whole table: at a million requests, the
-- sweep (at start and every five minutes) read all 500,000 grants to find
-- customers with ended credits, and a partner's customers were found by
-- reading every reseller relationship.

-- FLOW-15: active grants whose period has ended, by last month.
CREATE INDEX credit_grants_active_by_end ON credit_grants (last_month, customer_id)
    WHERE status = 'ACTIVE';

-- AUTH-1: open remediation windows, by deadline.
CREATE INDEX partner_assessments_open_by_deadline ON partner_assessments (remediation_deadline)
    WHERE outcome IS NULL AND remediation_deadline IS NOT NULL;

-- A partner's customers (Partner.customers): its relationships in a state.
CREATE INDEX reseller_relationships_partner ON reseller_relationships (partner_id, status, customer_id);
