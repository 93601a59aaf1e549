-- Keyhold's PostgreSQL schema, version 1: the SQLite schema after all six of its migrations
-- (crates/vault/migrations/0001..0006), in PostgreSQL's own types, with row-level security.
-- Applied by store/postgres/migrate.rs as keyhold_owner (roles.sql), in one transaction
-- under an advisory lock. Grants go to keyhold_app, the server's role, table by table:
-- exactly the statements the store runs on it.
--
-- Types: times are timestamptz (microsecond precision, as SQLite's integers of
-- microseconds); binary values bytea; JSON lists and settings jsonb; counters bigint (the
-- records hold u32, which integer cannot); autoincrement ids bigint identity. The audit
-- log keeps text where its hash chain covers the exact characters (store/event.rs).
-- Foreign keys to a tenant's rows include tenant_id, so that a row can only ever refer to
-- a row of its own tenant (SQLite's single-column keys do not say so).
--
-- Row-level security: every table is ENABLEd and FORCEd (FORCE binds the owner too, so no
-- session is exempt by accident). The policies read three settings that the store sets
-- with set_config(name, value, true), i.e. SET LOCAL, in each transaction:
--
--   keyhold.tenant  the tenant the transaction acts for. Every tenant table shows, and
--                   accepts, that tenant's rows only (USING and WITH CHECK).
--   keyhold.lookup  the one value a lookup made before the tenant is known goes by: the
--                   keyed hash of a presented credential (session, scoped token, MFA
--                   ticket, email link, invitation), an agent key's id (its secret is then
--                   compared in constant time), or the email signing in. It opens that row to
--                   SELECT only; the store reads the tenant from it and sets keyhold.tenant
--                   for anything further. Writes always need keyhold.tenant.
--   keyhold.system  'on' to read or append the audit chain of events with no tenant, use
--                   the shared failure counters, and list the tenants' ids.
--
-- A query that forgets its tenant finds nothing: with none of these set, every policy is
-- false. current_setting(name, true) is NULL in a session that never set the name, and ''
-- in one where an earlier SET LOCAL has ended (a pooled connection); NULL matches nothing,
-- and no tenant id, hash, key id or email may be '' (the CHECKs below), so neither does ''.
-- These policies keep a forgotten tenant filter from leaking rows; they do not defend
-- against a server that sets another tenant on purpose.

-- Tenants. A tenant sees its own row only; sign-up sets keyhold.tenant to the new tenant's
-- id before inserting it. No lookup: nothing reads a tenant before it knows the id.
CREATE TABLE tenants (
    id          text PRIMARY KEY CHECK (id <> ''),
    name        text NOT NULL,
    created_at  timestamptz NOT NULL
);
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenants_tenant ON tenants
    USING (id = current_setting('keyhold.tenant', true))
    WITH CHECK (id = current_setting('keyhold.tenant', true));
-- The one read across tenants: `keyhold-server kek rotate` without a tenant lists the
-- tenants' ids with keyhold.system = 'on', then asks each, acting for it, whether it has a
-- KEK (SecretStore::kek_tenants). SELECT only, and of this table only: ids and names, never
-- a tenant's keys or data.
CREATE POLICY tenants_system_list ON tenants FOR SELECT
    USING (current_setting('keyhold.system', true) = 'on');
GRANT SELECT, INSERT ON tenants TO keyhold_app;

-- People. Tenant rows, plus a lookup by email: signing in starts from the email alone
-- (emails are unique across tenants). A removed member keeps the row (removed_at).
CREATE TABLE users (
    id                 text PRIMARY KEY,
    tenant_id          text NOT NULL REFERENCES tenants(id),
    email              text NOT NULL UNIQUE CHECK (email <> ''),
    display_name       text,
    password_hash      text NOT NULL,
    password_zxcvbn    smallint NOT NULL,
    email_verified_at  timestamptz,
    mfa_enabled        boolean NOT NULL DEFAULT false,
    role               text NOT NULL CHECK (role IN ('owner', 'admin', 'approver', 'member')),
    created_at         timestamptz NOT NULL,
    mfa_locked_until   timestamptz,
    removed_at         timestamptz,
    -- The target of the tenant-scoped foreign keys; also serves SQLite's users_tenant.
    UNIQUE (tenant_id, id)
);
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_tenant ON users
    USING (tenant_id = current_setting('keyhold.tenant', true))
    WITH CHECK (tenant_id = current_setting('keyhold.tenant', true));
