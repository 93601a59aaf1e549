-- Issue 18: what leaves the vault (the SQLite migration 0007_outbox.sql explains each
-- table). Row-level security as everywhere: a tenant's rows for that tenant. The outbox
-- alone is also visible with keyhold.system = 'on': the delivery worker claims due
-- messages across tenants. It holds no secret in the clear (webhook bodies are built from
-- audit events; mail is sealed), and the worker reads endpoints acting for their tenant.
CREATE TABLE webhook_endpoints (
    id                     text PRIMARY KEY,
    tenant_id              text NOT NULL REFERENCES tenants(id),
    kind                   text NOT NULL CHECK (kind IN ('webhook', 'slack')),
    url_sealed             bytea NOT NULL,
    url_display            text NOT NULL,
    events                 jsonb NOT NULL,
    description            text,
    secret_sealed          bytea,
    previous_secret_sealed bytea,
    previous_until         timestamptz,
    secret_version         integer NOT NULL DEFAULT 1,
    enabled                boolean NOT NULL DEFAULT true,
    disabled_reason        text,
    failing_since          timestamptz,
    created_at             timestamptz NOT NULL
);
CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints(tenant_id, created_at);
ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_endpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_endpoints_tenant ON webhook_endpoints
    USING (tenant_id = current_setting('keyhold.tenant', true))
    WITH CHECK (tenant_id = current_setting('keyhold.tenant', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_endpoints TO keyhold_app;

CREATE TABLE webhook_subscriptions (
    endpoint_id text NOT NULL REFERENCES webhook_endpoints(id),
    tenant_id   text NOT NULL,
    event_type  text NOT NULL,
    PRIMARY KEY (endpoint_id, event_type)
);
CREATE INDEX webhook_subscriptions_type ON webhook_subscriptions(tenant_id, event_type);
ALTER TABLE webhook_subscriptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_subscriptions FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_subscriptions_tenant ON webhook_subscriptions
    USING (tenant_id = current_setting('keyhold.tenant', true))
    WITH CHECK (tenant_id = current_setting('keyhold.tenant', true));
GRANT SELECT, INSERT, DELETE ON webhook_subscriptions TO keyhold_app;

CREATE TABLE outbox (
    id               text PRIMARY KEY,
    tenant_id        text,
    kind             text NOT NULL CHECK (kind IN ('webhook', 'mail')),
    endpoint_id      text,
    event_type       text NOT NULL,
    audit_id         bigint,
    payload          bytea NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL,
    give_up_at       timestamptz NOT NULL,
    next_at          timestamptz NOT NULL,
    lease_until      timestamptz,
    last_attempt_at  timestamptz,
    last_status      integer,
    last_error       text,
    last_response    text
);
CREATE INDEX outbox_due ON outbox(next_at) WHERE status = 'pending';
CREATE INDEX outbox_endpoint ON outbox(endpoint_id, created_at);
ALTER TABLE outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY outbox_tenant ON outbox
    USING (tenant_id = current_setting('keyhold.tenant', true))
    WITH CHECK (tenant_id = current_setting('keyhold.tenant', true));
CREATE POLICY outbox_worker ON outbox
    USING (current_setting('keyhold.system', true) = 'on')
    WITH CHECK (current_setting('keyhold.system', true) = 'on');
GRANT SELECT, INSERT, UPDATE, DELETE ON outbox TO keyhold_app;

CREATE TABLE notification_prefs (
    user_id       text PRIMARY KEY,
    tenant_id     text NOT NULL,
    approval_mail boolean NOT NULL,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id)
);
ALTER TABLE notification_prefs ENABLE ROW LEVEL SECURITY;
ALTER TABLE notification_prefs FORCE ROW LEVEL SECURITY;
CREATE POLICY notification_prefs_tenant ON notification_prefs
    USING (tenant_id = current_setting('keyhold.tenant', true))
    WITH CHECK (tenant_id = current_setting('keyhold.tenant', true));
GRANT SELECT, INSERT, UPDATE ON notification_prefs TO keyhold_app;
