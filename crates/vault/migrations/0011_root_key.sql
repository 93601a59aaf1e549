-- Key custody (issue 21): the vault's root key, wrapped by the master key. Every other key
-- (password pepper, credential-hash key, KEK-wrapping key) is derived from the root key,
-- so rotating the master key re-wraps this one row. At most one row (id = 1). Written on
-- the first start of a server that has it: a vault that already holds data gets the old
-- master key's bytes as its root key, which derives exactly the keys it used before.
CREATE TABLE root_key (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    version     INTEGER NOT NULL CHECK (version > 0),
    wrapped     BLOB NOT NULL,            -- nonce || AES-256-GCM(master key, root key)
    master      TEXT NOT NULL,            -- which master key wrapped it (no key material)
    updated_at  INTEGER NOT NULL
) STRICT;
