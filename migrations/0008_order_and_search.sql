-- Lists in an order of the caller's choosing, and search (issue: lists people
-- can use). A name's sort key and the terms of customers and partners are
-- written by the service with each name; the migration's hook fills them in
-- for the rows already there (`store::search::backfill`).
ALTER TABLE customers ADD COLUMN name_key TEXT;
ALTER TABLE partners ADD COLUMN name_key TEXT;
CREATE TABLE search_terms (
    kind       TEXT NOT NULL,
    term       TEXT NOT NULL,
    object_id  TEXT NOT NULL,
    PRIMARY KEY (kind, term, object_id)
) STRICT;
CREATE INDEX search_terms_object ON search_terms (object_id);
CREATE INDEX customers_by_name ON customers (name_key, id);
CREATE INDEX partners_by_name ON partners (name_key, id);
CREATE INDEX aco_requests_by_due ON aco_requests ((CASE WHEN due_at IS NULL OR status = 'NEEDS_INFO' THEN '9999-12-31T23:59:59.999999Z' ELSE due_at END), id);
CREATE INDEX aco_requests_by_change ON aco_requests (updated_at, id);
