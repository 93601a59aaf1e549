-- Ed25519 agent keys (issue 20). An agent key either has a kha_ secret (its keyed hash in
-- agent_keys.secret_hash) or public keys here: then agent_keys.secret_hash holds
-- 'ed25519:' || id, which no HMAC hex digest equals, so no bearer credential matches it.
-- A key carries at most two unretired public keys (rotation with overlap; the store checks
-- the count in the transaction that adds one). A retired public key stays, retired, so that
-- it can never be added back. The raw 32-byte key; fingerprint = hex SHA-256 of it.
CREATE TABLE agent_key_public_keys (
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    key_id       TEXT NOT NULL REFERENCES agent_keys(id),
    fingerprint  TEXT NOT NULL CHECK (length(fingerprint) = 64),
    public_key   BLOB NOT NULL CHECK (length(public_key) = 32),
    added_at     INTEGER NOT NULL,
    retired_at   INTEGER,
    PRIMARY KEY (key_id, fingerprint)
) STRICT;
CREATE INDEX agent_key_public_keys_tenant ON agent_key_public_keys(tenant_id, key_id);

-- Nonces of accepted signed requests, kept until the signature's created + 60 s has
-- passed (after that the signature is refused as stale anyway); expired rows are deleted
-- by the next insert. Only a signature that verified with a live key gets a row.
CREATE TABLE signature_nonces (
    tenant_id   TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (key_id, nonce)
) STRICT;
CREATE INDEX signature_nonces_expiry ON signature_nonces(tenant_id, expires_at);
