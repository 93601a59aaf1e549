-- Ed25519 agent keys (issue 20); SQLite's 0010_signing_keys.sql has the same tables.
-- An agent key either has a kha_ secret (its keyed hash in agent_keys.secret_hash) or
-- public keys here: then agent_keys.secret_hash holds 'ed25519:' || id, which no HMAC hex
-- digest equals. At most two unretired public keys per key (the store counts them, under
-- a lock on the key's row, in the transaction that adds one). A retired public key stays,
-- retired, so it can never be added back. Tenant rows, plus a SELECT lookup by key id: a
-- signed request names its key id before its tenant is known, as a kha_ key does.
CREATE TABLE agent_key_public_keys (
    tenant_id    text NOT NULL REFERENCES tenants(id),
    key_id       text NOT NULL,
    fingerprint  text NOT NULL CHECK (length(fingerprint) = 64),
    public_key   bytea NOT NULL CHECK (length(public_key) = 32),
    added_at     timestamptz NOT NULL,
    retired_at   timestamptz,
    PRIMARY KEY (key_id, fingerprint),
    FOREIGN KEY (tenant_id, key_id) REFERENCES agent_keys(tenant_id, id)
);
CREATE INDEX agent_key_public_keys_tenant ON agent_key_public_keys(tenant_id, key_id);
ALTER TABLE agent_key_public_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_key_public_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY agent_key_public_keys_tenant ON agent_key_public_keys
    USING (tenant_id = current_setting('keyhold.tenant', true))
    WITH CHECK (tenant_id = current_setting('keyhold.tenant', true));
CREATE POLICY agent_key_public_keys_lookup ON agent_key_public_keys FOR SELECT
    USING (key_id = current_setting('keyhold.lookup', true));
GRANT SELECT, INSERT, UPDATE ON agent_key_public_keys TO keyhold_app;

-- Nonces of accepted signed requests, shared by every replica: a nonce one replica
-- accepted is refused by all. Kept until the signature's created + 60 s has passed, then
-- deleted by the tenant's next insert. Only a signature that verified with a live key gets
-- a row, so made-up requests grow nothing here.
CREATE TABLE signature_nonces (
    tenant_id   text NOT NULL REFERENCES tenants(id),
    key_id      text NOT NULL,
    nonce       text NOT NULL,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (key_id, nonce)
);
CREATE INDEX signature_nonces_expiry ON signature_nonces(tenant_id, expires_at);
ALTER TABLE signature_nonces ENABLE ROW LEVEL SECURITY;
ALTER TABLE signature_nonces FORCE ROW LEVEL SECURITY;
CREATE POLICY signature_nonces_tenant ON signature_nonces
    USING (tenant_id = current_setting('keyhold.tenant', true))
    WITH CHECK (tenant_id = current_setting('keyhold.tenant', true));
GRANT SELECT, INSERT, DELETE ON signature_nonces TO keyhold_app;
