-- Integrations (04xx): API tokens, webhook subscriptions with their outbox and
-- delivery log, alerts, and the live state the notifier last announced.
-- Written by the integrations role (the API's token check updates last_used_at;
-- `occupancy api token`, `occupancy webhooks`, `occupancy alerts run`).

-- API tokens: only the SHA-256 of the secret is stored (tokens are 256-bit
-- random, so a fast hash is enough); prefix is the public part shown in lists.
CREATE TABLE api_tokens (
    token_id     serial PRIMARY KEY,
    name         text NOT NULL,
    prefix       text NOT NULL UNIQUE,
    token_hash   bytea NOT NULL UNIQUE,
    scopes       text[] NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    last_used_at timestamptz
);

CREATE TABLE webhook_subscriptions (
    subscription_id serial PRIMARY KEY,
    url             text NOT NULL,
    events          text[] NOT NULL,
    secret          text NOT NULL,
    active          boolean NOT NULL DEFAULT true,
    failures        integer NOT NULL DEFAULT 0,  -- consecutive failed attempts
    created_at      timestamptz NOT NULL DEFAULT now(),
    disabled_at     timestamptz,
    disabled_reason text
);

-- One row per (event, subscription): delivered at least once, in event_id
-- order per (subscription, subject).
CREATE TABLE webhook_outbox (
    event_id        bigserial PRIMARY KEY,
    subscription_id integer NOT NULL REFERENCES webhook_subscriptions ON DELETE CASCADE,
    event_type      text NOT NULL,
    subject         text NOT NULL,  -- space_id for space.state, rule:subject for alert
    payload         jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    last_error      text
);
CREATE INDEX webhook_outbox_pending ON webhook_outbox (subscription_id, event_id)
    WHERE delivered_at IS NULL;

CREATE TABLE webhook_deliveries (
    delivery_id     bigserial PRIMARY KEY,
    event_id        bigint NOT NULL REFERENCES webhook_outbox ON DELETE CASCADE,
    subscription_id integer NOT NULL,
    attempted_at    timestamptz NOT NULL DEFAULT now(),
    status_code     integer,
    ok              boolean NOT NULL,
    error           text,
    duration_ms     double precision NOT NULL
);
CREATE INDEX webhook_deliveries_sub ON webhook_deliveries (subscription_id, attempted_at);

-- Live state last announced per space (debounced), so a restart of the
-- notifier neither repeats nor skips a change.
CREATE TABLE notify_space_state (
    space_id   text PRIMARY KEY,
    state      text NOT NULL,
    people     double precision,
    since      timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Alerts: raised once, resolved once. One open alert per (rule, subject).
CREATE TABLE alerts (
    alert_id    bigserial PRIMARY KEY,
    rule        text NOT NULL,
    subject     text NOT NULL,
    severity    text NOT NULL DEFAULT 'warning',
    message     text NOT NULL,
    value       double precision,
    raised_at   timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz
);
CREATE UNIQUE INDEX alerts_open ON alerts (rule, subject) WHERE resolved_at IS NULL;