CREATE POLICY users_lookup ON users FOR SELECT
    USING (email = current_setting('keyhold.lookup', true));
GRANT SELECT, INSERT, UPDATE ON users TO keyhold_app;

-- Sessions. Tenant rows, plus a lookup by the token's keyed hash: a request presents only
-- the session token.
CREATE TABLE sessions (
    id                text PRIMARY KEY,
    tenant_id         text NOT NULL REFERENCES tenants(id),
    user_id           text NOT NULL,
    token_hash        text NOT NULL UNIQUE CHECK (token_hash <> ''),
    created_at        timestamptz NOT NULL,
    last_seen_at      timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    authenticated_at  timestamptz NOT NULL,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id)
);
CREATE INDEX sessions_user ON sessions(tenant_id, user_id);
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY sessions_tenant ON sessions
    USING (tenant_id = current_setting('keyhold.tenant', true))
    WITH CHECK (tenant_id = current_setting('keyhold.tenant', true));
CREATE POLICY sessions_lookup ON sessions FOR SELECT
    USING (token_hash = current_setting('keyhold.lookup', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON sessions TO keyhold_app;

-- Email verification links. Tenant rows, plus a lookup by the link token's keyed hash:
-- the link is all the person clicking it brings.
CREATE TABLE email_tokens (
    id          text PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants(id),
    user_id     text NOT NULL,
    purpose     text NOT NULL,
    token_hash  text NOT NULL UNIQUE CHECK (token_hash <> ''),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id)
);
ALTER TABLE email_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE email_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY email_tokens_tenant ON email_tokens
    USING (tenant_id = current_setting('keyhold.tenant', true))
    WITH CHECK (tenant_id = current_setting('keyhold.tenant', true));
CREATE POLICY email_tokens_lookup ON email_tokens FOR SELECT
    USING (token_hash = current_setting('keyhold.lookup', true));
GRANT SELECT, INSERT, UPDATE ON email_tokens TO keyhold_app;

-- The audit log: one hash chain per tenant (chain = tenant_id) and one for events with no
-- tenant (chain = '', tenant_id NULL: a failed sign-in for an unknown email). Tenant events
-- are tenant rows; the tenant-less chain is reachable only with keyhold.system = 'on', which
-- the store sets only to append to it. No tenant foreign key, as in SQLite: the log outlives
-- whatever it names. Policies exist for SELECT and INSERT only, the server's role is granted
-- only those, and a trigger refuses UPDATE, DELETE and TRUNCATE from anyone (the owner too):
-- three separate reasons a row cannot change.
CREATE TABLE audit_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chain       text NOT NULL,
    tenant_id   text CHECK (tenant_id <> ''),
    at          timestamptz NOT NULL,
    actor_type  text NOT NULL,
    actor_id    text,
    action      text NOT NULL,
    target      text,
    outcome     text NOT NULL,
    -- text, not inet or jsonb: the chain hash covers these exact characters.
    ip          text,
    user_agent  text,
    detail      text NOT NULL,
    prev_hash   text NOT NULL,
    hash        text NOT NULL,
    CHECK (chain = coalesce(tenant_id, ''))
);
CREATE INDEX audit_chain ON audit_events(chain, id);
CREATE INDEX audit_actor ON audit_events(tenant_id, actor_id, id);
ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_events_tenant_read ON audit_events FOR SELECT
    USING (tenant_id = current_setting('keyhold.tenant', true));
CREATE POLICY audit_events_tenant_append ON audit_events FOR INSERT
    WITH CHECK (tenant_id = current_setting('keyhold.tenant', true));
CREATE POLICY audit_events_system_read ON audit_events FOR SELECT
    USING (tenant_id IS NULL AND current_setting('keyhold.system', true) = 'on');
CREATE POLICY audit_events_system_append ON audit_events FOR INSERT
    WITH CHECK (tenant_id IS NULL AND current_setting('keyhold.system', true) = 'on');
