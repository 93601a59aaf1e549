//! Storage for accounts: tenants, their people (users), passwords, and the email tokens
//! that verify an address. Sessions and the audit log have their own traits
//! ([`super::sessions`], [`super::audit`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::api::Role;

use super::StoreResult;
use crate::store::event::NewEvent;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantRecord {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

impl TenantRecord {
    pub fn to_api(&self) -> keyhold_core::api::Tenant {
        keyhold_core::api::Tenant {
            id: self.id.clone(),
            name: self.name.clone(),
            created_at: self.created_at,
        }
    }
}

/// A user row. `password_hash` is an argon2id PHC string, never a password.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: String,
    pub tenant_id: String,
    pub email: String,
    pub display_name: Option<String>,
    pub password_hash: String,
    /// zxcvbn score of the current password, recorded when it was set.
    pub password_zxcvbn: u8,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub mfa_enabled: bool,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl UserRecord {
    pub fn to_api(&self) -> keyhold_core::api::User {
        keyhold_core::api::User {
            id: self.id.clone(),
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            email_verified: self.email_verified_at.is_some(),
            mfa_enabled: self.mfa_enabled,
            created_at: self.created_at,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailTokenRecord {
    pub id: String,
    pub tenant_id: String,
    pub user_id: String,
    pub purpose: String,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// Tenants, users, passwords and email verification.
#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    async fn create_account(
        &self,
        tenant: TenantRecord,
        user: UserRecord,
        event: NewEvent,
    ) -> StoreResult<()>;

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>>;
    async fn user(&self, tenant_id: &str, user_id: &str) -> StoreResult<Option<UserRecord>>;
    async fn tenant(&self, tenant_id: &str) -> StoreResult<Option<TenantRecord>>;

    /// Replace the password hash and end every session of the user but `keep_session`.
    async fn set_password(
        &self,
        tenant_id: &str,
        user_id: &str,
        password_hash: String,
        zxcvbn: u8,
        keep_session: Option<&str>,
        event: NewEvent,
    ) -> StoreResult<()>;

    async fn create_email_token(
        &self,
        token: EmailTokenRecord,
        token_hash: String,
        event: NewEvent,
    ) -> StoreResult<()>;
    async fn email_token_by_hash(&self, token_hash: &str) -> StoreResult<Option<EmailTokenRecord>>;
    /// Mark the token used and the user's email verified, once: a second call (or a
    /// racing one) gets `Conflict`.
    async fn consume_email_verification(
        &self,
        token: &EmailTokenRecord,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()>;
}
