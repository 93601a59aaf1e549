-- Keyhold schema v2: two-factor authentication (TOTP, backup codes, MFA login tickets,
-- wrong-code lockout). Times are microseconds since the Unix epoch, UTC.

-- One TOTP enrollment per user: pending while confirmed_at is NULL, active after.
-- secret_sealed is nonce (12 bytes) || AES-256-GCM ciphertext and tag, under the wrap key
-- with the tenant and user as associated data; the secret itself is never stored.
-- last_step is the replay guard: the last time step a code was accepted for.
CREATE TABLE mfa_totp (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    user_id        TEXT NOT NULL UNIQUE REFERENCES users(id),
    secret_sealed  BLOB NOT NULL,
    created_at     INTEGER NOT NULL,
    confirmed_at   INTEGER,
    last_step      INTEGER
) STRICT;

-- Keyed hashes of normalised backup codes; a used code keeps its row with used_at set.
CREATE TABLE mfa_backup_codes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    user_id     TEXT NOT NULL REFERENCES users(id),
    code_hash   TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    used_at     INTEGER
) STRICT;
CREATE INDEX mfa_backup_codes_user ON mfa_backup_codes(tenant_id, user_id);

-- The second step of a 2FA sign-in: a khm_ credential (stored as a keyed hash), valid for
-- a few minutes and a few attempts, used once.
CREATE TABLE mfa_tickets (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    user_id      TEXT NOT NULL REFERENCES users(id),
    ticket_hash  TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    used_at      INTEGER
) STRICT;
CREATE INDEX mfa_tickets_user ON mfa_tickets(tenant_id, user_id);

-- Wrong second-factor codes, per account, for the hourly lockout; pruned as they age.
CREATE TABLE mfa_failures (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    user_id    TEXT NOT NULL REFERENCES users(id),
    at         INTEGER NOT NULL
) STRICT;
CREATE INDEX mfa_failures_user ON mfa_failures(tenant_id, user_id, at);

-- Second-factor attempts for the account are refused until this time.
ALTER TABLE users ADD COLUMN mfa_locked_until INTEGER;
