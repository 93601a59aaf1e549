-- Issue 19: detection and response (the SQLite migration 0009_detection.sql explains each
-- change). Row-level security as everywhere: a tenant's rows for that tenant. Two tables
-- are also readable with keyhold.system = 'on', SELECT only: every replica keeps the
-- active blocks and the tenants' rules in memory (refreshed every few seconds), so that
-- the request path checks them without a round trip; neither holds a secret.
ALTER TABLE audit_events ADD COLUMN severity text NOT NULL DEFAULT 'info'
    CHECK (severity IN ('info', 'warning', 'critical'));
CREATE INDEX audit_severity ON audit_events(chain, severity, id);

ALTER TABLE agent_keys ADD COLUMN suspended_at timestamptz;

CREATE TABLE alert_rules (
    tenant_id  text PRIMARY KEY REFERENCES tenants(id),
    rules      jsonb NOT NULL,
    updated_at timestamptz NOT NULL
);
ALTER TABLE alert_rules ENABLE ROW LEVEL SECURITY;
ALTER TABLE alert_rules FORCE ROW LEVEL SECURITY;
CREATE POLICY alert_rules_tenant ON alert_rules
    USING (tenant_id = current_setting('keyhold.tenant', true))
    WITH CHECK (tenant_id = current_setting('keyhold.tenant', true));
CREATE POLICY alert_rules_system_read ON alert_rules FOR SELECT
    USING (current_setting('keyhold.system', true) = 'on');
GRANT SELECT, INSERT, UPDATE ON alert_rules TO keyhold_app;

CREATE TABLE alerts (
    id              text PRIMARY KEY,
    tenant_id       text NOT NULL REFERENCES tenants(id),
    rule            text NOT NULL,
    severity        text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    message         text NOT NULL,
    subject         text,
    response        text,
    raised_at       timestamptz NOT NULL,
    acknowledged_at timestamptz,
    acknowledged_by text
);
CREATE INDEX alerts_tenant ON alerts(tenant_id, id);
ALTER TABLE alerts ENABLE ROW LEVEL SECURITY;
ALTER TABLE alerts FORCE ROW LEVEL SECURITY;
CREATE POLICY alerts_tenant ON alerts
    USING (tenant_id = current_setting('keyhold.tenant', true))
    WITH CHECK (tenant_id = current_setting('keyhold.tenant', true));
GRANT SELECT, INSERT, UPDATE ON alerts TO keyhold_app;

CREATE TABLE address_blocks (
    id         text PRIMARY KEY,
    tenant_id  text NOT NULL REFERENCES tenants(id),
    address    text NOT NULL,
    rule       text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    lifted_at  timestamptz
);
CREATE INDEX address_blocks_active ON address_blocks(expires_at);
ALTER TABLE address_blocks ENABLE ROW LEVEL SECURITY;
ALTER TABLE address_blocks FORCE ROW LEVEL SECURITY;
CREATE POLICY address_blocks_tenant ON address_blocks
    USING (tenant_id = current_setting('keyhold.tenant', true))
    WITH CHECK (tenant_id = current_setting('keyhold.tenant', true));
CREATE POLICY address_blocks_system_read ON address_blocks FOR SELECT
    USING (current_setting('keyhold.system', true) = 'on');
GRANT SELECT, INSERT, UPDATE ON address_blocks TO keyhold_app;
