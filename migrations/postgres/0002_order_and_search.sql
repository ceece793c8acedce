-- Lists in an order of the caller's choosing, and search: as SQLite's
-- migration 0008. `aco-api migrate` then fills in the sort keys and terms of
-- the rows already there, in batches (`store::search::backfill`).
ALTER TABLE customers ADD COLUMN IF NOT EXISTS name_key TEXT;
ALTER TABLE partners ADD COLUMN IF NOT EXISTS name_key TEXT;
CREATE TABLE IF NOT EXISTS search_terms (
    kind       TEXT NOT NULL,
    term       TEXT NOT NULL,
    object_id  TEXT NOT NULL,
    PRIMARY KEY (kind, term, object_id)
);
CREATE INDEX IF NOT EXISTS search_terms_object ON search_terms (object_id);
CREATE INDEX IF NOT EXISTS customers_by_name ON customers (name_key, id);
CREATE INDEX IF NOT EXISTS partners_by_name ON partners (name_key, id);
CREATE INDEX IF NOT EXISTS aco_requests_by_due ON aco_requests ((CASE WHEN due_at IS NULL OR status = 'NEEDS_INFO' THEN '9999-12-31T23:59:59.999999Z' ELSE due_at END), id);
CREATE INDEX IF NOT EXISTS aco_requests_by_change ON aco_requests (updated_at, id);
