-- Issue 19: detection and response (docs/alerts.md).
--
-- Severity of every audit event: set by the domain when the event is written, from its
-- action and outcome (docs/audit.md#severity). Not covered by the chain hash (older events
-- were hashed without it); it is a classification of fields the hash does cover, so a
-- changed severity is detectable by classifying the event again. Older rows read 'info'.
ALTER TABLE audit_events ADD COLUMN severity TEXT NOT NULL DEFAULT 'info'
    CHECK (severity IN ('info', 'warning', 'critical'));
CREATE INDEX audit_severity ON audit_events(chain, severity, id);

-- A suspended agent key: between active and revoked. Its tokens are refused with it.
ALTER TABLE agent_keys ADD COLUMN suspended_at INTEGER;

-- The tenant's alert rules, one JSON document (absent: the documented defaults).
CREATE TABLE alert_rules (
    tenant_id  TEXT PRIMARY KEY REFERENCES tenants(id),
    rules      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- Raised alerts; acknowledging one sets acknowledged_*; nothing is deleted.
CREATE TABLE alerts (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id),
    rule            TEXT NOT NULL,
    severity        TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    message         TEXT NOT NULL,
    subject         TEXT,
    response        TEXT,
    raised_at       INTEGER NOT NULL,
    acknowledged_at INTEGER,
    acknowledged_by TEXT
) STRICT;
CREATE INDEX alerts_tenant ON alerts(tenant_id, id);

-- Address blocks: an address refused for a tenant until expires_at, unless lifted.
CREATE TABLE address_blocks (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    address    TEXT NOT NULL,
    rule       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    lifted_at  INTEGER
) STRICT;
CREATE INDEX address_blocks_active ON address_blocks(expires_at);
