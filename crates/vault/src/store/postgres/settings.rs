//! [`SettingsStore`] on PostgreSQL: one jsonb document per tenant. A save is one upsert,
//! so parallel saves need no lock: the last to commit wins, as with SQLite's writer.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::api::TenantSettings;

use super::connection::PostgresStore;
use super::events::append;
use super::rows::{col, from_json, to_json};
use super::tx::{Acting, begin, commit, exec, row};
use crate::store::event::NewEvent;
use crate::store::{SettingsStore, StoreResult};

#[async_trait]
impl SettingsStore for PostgresStore {
    async fn tenant_settings(&self, tenant_id: &str) -> StoreResult<Option<TenantSettings>> {
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        let found = row(
            &tx,
            "SELECT settings FROM tenant_settings WHERE tenant_id = $1",
            &[&tenant_id],
        )
        .await?;
        commit(tx).await?;
        found
            .map(|r| from_json(col(&r, 0, "tenant settings")?, "tenant settings"))
            .transpose()
    }

    async fn put_tenant_settings(
        &self,
        tenant_id: &str,
        settings: TenantSettings,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let doc = to_json(&settings)?;
        let mut conn = self.conn().await?;
        let tx = begin(&mut conn, Acting::Tenant(tenant_id)).await?;
        exec(
            &tx,
            "INSERT INTO tenant_settings (tenant_id, settings, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (tenant_id) DO UPDATE
             SET settings = EXCLUDED.settings, updated_at = EXCLUDED.updated_at",
            &[&tenant_id, &doc, &now],
        )
        .await?;
        append(&tx, &event).await?;
        commit(tx).await
    }
}
