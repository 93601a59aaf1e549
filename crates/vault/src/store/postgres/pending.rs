//! PLACEHOLDER while the PostgreSQL areas are ported (branch only, never merged): each
//! area's helper deletes its trait's block here when its own file implements it.
#![allow(unused_variables)]

use async_trait::async_trait;

use super::connection::PostgresStore;
use crate::store::event::NewEvent;
use crate::store::*;

fn pending() -> StoreError {
    StoreError::Other(anyhow::anyhow!("not ported yet"))
}

// ---- SecretStore ----
mod p_secrets {
    #![allow(unused_imports)]
    use super::*;
    use chrono::{DateTime, Utc};
    use keyhold_core::path::{PathPrefix, SecretPath};
    use keyhold_core::tier::{SecretType, Tier};
    #[async_trait]
    impl SecretStore for PostgresStore {
        async fn current_kek(&self, tenant_id: &str) -> StoreResult<Option<KekRow>> {
            Err(pending())
        }
        async fn kek(&self, tenant_id: &str, version: u32) -> StoreResult<Option<KekRow>> {
            Err(pending())
        }
        async fn keks(&self, tenant_id: &str) -> StoreResult<Vec<KekRow>> {
            Err(pending())
        }
        async fn insert_first_kek(&self, row: KekRow) -> StoreResult<()> {
            Err(pending())
        }
        async fn kek_tenants(&self) -> StoreResult<Vec<String>> {
            Err(pending())
        }
        async fn secret(
            &self,
            tenant_id: &str,
            path: &SecretPath,
        ) -> StoreResult<Option<SecretRecord>> {
            Err(pending())
        }
        async fn secret_version(
            &self,
            tenant_id: &str,
            path: &SecretPath,
            version: Option<u32>,
        ) -> StoreResult<Option<(SecretRecord, VersionRow)>> {
            Err(pending())
        }
        async fn secret_versions(
            &self,
            tenant_id: &str,
            path: &SecretPath,
        ) -> StoreResult<Vec<VersionInfo>> {
            Err(pending())
        }
        async fn list_secrets(
            &self,
            tenant_id: &str,
            prefix: &PathPrefix,
            after: Option<&str>,
            limit: u32,
        ) -> StoreResult<Vec<SecretRecord>> {
            Err(pending())
        }
        async fn put_secret(
            &self,
            new: NewVersion,
            seal: Sealer,
            event: NewEvent,
        ) -> StoreResult<SecretRecord> {
            Err(pending())
        }
        async fn delete_secret(&self, del: Deletion, event: NewEvent) -> StoreResult<()> {
            Err(pending())
        }
        async fn rotate_kek(
            &self,
            new: KekRow,
            rewrap: Rewrapper,
            event: NewEvent,
        ) -> StoreResult<u64> {
            Err(pending())
        }
    }
}
// ---- ApprovalStore ----
mod p_approvals {
    #![allow(unused_imports)]
    use super::*;
    use chrono::{DateTime, Utc};
    use keyhold_core::api::{ApprovalOperation, ApprovalStatus, ApprovalVote, PersonRef};
    use keyhold_core::path::SecretPath;
    use keyhold_core::tier::Tier;
    #[async_trait]
    impl ApprovalStore for PostgresStore {
        async fn expire_approvals(
            &self,
            tenant_id: &str,
            now: DateTime<Utc>,
            expired: ExpiryEvent,
        ) -> StoreResult<Vec<ApprovalRecord>> {
            Err(pending())
        }
        async fn open_approval(
            &self,
            new: ApprovalRecord,
            expired: ExpiryEvent,
            requested: NewEvent,
        ) -> StoreResult<(ApprovalRecord, bool)> {
            Err(pending())
        }
        async fn approval(&self, tenant_id: &str, id: &str) -> StoreResult<Option<ApprovalView>> {
            Err(pending())
        }
        async fn list_approvals(
            &self,
            tenant_id: &str,
            status: Option<ApprovalStatus>,
            requester: Option<&str>,
            before_id: Option<&str>,
            limit: u32,
        ) -> StoreResult<Vec<ApprovalView>> {
            Err(pending())
        }
        async fn vote_approval(
            &self,
            tenant_id: &str,
            id: &str,
            user_id: &str,
            comment: Option<String>,
            now: DateTime<Utc>,
            event: VoteEvent,
        ) -> StoreResult<ApprovalRecord> {
            Err(pending())
        }
        async fn deny_approval(
            &self,
            tenant_id: &str,
            id: &str,
            user_id: &str,
            reason: String,
            now: DateTime<Utc>,
            event: NewEvent,
        ) -> StoreResult<ApprovalRecord> {
            Err(pending())
        }
        async fn consume_grant(
            &self,
            tenant_id: &str,
            id: &str,
            secret_id: &str,
            now: DateTime<Utc>,
            event: NewEvent,
        ) -> StoreResult<bool> {
            Err(pending())
        }
        async fn eligible_approvers(
            &self,
            tenant_id: &str,
            tier: Tier,
            excluded: &str,
        ) -> StoreResult<u32> {
            Err(pending())
        }
    }
}
