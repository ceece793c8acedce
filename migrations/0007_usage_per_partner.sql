-- LEDGER-2: usage is recorded per customer, per transacting partner, per
-- month, and a grant is consumed only by the usage of its own partner.

-- A grant's partner is its request's, which never changes: kept with the
-- grant so that a partner's ledger reads its grants directly.
ALTER TABLE credit_grants ADD COLUMN partner_id TEXT REFERENCES partners (id);
UPDATE credit_grants SET partner_id = (SELECT r.partner_id FROM aco_requests r WHERE r.id = credit_grants.request_id);
CREATE INDEX credit_grants_partner ON credit_grants (customer_id, partner_id);

-- Rows recorded before stored only who recorded them, not for which partner.
-- Each customer's usage goes to one partner, by the first rule that finds
-- one: the partner of all its grants; its only active relationship with a
-- transacting partner; the partner of its earliest grant; the transacting
-- partner of its earliest relationship of any status. A customer none of
-- these finds a partner for (it never had a grant or a relationship, so its
-- usage consumed nothing) keeps its figures in the history only, without a
-- partner. `aco-api check` reports how many rows each rule attributed.
CREATE TABLE usage_attribution (
    customer_id  TEXT PRIMARY KEY REFERENCES customers (id),
    partner_id   TEXT REFERENCES partners (id),
    rule         TEXT NOT NULL CHECK (rule IN ('GRANTS_OF_ONE_PARTNER', 'ONLY_ACTIVE_RELATIONSHIP',
                     'EARLIEST_GRANT', 'EARLIEST_RELATIONSHIP', 'NO_PARTNER')),
    -- The customer's rows of usage figures (every revision) it attributed.
    rows         INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TEMP TABLE usage_customers AS SELECT DISTINCT customer_id FROM monthly_usage_history
    UNION SELECT customer_id FROM monthly_usage;

INSERT INTO usage_attribution (customer_id, partner_id, rule)
SELECT g.customer_id, MIN(g.partner_id), 'GRANTS_OF_ONE_PARTNER'
  FROM credit_grants g JOIN usage_customers u ON u.customer_id = g.customer_id
 GROUP BY g.customer_id HAVING COUNT(DISTINCT g.partner_id) = 1;

INSERT INTO usage_attribution (customer_id, partner_id, rule)
SELECT rel.customer_id, MIN(rel.partner_id), 'ONLY_ACTIVE_RELATIONSHIP'
  FROM reseller_relationships rel
  JOIN usage_customers u ON u.customer_id = rel.customer_id
  JOIN partners p ON p.id = rel.partner_id AND p.partner_type != 'INDIRECT_PROVIDER'
 WHERE rel.status = 'ACTIVE'
   AND rel.customer_id NOT IN (SELECT customer_id FROM usage_attribution)
 GROUP BY rel.customer_id HAVING COUNT(DISTINCT rel.partner_id) = 1;

INSERT INTO usage_attribution (customer_id, partner_id, rule)
SELECT u.customer_id,
       (SELECT g.partner_id FROM credit_grants g WHERE g.customer_id = u.customer_id
         ORDER BY g.granted_at, g.id LIMIT 1),
       'EARLIEST_GRANT'
  FROM usage_customers u
 WHERE u.customer_id NOT IN (SELECT customer_id FROM usage_attribution)
   AND EXISTS (SELECT 1 FROM credit_grants g WHERE g.customer_id = u.customer_id);

INSERT INTO usage_attribution (customer_id, partner_id, rule)
SELECT u.customer_id,
       (SELECT rel.partner_id FROM reseller_relationships rel
          JOIN partners p ON p.id = rel.partner_id AND p.partner_type != 'INDIRECT_PROVIDER'
         WHERE rel.customer_id = u.customer_id ORDER BY rel.requested_at, rel.id LIMIT 1),
       'EARLIEST_RELATIONSHIP'
  FROM usage_customers u
 WHERE u.customer_id NOT IN (SELECT customer_id FROM usage_attribution)
   AND EXISTS (SELECT 1 FROM reseller_relationships rel
                 JOIN partners p ON p.id = rel.partner_id AND p.partner_type != 'INDIRECT_PROVIDER'
                WHERE rel.customer_id = u.customer_id);

INSERT INTO usage_attribution (customer_id, partner_id, rule)
SELECT customer_id, NULL, 'NO_PARTNER' FROM usage_customers
 WHERE customer_id NOT IN (SELECT customer_id FROM usage_attribution);

DROP TABLE usage_customers;
UPDATE usage_attribution
   SET rows = (SELECT COUNT(*) FROM monthly_usage_history h WHERE h.customer_id = usage_attribution.customer_id);

-- The current figures, keyed by customer, partner and month.
CREATE TABLE monthly_usage_by_partner (
    customer_id          TEXT NOT NULL REFERENCES customers (id),
    partner_id           TEXT NOT NULL REFERENCES partners (id),
    month                TEXT NOT NULL,
    first_party_acr      TEXT NOT NULL,
    third_party_charges  TEXT NOT NULL,
    recorded_at          TEXT NOT NULL,
    recorded_by          TEXT NOT NULL,
    revision             INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (customer_id, partner_id, month)
) STRICT;
INSERT INTO monthly_usage_by_partner (customer_id, partner_id, month, first_party_acr, third_party_charges,
        recorded_at, recorded_by, revision)
SELECT u.customer_id, a.partner_id, u.month, u.first_party_acr, u.third_party_charges,
       u.recorded_at, u.recorded_by, u.revision
  FROM monthly_usage u JOIN usage_attribution a ON a.customer_id = u.customer_id
 WHERE a.partner_id IS NOT NULL;
DROP TABLE monthly_usage;
ALTER TABLE monthly_usage_by_partner RENAME TO monthly_usage;

-- Every figure ever recorded, with its partner (append-only).
CREATE TABLE monthly_usage_history_by_partner (
    id                   INTEGER PRIMARY KEY,
    customer_id          TEXT NOT NULL REFERENCES customers (id),
    partner_id           TEXT REFERENCES partners (id),
    month                TEXT NOT NULL,
    first_party_acr      TEXT NOT NULL,
    third_party_charges  TEXT NOT NULL,
    revision             INTEGER NOT NULL,
    recorded_at          TEXT NOT NULL,
    recorded_by          TEXT NOT NULL,
    recorded_by_role     TEXT NOT NULL
) STRICT;
INSERT INTO monthly_usage_history_by_partner (id, customer_id, partner_id, month, first_party_acr,
        third_party_charges, revision, recorded_at, recorded_by, recorded_by_role)
SELECT h.id, h.customer_id, a.partner_id, h.month, h.first_party_acr, h.third_party_charges,
       h.revision, h.recorded_at, h.recorded_by, h.recorded_by_role
  FROM monthly_usage_history h LEFT JOIN usage_attribution a ON a.customer_id = h.customer_id;
DROP TABLE monthly_usage_history;
ALTER TABLE monthly_usage_history_by_partner RENAME TO monthly_usage_history;
CREATE INDEX monthly_usage_history_customer ON monthly_usage_history (customer_id, partner_id, month, id);
CREATE TRIGGER monthly_usage_history_no_update BEFORE UPDATE ON monthly_usage_history
BEGIN SELECT RAISE(ABORT, 'monthly_usage_history is append-only'); END;
CREATE TRIGGER monthly_usage_history_no_delete BEFORE DELETE ON monthly_usage_history
BEGIN SELECT RAISE(ABORT, 'monthly_usage_history is append-only'); END;

-- The customers with grants of several partners were settled on the usage
-- of every partner: each partner's grants are settled again on its own
-- usage by `aco-api migrate` or the next sweep, which empty this table.
CREATE TABLE settlements_due (
    customer_id  TEXT PRIMARY KEY REFERENCES customers (id)
) STRICT;
INSERT INTO settlements_due (customer_id)
SELECT customer_id FROM credit_grants GROUP BY customer_id HAVING COUNT(DISTINCT partner_id) > 1;
