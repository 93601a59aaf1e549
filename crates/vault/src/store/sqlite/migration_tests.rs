//! The approval-gate migration (0005) on a database that already holds requests and
//! votes: nothing is lost, old requests become agents' `read` requests bound to their
//! secret, and the foreign keys still hold.

use rusqlite::Connection;

use super::migrate::{MIGRATIONS, migrate, migrate_to};

const BEFORE_GATE: usize = 4;

fn seeded_v4() -> Connection {
    let mut c = Connection::open_in_memory().unwrap();
    c.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
    migrate_to(&mut c, BEFORE_GATE).unwrap();
    c.execute_batch(
        "INSERT INTO tenants (id, name, created_at) VALUES ('t1', 'T', 1);
         INSERT INTO users (id, tenant_id, email, password_hash, password_zxcvbn, role, created_at)
             VALUES ('u1', 't1', 'a@example.com', 'h', 4, 'owner', 1),
                    ('u2', 't1', 'b@example.com', 'h', 4, 'approver', 1);
         INSERT INTO agent_keys (id, tenant_id, owner_id, name, prefix, secret_hash, scopes,
                 ip_allowlist, created_at)
             VALUES ('k1', 't1', 'u1', 'agent', 'kha_x', 'sh', '[]', '[]', 1);
         INSERT INTO secrets (tenant_id, path, type, tier, current_version, created_at, updated_at)
             VALUES ('t1', 'p/S', 'generic', 'sensitive', 1, 1, 1);
         INSERT INTO approval_requests (id, tenant_id, path, tier, key_id, token_id, reason,
                 required_approvals, delay_secs, grant_ttl_secs, status, requested_at, expires_at)
             VALUES ('r1', 't1', 'p/S', 'sensitive', 'k1', NULL, 'why', 1, 0, 3600, 'pending', 1, 99);
         INSERT INTO approval_votes (request_id, tenant_id, user_id, at, comment)
             VALUES ('r1', 't1', 'u2', 2, 'ok');",
    )
    .unwrap();
    c
}

#[test]
fn requests_and_votes_survive_the_gate_migration() {
    let mut c = seeded_v4();
    migrate(&mut c).unwrap();
    let version: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, MIGRATIONS.len() as i64);
    let secret_id: String = c
        .query_row("SELECT id FROM secrets WHERE path = 'p/S'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(secret_id.len(), 32);
    let (op, requester, bound, key, user): (String, String, String, String, Option<String>) = c
        .query_row(
            "SELECT operation, requester, secret_id, key_id, user_id FROM approval_requests
             WHERE id = 'r1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(
        (op.as_str(), requester.as_str(), key.as_str(), user),
        ("read", "key:k1", "k1", None)
    );
    assert_eq!(bound, secret_id);
    let votes: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM approval_votes WHERE request_id = 'r1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(votes, 1);
    let broken: i64 = c
        .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(broken, 0);
    // A vote for a request that does not exist is still refused.
    assert!(
        c.execute(
            "INSERT INTO approval_votes (request_id, tenant_id, user_id, at) VALUES ('nope', 't1', 'u2', 3)",
            [],
        )
        .is_err()
    );
    // Two open requests of one requester for one operation are refused.
    let dup = c.execute(
        "INSERT INTO approval_requests (id, tenant_id, path, secret_id, tier, operation, requester,
             key_id, required_approvals, delay_secs, grant_ttl_secs, status, requested_at, expires_at)
         VALUES ('r2', 't1', 'p/S', ?1, 'sensitive', 'read', 'key:k1', 'k1', 1, 0, 3600,
                 'pending', 3, 99)",
        [&secret_id],
    );
    assert!(dup.is_err());
}
