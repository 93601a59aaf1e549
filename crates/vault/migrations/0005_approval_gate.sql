-- Keyhold schema v5: the approval gate for every caller (issue 15).
--
-- A secret gets an identity of its own, so that a delete and a re-create at the same path
-- is a new secret that no earlier request or grant can open.
ALTER TABLE secrets ADD COLUMN id TEXT;
UPDATE secrets SET id = lower(hex(randomblob(16))) WHERE id IS NULL;
CREATE UNIQUE INDEX secrets_id ON secrets(tenant_id, id);

-- Approval requests are rebuilt: a request may now come from a person (user_id) as well
-- as from an agent key (key_id), names the one operation its grant allows, and records the
-- secret's identity and tier when it was made. `requester` ('key:<id>' or 'user:<id>')
-- keys the one-open-request rule for both kinds. Votes reference this table by name: the
-- migration runs with foreign keys off and is checked with foreign_key_check before it
-- commits (store/sqlite/mod.rs), SQLite's documented way to rebuild a table.

CREATE TABLE approval_requests_v5 (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL REFERENCES tenants(id),
    path                TEXT NOT NULL,
    secret_id           TEXT,
    tier                TEXT NOT NULL,
    operation           TEXT NOT NULL DEFAULT 'read'
        CHECK (operation IN ('read', 'delete', 'lower_tier', 'agent_write')),
    to_tier             TEXT,
    requester           TEXT NOT NULL,
    key_id              TEXT REFERENCES agent_keys(id),
    token_id            TEXT,
    user_id             TEXT REFERENCES users(id),
    reason              TEXT,
    required_approvals  INTEGER NOT NULL CHECK (required_approvals > 0),
    delay_secs          INTEGER NOT NULL CHECK (delay_secs >= 0),
    grant_ttl_secs      INTEGER NOT NULL CHECK (grant_ttl_secs > 0),
    status              TEXT NOT NULL
        CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'used', 'voided')),
    requested_at        INTEGER NOT NULL,
    expires_at          INTEGER NOT NULL,
    available_at        INTEGER,
    grant_expires_at    INTEGER,
    decided_at          INTEGER,
    denied_by           TEXT,
    deny_reason         TEXT,
    used_at             INTEGER,
    void_reason         TEXT,
    CHECK ((key_id IS NULL) <> (user_id IS NULL))
) STRICT;

INSERT INTO approval_requests_v5 (id, tenant_id, path, secret_id, tier, operation, to_tier,
    requester, key_id, token_id, user_id, reason, required_approvals, delay_secs,
    grant_ttl_secs, status, requested_at, expires_at, available_at, grant_expires_at,
    decided_at, denied_by, deny_reason, used_at, void_reason)
SELECT r.id, r.tenant_id, r.path,
       (SELECT s.id FROM secrets s WHERE s.tenant_id = r.tenant_id AND s.path = r.path),
       r.tier, 'read', NULL, 'key:' || r.key_id, r.key_id, r.token_id, NULL, r.reason,
       r.required_approvals, r.delay_secs, r.grant_ttl_secs, r.status, r.requested_at,
       r.expires_at, r.available_at, r.grant_expires_at, r.decided_at, r.denied_by,
       r.deny_reason, r.used_at, NULL
FROM approval_requests r;

DROP TABLE approval_requests;
ALTER TABLE approval_requests_v5 RENAME TO approval_requests;

CREATE INDEX approval_requests_tenant ON approval_requests(tenant_id, status, id);
CREATE INDEX approval_requests_secret ON approval_requests(tenant_id, path, status);
-- At most one open request per requester, path, operation and target tier: repeated
-- gated calls reuse it.
CREATE UNIQUE INDEX approval_requests_open
    ON approval_requests(tenant_id, requester, path, operation, COALESCE(to_tier, ''))
    WHERE status IN ('pending', 'approved');
