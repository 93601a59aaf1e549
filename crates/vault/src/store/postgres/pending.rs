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

// ---- MfaStore ----
mod p_mfa {
    #![allow(unused_imports)]
    use super::*;
    use crate::store::mfa::*;
    use chrono::{DateTime, Duration, Utc};
    #[async_trait]
    impl MfaStore for PostgresStore {
        async fn mfa_state(&self, tenant_id: &str, user_id: &str) -> StoreResult<MfaState> {
            Err(pending())
        }
        async fn start_totp_enrollment(
            &self,
            record: TotpRecord,
            event: NewEvent,
        ) -> StoreResult<()> {
            Err(pending())
        }
        async fn attempt_second_factor(
            &self,
            attempt: SecondFactorAttempt,
        ) -> StoreResult<AttemptOutcome> {
            Err(pending())
        }
        async fn create_mfa_ticket(
            &self,
            ticket: MfaTicketRecord,
            ticket_hash: String,
            event: NewEvent,
        ) -> StoreResult<()> {
            Err(pending())
        }
        async fn mfa_ticket_by_hash(
            &self,
            ticket_hash: &str,
        ) -> StoreResult<Option<MfaTicketRecord>> {
            Err(pending())
        }
        async fn reauthenticate_session(
            &self,
            tenant_id: &str,
            session_id: &str,
            now: DateTime<Utc>,
            event: NewEvent,
        ) -> StoreResult<()> {
            Err(pending())
        }
    }
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
// ---- SettingsStore ----
mod p_settings {
    #![allow(unused_imports)]
    use super::*;
    use chrono::{DateTime, Utc};
    use keyhold_core::api::TenantSettings;
    #[async_trait]
    impl SettingsStore for PostgresStore {
        async fn tenant_settings(&self, tenant_id: &str) -> StoreResult<Option<TenantSettings>> {
            Err(pending())
        }
        async fn put_tenant_settings(
            &self,
            tenant_id: &str,
            settings: TenantSettings,
            now: DateTime<Utc>,
            event: NewEvent,
        ) -> StoreResult<()> {
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
