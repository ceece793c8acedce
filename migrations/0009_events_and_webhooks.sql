-- Events and webhooks: every change is an event, written in the transaction
-- of the change (an outbox), read by the feed, the subscriptions and the
-- webhook deliverer. Events are kept for a retention period (90 days by
-- default) and then removed by the sweep, oldest first.
--
-- `position` orders the feed. Here SQLite assigns it (one more than the
-- largest: the sweep never removes the newest event, so a position is never
-- given twice), and the single writer makes its order the commit order.
CREATE TABLE events (
    position        INTEGER PRIMARY KEY,
    id              TEXT NOT NULL,
    type            TEXT NOT NULL,
    schema_version  INTEGER NOT NULL,
    at              TEXT NOT NULL,
    actor_role      TEXT NOT NULL,
    actor_subject   TEXT NOT NULL,
    visibility      TEXT NOT NULL,
    object_id       TEXT NOT NULL,
    request_id      TEXT,
    partner_id      TEXT,
    data            TEXT NOT NULL
) STRICT;

-- An endpoint that is sent the events its owner may see (a partner's; a
-- programme subscription, `partner_id` NULL, is sent every event). `cursor`
-- is the position of the last event considered for it.
CREATE TABLE webhook_subscriptions (
    id                     TEXT PRIMARY KEY,
    partner_id             TEXT,
    url                    TEXT NOT NULL,
    event_types            TEXT NOT NULL,
    description            TEXT,
    enabled                INTEGER NOT NULL,
    secret                 TEXT NOT NULL,
    previous_secret        TEXT,
    previous_secret_until  TEXT,
    cursor                 INTEGER NOT NULL,
    version                INTEGER NOT NULL,
    created_at             TEXT NOT NULL,
    created_by             TEXT NOT NULL,
    updated_at             TEXT NOT NULL
) STRICT;
CREATE INDEX webhook_subscriptions_by_partner ON webhook_subscriptions (partner_id, id);

-- One event for one subscription: its id is the `webhook-id` of every
-- attempt. `next_attempt_at` is set while it waits to be sent (or is being
-- sent: a lease), NULL once it succeeded or failed.
CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    subscription_id  TEXT NOT NULL,
    event_position   INTEGER NOT NULL,
    event_type       TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  TEXT,
    retry_until      TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    last_attempt_at  TEXT,
    delivered_at     TEXT
) STRICT;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at);
CREATE INDEX webhook_deliveries_by_subscription ON webhook_deliveries (subscription_id, id);

-- Each attempt at a delivery: what the endpoint answered, or why nothing.
CREATE TABLE webhook_attempts (
    delivery_id  TEXT NOT NULL,
    attempt      INTEGER NOT NULL,
    at           TEXT NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    duration_ms  INTEGER NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
) STRICT;
