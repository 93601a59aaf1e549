-- Key custody (issue 21): the vault's root key, wrapped by the master key (SQLite's
-- 0011_root_key.sql has the same). Every other key is derived from it, and every replica
-- must derive the same, so it lives in the database they share. Not tenant data: read and
-- written acting as the system (keyhold.system = 'on'), like the failure counters. The
-- server's role may insert it (first start) and update it (`master-key rotate`), never
-- delete it.
CREATE TABLE root_key (
    id          integer PRIMARY KEY CHECK (id = 1),
    version     bigint NOT NULL CHECK (version > 0),
    wrapped     bytea NOT NULL,
    master      text NOT NULL,
    updated_at  timestamptz NOT NULL
);
ALTER TABLE root_key ENABLE ROW LEVEL SECURITY;
ALTER TABLE root_key FORCE ROW LEVEL SECURITY;
CREATE POLICY root_key_system ON root_key
    USING (current_setting('keyhold.system', true) = 'on')
    WITH CHECK (current_setting('keyhold.system', true) = 'on');
GRANT SELECT, INSERT, UPDATE ON root_key TO keyhold_app;
