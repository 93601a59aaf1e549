//! Storage for a tenant's settings: the approval rules and policies an owner sets, kept
//! as one JSON document per tenant.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::api::TenantSettings;

use super::StoreResult;
use crate::store::event::NewEvent;

#[async_trait]
pub trait SettingsStore: Send + Sync + 'static {
    /// `None` while the tenant never saved any: the defaults apply.
    async fn tenant_settings(&self, tenant_id: &str) -> StoreResult<Option<TenantSettings>>;
    async fn put_tenant_settings(
        &self,
        tenant_id: &str,
        settings: TenantSettings,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()>;
}
