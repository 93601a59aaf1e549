-- Agent keys, scoped tokens, tenant KEKs and encrypted secrets.
-- Times are microseconds since the Unix epoch, UTC. Credentials are stored only as keyed
-- hashes; secret values only as AES-256-GCM ciphertext under a per-version data key (DEK),
-- which is itself stored wrapped by the tenant's key-encryption key (KEK), which is stored
-- wrapped by a key derived from the master key (see docs/encryption.md).

CREATE TABLE agent_keys (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    owner_id      TEXT NOT NULL REFERENCES users(id),
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    secret_hash   TEXT NOT NULL UNIQUE,
    scopes        TEXT NOT NULL,          -- JSON array of scope strings
    ip_allowlist  TEXT NOT NULL,          -- JSON array of CIDRs
    expires_at    INTEGER,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    last_used_ip  TEXT,
    revoked_at    INTEGER
) STRICT;
CREATE INDEX agent_keys_tenant ON agent_keys(tenant_id, id);

CREATE TABLE tokens (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    key_id        TEXT NOT NULL REFERENCES agent_keys(id),
    token_hash    TEXT NOT NULL UNIQUE,
    scopes        TEXT NOT NULL,
    ip_allowlist  TEXT NOT NULL,
    expires_at    INTEGER NOT NULL,
    max_uses      INTEGER CHECK (max_uses IS NULL OR max_uses > 0),
    uses          INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER
) STRICT;
CREATE INDEX tokens_key ON tokens(tenant_id, key_id);

CREATE TABLE tenant_keks (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    version     INTEGER NOT NULL CHECK (version > 0),
    wrapped     BLOB NOT NULL,            -- nonce || AES-256-GCM(kek-wrap key, KEK)
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, version)
) STRICT;

CREATE TABLE secrets (
    tenant_id        TEXT NOT NULL REFERENCES tenants(id),
    path             TEXT NOT NULL,
    type             TEXT NOT NULL,
    tier             TEXT NOT NULL,
    current_version  INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, path)
) STRICT;

CREATE TABLE secret_versions (
    tenant_id    TEXT NOT NULL,
    path         TEXT NOT NULL,
    version      INTEGER NOT NULL CHECK (version > 0),
    ciphertext   BLOB NOT NULL,           -- nonce || AES-256-GCM(DEK, value)
    wrapped_dek  BLOB NOT NULL,           -- nonce || AES-256-GCM(KEK, DEK)
    kek_version  INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    created_by   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, path, version),
    FOREIGN KEY (tenant_id, path) REFERENCES secrets(tenant_id, path) ON DELETE CASCADE
) STRICT;
