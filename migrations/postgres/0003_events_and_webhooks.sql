-- Events and webhooks: every change is an event, written in the transaction
-- of the change (an outbox), read by the feed, the subscriptions and the
-- webhook deliverer. Events are kept for a retention period (90 days by
-- default) and then removed by the sweep, oldest first.
--
-- As SQLite's migration 0009. `position` orders the feed: with no sequences,
-- the service makes it from the clock (microseconds times 1,024 plus a random
-- part, `Tx::clock_key`), and the feed reads only behind a horizon that every
-- transaction which may still commit is past (`store::events`).
CREATE TABLE IF NOT EXISTS events (
    position        BIGINT PRIMARY KEY,
    id              TEXT NOT NULL,
    type            TEXT NOT NULL,
    schema_version  BIGINT NOT NULL,
    at              TEXT NOT NULL,
    actor_role      TEXT NOT NULL,
    actor_subject   TEXT NOT NULL,
    visibility      TEXT NOT NULL,
    object_id       TEXT NOT NULL,
    request_id      TEXT,
    partner_id      TEXT,
    data            TEXT NOT NULL
);
-- The feed pages by the position's zero-padded text, as its cursors carry it.
CREATE INDEX IF NOT EXISTS events_by_key ON events ((lpad(position::text, 20, '0')));

-- An endpoint that is sent the events its owner may see (a partner's; a
-- programme subscription, `partner_id` NULL, is sent every event). `cursor`
-- is the position of the last event considered for it.
CREATE TABLE IF NOT EXISTS webhook_subscriptions (
    id                     TEXT PRIMARY KEY,
    partner_id             TEXT,
    url                    TEXT NOT NULL,
    event_types            TEXT NOT NULL,
    description            TEXT,
    enabled                BIGINT NOT NULL,
    secret                 TEXT NOT NULL,
    previous_secret        TEXT,
    previous_secret_until  TEXT,
    cursor                 BIGINT NOT NULL,
    version                BIGINT NOT NULL,
    created_at             TEXT NOT NULL,
    created_by             TEXT NOT NULL,
    updated_at             TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_subscriptions_by_partner ON webhook_subscriptions (partner_id, id);

-- One event for one subscription: its id is the `webhook-id` of every
-- attempt. `next_attempt_at` is set while it waits to be sent (or is being
-- sent: a lease), NULL once it succeeded or failed.
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id               TEXT PRIMARY KEY,
    subscription_id  TEXT NOT NULL,
    event_position   BIGINT NOT NULL,
    event_type       TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         BIGINT NOT NULL,
    next_attempt_at  TEXT,
    retry_until      TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    last_attempt_at  TEXT,
    delivered_at     TEXT
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (next_attempt_at);
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_subscription ON webhook_deliveries (subscription_id, id);

-- Each attempt at a delivery: what the endpoint answered, or why nothing.
CREATE TABLE IF NOT EXISTS webhook_attempts (
    delivery_id  TEXT NOT NULL,
    attempt      BIGINT NOT NULL,
    at           TEXT NOT NULL,
    status_code  BIGINT,
    error        TEXT,
    duration_ms  BIGINT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
