-- Keyhold schema v1: tenants, users, sessions, email tokens, the audit log.
-- Times are microseconds since the Unix epoch, UTC.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
    id                 TEXT PRIMARY KEY,
    tenant_id          TEXT NOT NULL REFERENCES tenants(id),
    email              TEXT NOT NULL UNIQUE,
    display_name       TEXT,
    password_hash      TEXT NOT NULL,
    password_zxcvbn    INTEGER NOT NULL,
    email_verified_at  INTEGER,
    mfa_enabled        INTEGER NOT NULL DEFAULT 0,
    role               TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'approver', 'member')),
    created_at         INTEGER NOT NULL
) STRICT;
CREATE INDEX users_tenant ON users(tenant_id);

CREATE TABLE sessions (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES tenants(id),
    user_id           TEXT NOT NULL REFERENCES users(id),
    token_hash        TEXT NOT NULL UNIQUE,
    created_at        INTEGER NOT NULL,
    last_seen_at      INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    authenticated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_user ON sessions(tenant_id, user_id);

CREATE TABLE email_tokens (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    user_id     TEXT NOT NULL REFERENCES users(id),
    purpose     TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
) STRICT;

CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    chain       TEXT NOT NULL,          -- tenant id, or '' for events with no tenant
    tenant_id   TEXT,
    at_us       INTEGER NOT NULL,
    actor_type  TEXT NOT NULL,
    actor_id    TEXT,
    action      TEXT NOT NULL,
    target      TEXT,
    outcome     TEXT NOT NULL,
    ip          TEXT,
    user_agent  TEXT,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
) STRICT;
CREATE INDEX audit_chain ON audit_events(chain, id);
CREATE INDEX audit_actor ON audit_events(tenant_id, actor_id, id);

-- The log is append-only: SQLite itself refuses to change or remove a row.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;
