//! The store conformance suite: every contract of the store traits (`keyhold_vault::store`)
//! that a second backend could get wrong, run against each backend alike (issue 17).
//!
//! Why: the domain trusts the store for what SQL decides — typed conflicts, tenant
//! scoping, the audit chain, atomic writes, grants spent exactly once, microsecond times.
//! A backend that answers differently would break the vault without failing a domain
//! test written against SQLite. So the cases here talk to `dyn Store` only, and each
//! backend gets every case by one line at the bottom of this file.
//!
//! Adding a backend: write an `async fn` in `backends` that returns a [`Backend`] (a fresh,
//! empty store, and what tears it down afterwards), then add
//! `conformance!(name, crate::backends::name);`. Each case runs in its own store, so
//! cases never see each other's rows. Run it with
//! `cargo nextest run -p keyhold-vault --test conformance` (filter a backend with
//! `-E 'test(/^postgres::/)'`).

// A test binary: a failed step is the failure, said by `expect`/`unwrap`.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod fixtures;

mod accounts;
mod approvals;
mod audit;
mod custody;
mod detect;
mod grants;
mod invitations;
mod key_changes;
mod keys;
mod members;
mod mfa;
mod races;
mod recovery;
mod scoping;
mod secrets;
mod sessions;
mod signing_keys;
mod times;

use std::any::Any;
use std::sync::Arc;

use futures::future::BoxFuture;
use keyhold_vault::store::Store;

/// An async clean-up run after the store is closed and dropped (say, `DROP DATABASE` of
/// the case's throwaway database), for backends whose teardown is not a plain drop.
pub type Cleanup = Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send>;

/// One fresh, empty store for one case, and what tears it down: `cleanup` (if any) once
/// the store is closed and dropped, then `guard` is dropped (a temporary directory, a
/// throwaway cluster).
pub struct Backend {
    pub store: Arc<dyn Store>,
    pub cleanup: Option<Cleanup>,
    pub guard: Box<dyn Any + Send>,
}

/// The tenants the cases use, and the system chain (the empty id).
const CHAINS: [&str; 3] = ["ta", "tb", ""];

impl Backend {
    /// Check that every chain the case wrote to still verifies (so every action's events
    /// chained correctly, whatever the case asserted), close the store as the server does
    /// on shutdown, then drop what holds it.
    pub async fn teardown(self) {
        for chain in CHAINS {
            let v = self
                .store
                .audit_verify(chain)
                .await
                .expect("verifying the chain");
            assert!(v.ok, "chain {chain:?} breaks at event {:?}", v.first_bad);
        }
        self.store.close().await.expect("closing the store");
        drop(self.store);
        if let Some(cleanup) = self.cleanup {
            cleanup().await;
        }
        drop(self.guard);
    }
}

/// The backends under test: each returns a fresh, empty store.
mod backends {
    use std::sync::Arc;

    use keyhold_pgtest::{PgCluster, connect};
    use keyhold_vault::store::postgres::{PgOptions, PostgresStore, ROLES_SQL, migrate};
    use keyhold_vault::store::sqlite::SqliteStore;

    use crate::Backend;

    /// SQLite in a temporary directory, opened as the server opens it.
    pub async fn sqlite() -> Backend {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = SqliteStore::open(&dir.path().join("keyhold.db")).expect("opening SQLite");
        Backend {
            store: Arc::new(store),
            cleanup: None,
            guard: Box::new(dir),
        }
    }

    /// PostgreSQL in a throwaway cluster of the case's own (keyhold_pgtest), set up as a
    /// deployment is: the roles script as a superuser, the migrations as the schema's
    /// owner, and the store connected as the server's role, which row-level security binds.
    pub async fn postgres() -> Backend {
        let cluster = PgCluster::start().await.expect("starting PostgreSQL");
        let db = cluster
            .keyhold_database("keyhold", ROLES_SQL)
            .await
            .expect("preparing the database");
        let mut owner = connect(&db.owner_url)
            .await
            .expect("connecting as the owner");
        migrate(&mut owner).await.expect("migrating");
        let store = PostgresStore::connect(&db.app_url, PgOptions::default())
            .await
            .expect("connecting the store");
        Backend {
            store: Arc::new(store),
            cleanup: None,
            guard: Box::new(cluster),
        }
    }
}

/// One `#[tokio::test]` per case and area, each on a fresh store from `$factory`.
macro_rules! cases {
    ($factory:path; $($area:ident: [$($case:ident),* $(,)?])*) => {
        $(mod $area {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let backend = $factory().await;
                    crate::$area::$case(&backend.store).await;
                    backend.teardown().await;
                }
            )*
        })*
    };
}

