-- Approval requests and their votes, tenant settings, member invitations.
-- Times are microseconds since the Unix epoch, UTC.

-- One row per tenant that changed its settings; absent means the defaults.
CREATE TABLE tenant_settings (
    tenant_id   TEXT PRIMARY KEY REFERENCES tenants(id),
    settings    TEXT NOT NULL,            -- JSON, keyhold_core::api::TenantSettings
    updated_at  INTEGER NOT NULL
) STRICT;

-- A request by an agent key (or a token of it) to read one path once. The rules in force
-- when it was made (quorum, delay, grant lifetime) are copied into it.
-- status: pending -> approved -> used, or -> denied / expired.
CREATE TABLE approval_requests (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL REFERENCES tenants(id),
    path                TEXT NOT NULL,
    tier                TEXT NOT NULL,
    key_id              TEXT NOT NULL REFERENCES agent_keys(id),
    token_id            TEXT,
    reason              TEXT,
    required_approvals  INTEGER NOT NULL CHECK (required_approvals > 0),
    delay_secs          INTEGER NOT NULL CHECK (delay_secs >= 0),
    grant_ttl_secs      INTEGER NOT NULL CHECK (grant_ttl_secs > 0),
    status              TEXT NOT NULL
        CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'used')),
    requested_at        INTEGER NOT NULL,
    expires_at          INTEGER NOT NULL,
    available_at        INTEGER,
    grant_expires_at    INTEGER,
    decided_at          INTEGER,
    denied_by           TEXT,
    deny_reason         TEXT,
    used_at             INTEGER
) STRICT;
CREATE INDEX approval_requests_tenant ON approval_requests(tenant_id, status, id);
-- At most one open request per key and path: repeated reads reuse it.
CREATE UNIQUE INDEX approval_requests_open ON approval_requests(tenant_id, key_id, path)
    WHERE status IN ('pending', 'approved');

-- Distinct people: one vote per person per request.
CREATE TABLE approval_votes (
    request_id  TEXT NOT NULL REFERENCES approval_requests(id),
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    user_id     TEXT NOT NULL REFERENCES users(id),
    at          INTEGER NOT NULL,
    comment     TEXT,
    PRIMARY KEY (request_id, user_id)
) STRICT;

-- Invitations to join a tenant with a role; the token (mailed) is stored as a keyed hash.
CREATE TABLE invitations (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    email       TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'approver', 'member')),
    token_hash  TEXT NOT NULL UNIQUE,
    invited_by  TEXT NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
) STRICT;
CREATE INDEX invitations_tenant ON invitations(tenant_id, id);

-- A member removed from the tenant keeps their row (history, votes and keys refer to it)
-- but can no longer sign in or be found; their sessions end and their keys are revoked.
ALTER TABLE users ADD COLUMN removed_at INTEGER;
