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

// ---- KeyStore ----
mod p_keys {
    #![allow(unused_imports)]
    use super::*;
    use chrono::{DateTime, Utc};
    use ipnet::IpNet;
    use keyhold_core::scope::Scope;
    #[async_trait]
    impl KeyStore for PostgresStore {
        async fn create_key(
            &self,
            key: KeyRecord,
            secret_hash: String,
            event: NewEvent,
        ) -> StoreResult<()> {
            Err(pending())
        }
        async fn key_for_auth(&self, key_id: &str) -> StoreResult<Option<(KeyRecord, String)>> {
            Err(pending())
        }
        async fn key(&self, tenant_id: &str, key_id: &str) -> StoreResult<Option<KeyRecord>> {
            Err(pending())
        }
        async fn list_keys(
            &self,
            tenant_id: &str,
            owner_id: Option<&str>,
            after_id: Option<&str>,
            limit: u32,
        ) -> StoreResult<Vec<KeyRecord>> {
            Err(pending())
        }
        async fn touch_key(
            &self,
            tenant_id: &str,
            key_id: &str,
            now: DateTime<Utc>,
            ip: Option<String>,
        ) -> StoreResult<()> {
            Err(pending())
        }
        async fn revoke_key(
            &self,
            tenant_id: &str,
            key_id: &str,
            now: DateTime<Utc>,
            event: NewEvent,
        ) -> StoreResult<()> {
            Err(pending())
        }
        async fn create_token(
            &self,
            token: TokenRecord,
            token_hash: String,
            event: NewEvent,
        ) -> StoreResult<()> {
            Err(pending())
        }
        async fn token_for_auth(
            &self,
            token_hash: &str,
        ) -> StoreResult<Option<(TokenRecord, KeyRecord)>> {
            Err(pending())
        }
        async fn token(&self, tenant_id: &str, token_id: &str) -> StoreResult<Option<TokenRecord>> {
            Err(pending())
        }
        async fn use_token(
            &self,
            tenant_id: &str,
            token_id: &str,
            now: DateTime<Utc>,
        ) -> StoreResult<bool> {
            Err(pending())
        }
        async fn revoke_token(
            &self,
            tenant_id: &str,
            token_id: &str,
            now: DateTime<Utc>,
            event: NewEvent,
        ) -> StoreResult<()> {
            Err(pending())
        }
    }
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
// ---- MemberStore ----
mod p_members {
    #![allow(unused_imports)]
    use super::*;
    use chrono::{DateTime, Utc};
    use keyhold_core::api::Role;
    #[async_trait]
    impl MemberStore for PostgresStore {
        async fn members(&self, tenant_id: &str) -> StoreResult<Vec<UserRecord>> {
            Err(pending())
        }
        async fn set_role(
            &self,
            tenant_id: &str,
            user_id: &str,
            role: Role,
            event: NewEvent,
        ) -> StoreResult<()> {
            Err(pending())
        }
        async fn remove_member(
            &self,
            tenant_id: &str,
            user_id: &str,
            now: DateTime<Utc>,
            event: NewEvent,
        ) -> StoreResult<()> {
            Err(pending())
        }
    }
}
// ---- InvitationStore ----
mod p_invitations {
    #![allow(unused_imports)]
    use super::*;
    use chrono::{DateTime, Utc};
    use keyhold_core::api::{PersonRef, Role};
    #[async_trait]
    impl InvitationStore for PostgresStore {
        async fn create_invitation(
            &self,
            invitation: InvitationRecord,
            token_hash: String,
            event: NewEvent,
        ) -> StoreResult<()> {
            Err(pending())
        }
        async fn invitation_by_hash(
            &self,
            token_hash: &str,
        ) -> StoreResult<Option<InvitationRecord>> {
            Err(pending())
        }
        async fn accept_invitation(
            &self,
            invitation_id: &str,
            user: UserRecord,
            now: DateTime<Utc>,
            event: NewEvent,
        ) -> StoreResult<()> {
            Err(pending())
        }
        async fn pending_invitations(
            &self,
            tenant_id: &str,
            now: DateTime<Utc>,
            before_id: Option<&str>,
            limit: u32,
        ) -> StoreResult<Vec<(InvitationRecord, PersonRef)>> {
            Err(pending())
        }
        async fn invitation(
            &self,
            tenant_id: &str,
            id: &str,
        ) -> StoreResult<Option<InvitationRecord>> {
            Err(pending())
        }
        async fn revoke_invitation(
            &self,
            tenant_id: &str,
            id: &str,
            now: DateTime<Utc>,
            event: NewEvent,
        ) -> StoreResult<()> {
            Err(pending())
        }
    }
}