GRANT SELECT, INSERT ON audit_events TO keyhold_app;
-- The newest id handed out, for the live feeds' starting point ("the log's head"): the
-- server may read the sequence's position, which names no tenant and no event.
GRANT SELECT ON SEQUENCE audit_events_id_seq TO keyhold_app;

CREATE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only' USING ERRCODE = 'restrict_violation';
END
$$;
-- Statement triggers: they fire even when row-level security hides every row.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- The head of each audit chain: the hash of its newest event. Appending locks the chain's
-- row (INSERT ... ON CONFLICT DO UPDATE) until the transaction commits, so replicas append
-- to one chain in turn and each event chains onto the one committed before it; an
-- identity id taken under that lock also orders a chain's events by commit. Chains lock
-- independently: tenants do not wait for each other.
CREATE TABLE audit_chain_heads (
    chain  text PRIMARY KEY,
    hash   text NOT NULL
);
ALTER TABLE audit_chain_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_chain_heads FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_chain_heads_tenant ON audit_chain_heads
    USING (chain = current_setting('keyhold.tenant', true))
    WITH CHECK (chain = current_setting('keyhold.tenant', true));
CREATE POLICY audit_chain_heads_system ON audit_chain_heads
    USING (chain = '' AND current_setting('keyhold.system', true) = 'on')
    WITH CHECK (chain = '' AND current_setting('keyhold.system', true) = 'on');
GRANT SELECT, INSERT, UPDATE ON audit_chain_heads TO keyhold_app;

-- Failed sign-ins, counted across every replica (vault::throttle): one GCRA state per
-- counted key (a keyed hash of the account's email, or of the client address), the
-- "theoretical arrival time" of the next allowed failure. Not tenant data: a sign-in is
-- counted before any tenant is known, and an unknown email has none. A row whose time has
-- passed holds nothing (its bucket is full again) and is deleted by the next write.
CREATE TABLE failure_counters (
    key  text PRIMARY KEY CHECK (key <> ''),
    tat  timestamptz NOT NULL
);
ALTER TABLE failure_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE failure_counters FORCE ROW LEVEL SECURITY;
CREATE POLICY failure_counters_all ON failure_counters
    USING (current_setting('keyhold.system', true) = 'on')
    WITH CHECK (current_setting('keyhold.system', true) = 'on');
GRANT SELECT, INSERT, UPDATE, DELETE ON failure_counters TO keyhold_app;
CREATE INDEX failure_counters_tat ON failure_counters(tat);

-- Two-factor authentication: tenant rows only; by the time a code is checked, the MFA
-- ticket (below) has named the tenant. secret_sealed is nonce || AES-256-GCM ciphertext;
-- last_step is the replay guard.
CREATE TABLE mfa_totp (
    id             text PRIMARY KEY,
    tenant_id      text NOT NULL REFERENCES tenants(id),
    user_id        text NOT NULL UNIQUE,
    secret_sealed  bytea NOT NULL,
    created_at     timestamptz NOT NULL,
    confirmed_at   timestamptz,
    last_step      bigint CHECK (last_step >= 0),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id)
);

CREATE TABLE mfa_backup_codes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants(id),
    user_id     text NOT NULL,
    code_hash   text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL,
    used_at     timestamptz,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id)
);
CREATE INDEX mfa_backup_codes_user ON mfa_backup_codes(tenant_id, user_id);

-- The second step of a 2FA sign-in. Tenant rows, plus a lookup by the ticket's keyed hash:
-- the ticket is all the second step presents.
CREATE TABLE mfa_tickets (
    id           text PRIMARY KEY,
    tenant_id    text NOT NULL REFERENCES tenants(id),
    user_id      text NOT NULL,
    ticket_hash  text NOT NULL UNIQUE CHECK (ticket_hash <> ''),
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    attempts     bigint NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    used_at      timestamptz,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id)
);
CREATE INDEX mfa_tickets_user ON mfa_tickets(tenant_id, user_id);

CREATE TABLE mfa_failures (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  text NOT NULL REFERENCES tenants(id),
    user_id    text NOT NULL,
    at         timestamptz NOT NULL,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id)
);
CREATE INDEX mfa_failures_user ON mfa_failures(tenant_id, user_id, at);

