-- What the periodic sweep looks for, each through an index of its own instead
-- of a scan of the whole table: at a million requests, listing customers with
-- ended credits read all 500,000 grants, and the sweep runs on the server
-- every five minutes and at start.

-- FLOW-15: active grants whose period has ended, by last month.
CREATE INDEX credit_grants_active_by_end ON credit_grants (last_month, customer_id)
    WHERE status = 'ACTIVE';

-- AUTH-1: open remediation windows, by deadline.
CREATE INDEX partner_assessments_open_by_deadline ON partner_assessments (remediation_deadline)
    WHERE outcome IS NULL AND remediation_deadline IS NOT NULL;
