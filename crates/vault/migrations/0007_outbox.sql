-- Issue 18: what leaves the vault. Times are microseconds since the Unix epoch, UTC.
--
-- Webhook endpoints, per tenant. The URL (a Slack URL is itself a credential) and the
-- signing secrets are sealed under a key derived from the master key (AAD names the
-- endpoint), so a copy of the database alone cannot forge or redirect a delivery;
-- `url_display` is scheme://host only.
CREATE TABLE webhook_endpoints (
    id                     TEXT PRIMARY KEY,
    tenant_id              TEXT NOT NULL REFERENCES tenants(id),
    kind                   TEXT NOT NULL CHECK (kind IN ('webhook', 'slack')),
    url_sealed             BLOB NOT NULL,
    url_display            TEXT NOT NULL,
    events                 TEXT NOT NULL,
    description            TEXT,
    secret_sealed          BLOB,
    previous_secret_sealed BLOB,
    previous_until_us      INTEGER,
    secret_version         INTEGER NOT NULL DEFAULT 1,
    enabled                INTEGER NOT NULL DEFAULT 1,
    disabled_reason        TEXT,
    failing_since_us       INTEGER,
    created_us             INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints(tenant_id, created_us);

-- Which event types an endpoint takes: exact types, or '*' for all. Families such as
-- `approval.*` are expanded when the endpoint is saved, so an event is matched by one
-- indexed lookup in the transaction that records it.
CREATE TABLE webhook_subscriptions (
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id),
    tenant_id   TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    PRIMARY KEY (endpoint_id, event_type)
);
CREATE INDEX webhook_subscriptions_type ON webhook_subscriptions(tenant_id, event_type);

-- The outbox: one row per message to deliver (a webhook to one endpoint, or one mail),
-- written in the transaction of the audit event it belongs to, delivered at least once by
-- the background worker. `id` is the message id (`webhook-id`), the same on every retry.
-- Mail payloads are sealed (they may carry a reset link); webhook payloads are the JSON
-- body, built from the audit event, which never carries a secret.
CREATE TABLE outbox (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT,
    kind             TEXT NOT NULL CHECK (kind IN ('webhook', 'mail')),
    endpoint_id      TEXT,
    event_type       TEXT NOT NULL,
    audit_id         INTEGER,
    payload          BLOB NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    created_us       INTEGER NOT NULL,
    give_up_us       INTEGER NOT NULL,
    next_us          INTEGER NOT NULL,
    lease_until_us   INTEGER,
    last_attempt_us  INTEGER,
    last_status      INTEGER,
    last_error       TEXT,
    last_response    TEXT
);
CREATE INDEX outbox_due ON outbox(next_us) WHERE status = 'pending';
CREATE INDEX outbox_endpoint ON outbox(endpoint_id, created_us);

-- Each person's notification choices; no row: the defaults (approval mail on).
CREATE TABLE notification_prefs (
    user_id       TEXT PRIMARY KEY REFERENCES users(id),
    tenant_id     TEXT NOT NULL,
    approval_mail INTEGER NOT NULL
);