ALTER TABLE mfa_totp ENABLE ROW LEVEL SECURITY;
ALTER TABLE mfa_totp FORCE ROW LEVEL SECURITY;
CREATE POLICY mfa_totp_tenant ON mfa_totp
    USING (tenant_id = current_setting('keyhold.tenant', true))
    WITH CHECK (tenant_id = current_setting('keyhold.tenant', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON mfa_totp TO keyhold_app;

ALTER TABLE mfa_backup_codes ENABLE ROW LEVEL SECURITY;
ALTER TABLE mfa_backup_codes FORCE ROW LEVEL SECURITY;
CREATE POLICY mfa_backup_codes_tenant ON mfa_backup_codes
    USING (tenant_id = current_setting('keyhold.tenant', true))
    WITH CHECK (tenant_id = current_setting('keyhold.tenant', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON mfa_backup_codes TO keyhold_app;

ALTER TABLE mfa_tickets ENABLE ROW LEVEL SECURITY;
ALTER TABLE mfa_tickets FORCE ROW LEVEL SECURITY;
CREATE POLICY mfa_tickets_tenant ON mfa_tickets
    USING (tenant_id = current_setting('keyhold.tenant', true))
    WITH CHECK (tenant_id = current_setting('keyhold.tenant', true));
CREATE POLICY mfa_tickets_lookup ON mfa_tickets FOR SELECT
    USING (ticket_hash = current_setting('keyhold.lookup', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON mfa_tickets TO keyhold_app;

ALTER TABLE mfa_failures ENABLE ROW LEVEL SECURITY;
ALTER TABLE mfa_failures FORCE ROW LEVEL SECURITY;
CREATE POLICY mfa_failures_tenant ON mfa_failures
    USING (tenant_id = current_setting('keyhold.tenant', true))
    WITH CHECK (tenant_id = current_setting('keyhold.tenant', true));
GRANT SELECT, INSERT, DELETE ON mfa_failures TO keyhold_app;

-- Agent keys. Tenant rows, plus a lookup by the key's id: an agent presents its key, whose
-- id part finds the row and whose secret is then compared in constant time against
-- secret_hash. The id is not a secret, so the lookup opens one row to a deliberate read by
-- id, never to a query that merely forgets its tenant.
CREATE TABLE agent_keys (
    id            text PRIMARY KEY CHECK (id <> ''),
    tenant_id     text NOT NULL REFERENCES tenants(id),
    owner_id      text NOT NULL,
    name          text NOT NULL,
    prefix        text NOT NULL,
    secret_hash   text NOT NULL UNIQUE,
    scopes        jsonb NOT NULL CHECK (jsonb_typeof(scopes) = 'array'),
    ip_allowlist  jsonb NOT NULL CHECK (jsonb_typeof(ip_allowlist) = 'array'),
    expires_at    timestamptz,
    created_at    timestamptz NOT NULL,
    last_used_at  timestamptz,
    last_used_ip  inet,
    revoked_at    timestamptz,
    FOREIGN KEY (tenant_id, owner_id) REFERENCES users(tenant_id, id),
    -- The target of the tenant-scoped foreign keys; also serves SQLite's agent_keys_tenant.
    UNIQUE (tenant_id, id)
);
ALTER TABLE agent_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY agent_keys_tenant ON agent_keys
    USING (tenant_id = current_setting('keyhold.tenant', true))
    WITH CHECK (tenant_id = current_setting('keyhold.tenant', true));
CREATE POLICY agent_keys_lookup ON agent_keys FOR SELECT
    USING (id = current_setting('keyhold.lookup', true));
GRANT SELECT, INSERT, UPDATE ON agent_keys TO keyhold_app;

-- Scoped tokens. Tenant rows, plus a lookup by the token's keyed hash. The token's key is
-- then read with keyhold.tenant set from the token (SQLite's one join becomes two reads).
CREATE TABLE tokens (
    id            text PRIMARY KEY,
    tenant_id     text NOT NULL REFERENCES tenants(id),
    key_id        text NOT NULL,
    token_hash    text NOT NULL UNIQUE CHECK (token_hash <> ''),
    scopes        jsonb NOT NULL CHECK (jsonb_typeof(scopes) = 'array'),
    ip_allowlist  jsonb NOT NULL CHECK (jsonb_typeof(ip_allowlist) = 'array'),
    expires_at    timestamptz NOT NULL,
    max_uses      bigint CHECK (max_uses IS NULL OR max_uses > 0),
    uses          bigint NOT NULL DEFAULT 0 CHECK (uses >= 0),
    created_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    FOREIGN KEY (tenant_id, key_id) REFERENCES agent_keys(tenant_id, id)
);
CREATE INDEX tokens_key ON tokens(tenant_id, key_id);
ALTER TABLE tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tokens_tenant ON tokens
    USING (tenant_id = current_setting('keyhold.tenant', true))
    WITH CHECK (tenant_id = current_setting('keyhold.tenant', true));
CREATE POLICY tokens_lookup ON tokens FOR SELECT
    USING (token_hash = current_setting('keyhold.lookup', true));
GRANT SELECT, INSERT, UPDATE ON tokens TO keyhold_app;

-- Envelope encryption (docs/encryption.md): the tenant's wrapped KEKs, its secrets and their
-- versions (ciphertext under a per-version DEK, the DEK wrapped by the KEK). Tenant rows
-- only: nothing reads a key or a secret before the caller's tenant is known.
CREATE TABLE tenant_keks (
    tenant_id   text NOT NULL REFERENCES tenants(id),
    version     bigint NOT NULL CHECK (version > 0),
    wrapped     bytea NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, version)
);
ALTER TABLE tenant_keks ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_keks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_keks_tenant ON tenant_keks
    USING (tenant_id = current_setting('keyhold.tenant', true))
    WITH CHECK (tenant_id = current_setting('keyhold.tenant', true));
GRANT SELECT, INSERT, DELETE ON tenant_keks TO keyhold_app;

-- A secret's id tells a re-created path from the deleted one (SQLite migration 5). It is
-- NOT NULL here: SQLite's rows all have one once that migration has run.
CREATE TABLE secrets (
    tenant_id        text NOT NULL REFERENCES tenants(id),
    path             text NOT NULL,
    id               text NOT NULL,
    type             text NOT NULL,
    tier             text NOT NULL,
    current_version  bigint NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, path),
    CONSTRAINT secrets_id UNIQUE (tenant_id, id)
);
ALTER TABLE secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE secrets FORCE ROW LEVEL SECURITY;
CREATE POLICY secrets_tenant ON secrets
    USING (tenant_id = current_setting('keyhold.tenant', true))
    WITH CHECK (tenant_id = current_setting('keyhold.tenant', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON secrets TO keyhold_app;

CREATE TABLE secret_versions (
    tenant_id    text NOT NULL,
    path         text NOT NULL,
    version      bigint NOT NULL CHECK (version > 0),
    ciphertext   bytea NOT NULL,
    wrapped_dek  bytea NOT NULL,
    kek_version  bigint NOT NULL,
    created_at   timestamptz NOT NULL,
    created_by   text NOT NULL,
    PRIMARY KEY (tenant_id, path, version),
    FOREIGN KEY (tenant_id, path) REFERENCES secrets(tenant_id, path) ON DELETE CASCADE
);
ALTER TABLE secret_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE secret_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY secret_versions_tenant ON secret_versions
    USING (tenant_id = current_setting('keyhold.tenant', true))
    WITH CHECK (tenant_id = current_setting('keyhold.tenant', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON secret_versions TO keyhold_app;

-- One row per tenant that changed its settings (keyhold_core::api::TenantSettings);
-- absent means the defaults. Tenant rows only. UPDATE for the upsert.
CREATE TABLE tenant_settings (
    tenant_id   text PRIMARY KEY REFERENCES tenants(id),
    settings    jsonb NOT NULL CHECK (jsonb_typeof(settings) = 'object'),
    updated_at  timestamptz NOT NULL
);
ALTER TABLE tenant_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_settings_tenant ON tenant_settings
    USING (tenant_id = current_setting('keyhold.tenant', true))
    WITH CHECK (tenant_id = current_setting('keyhold.tenant', true));
GRANT SELECT, INSERT, UPDATE ON tenant_settings TO keyhold_app;

-- Approval requests (SQLite migration 5's shape): by an agent key or a person, for one
-- operation on one secret, with the rules in force copied in. Tenant rows only: approvers
-- and requesters are signed in, so their tenant is known.
CREATE TABLE approval_requests (
    id                  text PRIMARY KEY,
    tenant_id           text NOT NULL REFERENCES tenants(id),
    path                text NOT NULL,
    secret_id           text,
    tier                text NOT NULL,
    operation           text NOT NULL DEFAULT 'read'
        CHECK (operation IN ('read', 'delete', 'lower_tier', 'agent_write')),
    to_tier             text,
    requester           text NOT NULL,
    key_id              text,
    token_id            text,
    user_id             text,
    reason              text,
    required_approvals  bigint NOT NULL CHECK (required_approvals > 0),
    delay_secs          bigint NOT NULL CHECK (delay_secs >= 0),
    grant_ttl_secs      bigint NOT NULL CHECK (grant_ttl_secs > 0),
    status              text NOT NULL
        CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'used', 'voided')),
    requested_at        timestamptz NOT NULL,
    expires_at          timestamptz NOT NULL,
    available_at        timestamptz,
    grant_expires_at    timestamptz,
    decided_at          timestamptz,
    denied_by           text,
    deny_reason         text,
    used_at             timestamptz,
    void_reason         text,
    CHECK ((key_id IS NULL) <> (user_id IS NULL)),
    FOREIGN KEY (tenant_id, key_id) REFERENCES agent_keys(tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id),
    -- The target of approval_votes' tenant-scoped foreign key.
    UNIQUE (tenant_id, id)
);
CREATE INDEX approval_requests_tenant ON approval_requests(tenant_id, status, id);
CREATE INDEX approval_requests_secret ON approval_requests(tenant_id, path, status);
-- At most one open request per requester, path, operation and target tier.
CREATE UNIQUE INDEX approval_requests_open
    ON approval_requests(tenant_id, requester, path, operation, COALESCE(to_tier, ''))
    WHERE status IN ('pending', 'approved');
ALTER TABLE approval_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE approval_requests FORCE ROW LEVEL SECURITY;
CREATE POLICY approval_requests_tenant ON approval_requests
    USING (tenant_id = current_setting('keyhold.tenant', true))
    WITH CHECK (tenant_id = current_setting('keyhold.tenant', true));
GRANT SELECT, INSERT, UPDATE ON approval_requests TO keyhold_app;

-- One vote per person per request. Tenant rows only.
CREATE TABLE approval_votes (
    request_id  text NOT NULL,
    tenant_id   text NOT NULL REFERENCES tenants(id),
    user_id     text NOT NULL,
    at          timestamptz NOT NULL,
    comment     text,
    PRIMARY KEY (request_id, user_id),
    FOREIGN KEY (tenant_id, request_id) REFERENCES approval_requests(tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id)
);
ALTER TABLE approval_votes ENABLE ROW LEVEL SECURITY;
ALTER TABLE approval_votes FORCE ROW LEVEL SECURITY;
CREATE POLICY approval_votes_tenant ON approval_votes
    USING (tenant_id = current_setting('keyhold.tenant', true))
    WITH CHECK (tenant_id = current_setting('keyhold.tenant', true));
GRANT SELECT, INSERT ON approval_votes TO keyhold_app;

-- Invitations. Tenant rows, plus a lookup by the mailed token's keyed hash: the invitee is
-- not signed in and brings only the token.
CREATE TABLE invitations (
    id          text PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants(id),
    email       text NOT NULL,
    role        text NOT NULL CHECK (role IN ('owner', 'admin', 'approver', 'member')),
    token_hash  text NOT NULL UNIQUE CHECK (token_hash <> ''),
    invited_by  text NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz,
    FOREIGN KEY (tenant_id, invited_by) REFERENCES users(tenant_id, id)
);
CREATE INDEX invitations_tenant ON invitations(tenant_id, id);
ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY invitations_tenant ON invitations
    USING (tenant_id = current_setting('keyhold.tenant', true))
    WITH CHECK (tenant_id = current_setting('keyhold.tenant', true));
CREATE POLICY invitations_lookup ON invitations FOR SELECT
    USING (token_hash = current_setting('keyhold.lookup', true));
GRANT SELECT, INSERT, UPDATE ON invitations TO keyhold_app;
