-- The roles Keyhold uses on PostgreSQL, and what each may do (docs/operations.md,
-- "PostgreSQL and several replicas"). Run once per database, as a superuser, connected to the database
-- Keyhold will use, before the first migration:
--
--     psql -v ON_ERROR_STOP=1 -d keyhold -f crates/vault/migrations/postgres/roles.sql
--
-- Running it again is harmless: it creates what is missing and re-asserts the rest.
-- No password is set here, so none lands in a repository or a shell history: set them
-- afterwards with psql's \password (or your secret manager's rotation).
--
--   keyhold_owner  owns the database, its schema and every table; runs the migrations
--                  (store/postgres/migrate.rs) and nothing else. Not a superuser, and it
--                  does not bypass row-level security either: the tables FORCE it.
--   keyhold_app    the role the server connects as. It owns nothing, has exactly the table
--                  grants the migrations give it (SELECT/INSERT/UPDATE/DELETE as each table
--                  needs, never more; the audit log SELECT and INSERT only), cannot create
--                  anything (no CREATE on the schema, no TEMP on the database), is a member of
--                  no role, and cannot bypass row-level security (NOBYPASSRLS, not the
--                  owner, not a superuser). A query it runs without its tenant finds nothing.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'keyhold_owner') THEN
        CREATE ROLE keyhold_owner LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'keyhold_app') THEN
        CREATE ROLE keyhold_app LOGIN;
    END IF;
END
$$;

-- Re-asserted every time, in case either role existed with more.
ALTER ROLE keyhold_owner NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER ROLE keyhold_app NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT;

-- The database is the owner's; the server may only connect to it (no TEMP: temporary
-- tables would be objects the server owns).
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I OWNER TO keyhold_owner', current_database());
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO keyhold_app', current_database());
END
$$;

-- The tables live in `public`, which the owner owns; nobody else may create in it (the
-- default before PostgreSQL 15 let every role create there).
ALTER SCHEMA public OWNER TO keyhold_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO keyhold_app;