/// Every case of the suite against one backend, as the module `$backend`. A case written
/// but not listed here is dead code, which the lints refuse.
macro_rules! conformance {
    ($backend:ident, $factory:path) => {
        mod $backend {
            cases! { $factory;
                accounts: [
                    account_round_trips,
                    duplicate_email_is_email_taken_and_creates_nothing,
                    set_password_ends_the_other_sessions,
                    email_link_is_used_once,
                ]
                sessions: [
                    session_found_by_hash_and_id_touched_and_deleted,
                    sessions_listed_per_person_and_the_others_ended,
                ]
                signing_keys: [
                    public_keys_rotate_with_at_most_two_live,
                    nonces_are_remembered_once_until_they_expire,
                ]
                custody: [
                    fresh_vault_stores_one_root_key,
                    vault_with_data_adopts_the_legacy_root_key,
                    replicas_adopting_together_agree_on_one_root_key,
                    rewrap_replaces_only_the_version_read,
                ]
                detect: [
                    alert_rules_round_trip_per_tenant,
                    an_alert_suspends_a_key_and_reinstating_lifts_it_once,
                    alerts_list_newest_first_and_are_acknowledged_once,
                    blocks_are_listed_while_in_force_and_lifted_once,
                ]
                keys: [
                    keys_list_oldest_first_with_cursor_and_owner,
                    revoking_a_key_revokes_its_tokens_once,
                    token_found_by_hash_with_its_key,
                    use_token_spends_max_uses_exactly,
                    parallel_uses_spend_max_uses_exactly,
                    revoked_or_expired_token_has_no_use,
                ]
                key_changes: [
                    update_sets_expiry_and_allowlist_unless_revoked,
                    rotation_creates_the_new_key_and_ends_the_old_one_atomically,
                    usage_counts_the_keys_and_its_tokens_events_per_window,
                ]
                members: [
                    demoting_the_last_owner_is_last_owner,
                    removing_the_last_owner_is_last_owner,
                    removal_ends_sessions_keys_tokens_and_invitations,
                    settings_round_trip,
                ]
                invitations: [
                    invitation_is_accepted_once,
                    revoked_invitation_is_spent_and_not_pending,
                    taken_email_on_accept_spends_nothing,
                    pending_invitations_newest_first_and_bounded,
                ]
                mfa: [
                    enrolling_with_2fa_on_is_mfa_already_enabled,
                    backup_code_is_spent_once,
                    spent_ticket_is_ticket_spent_and_proof_unspent,
                    attempt_without_event_changes_nothing,
                    wrong_codes_lock_after_the_policy,
                    ticket_attempts_are_bounded,
                ]
                recovery: [
                    one_recent_reset_link_at_a_time,
                    reset_link_is_spent_once_and_ends_every_session,
                    reset_mfa_turns_2fa_off_and_ends_sessions,
                    recovery_effects_need_the_proof,
                ]
                secrets: [
                    versions_are_numbered_and_read_back,
                    stale_kek_is_refused_and_writes_nothing,
                    secret_changed_when_the_gate_saw_another,
                    failed_seal_writes_nothing,
                    list_is_a_byte_prefix_ordered_and_bounded,
                    delete_removes_every_version,
                    first_kek_is_inserted_once,
                    rotation_rewraps_every_key_and_drops_old_keks,
                    failed_rewrap_rotates_nothing,
                ]
                approvals: [
                    open_request_is_reused,
                    quorum_approves_after_the_delay,
                    second_vote_is_already_voted,
                    vote_on_a_decided_request_is_not_pending,
                    deny_of_a_decided_request_is_not_open,
                    due_requests_expire_with_events,
                    list_is_newest_first_filtered_and_bounded,
                    eligible_approvers_count_roles_and_2fa,
                ]
                grants: [
                    read_grant_is_spent_once,
                    parallel_reads_spend_a_grant_once,
                    spent_write_grant_is_grant_gone_and_writes_nothing,
                    raised_tier_voids_the_grant,
                    delete_voids_other_requests,
                    demoted_voter_sends_the_request_back,
                ]
                audit: [
                    appended_events_verify_with_counts,
                    tenant_chains_are_independent,
                    tenantless_events_form_the_system_chain,
                    page_is_newest_first_with_cursor_and_filters,
                    action_prefix_is_literal,
                    after_is_oldest_first_and_strict,
                    actor_scope_sees_own_events,
                    actions_are_distinct_sorted_and_scoped,
                    replay_floor_bounds_the_window,
                    watches_wake_on_commit,
                ]
                scoping: [
                    sessions_of_another_tenant_are_not_found,
                    keys_and_tokens_of_another_tenant_are_not_found,
                    secrets_of_another_tenant_are_not_found,
                    approvals_of_another_tenant_are_not_found,
                    members_of_another_tenant_are_not_found,
                    invitations_and_2fa_of_another_tenant_are_not_found,
                    audit_of_another_tenant_is_not_seen,
                ]
                races: [
                    parallel_sign_ups_with_one_email_make_one_account,
                    parallel_requests_open_one,
                    parallel_votes_of_one_person_count_once,
                    parallel_attempts_with_one_code_prove_once,
                    parallel_wrong_codes_cannot_outrun_the_lock,
                    parallel_appends_keep_every_chain_whole,
                    parallel_demotions_and_removals_keep_an_owner,
                ]
                times: [
                    account_and_session_times_keep_microseconds,
                    key_and_token_times_keep_microseconds,
                    secret_and_approval_times_keep_microseconds,
                    audit_times_keep_microseconds,
                ]
            }
        }
    };
}

conformance!(sqlite, crate::backends::sqlite);
conformance!(postgres, crate::backends::postgres);
