//! [`SettingsStore`] on SQLite: one JSON document per tenant.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::api::TenantSettings;
use rusqlite::{OptionalExtension, params};

use super::connection::SqliteStore;
use super::errors::map_err;
use super::rows::us;
use crate::store::event::NewEvent;
use crate::store::{SettingsStore, StoreError, StoreResult};

#[async_trait]
impl SettingsStore for SqliteStore {
    async fn tenant_settings(&self, tenant_id: &str) -> StoreResult<Option<TenantSettings>> {
        let t = tenant_id.to_owned();
        let text: Option<String> = self
            .run(move |c| {
                c.prepare_cached("SELECT settings FROM tenant_settings WHERE tenant_id = ?1")
                    .and_then(|mut s| s.query_row([t], |r| r.get(0)).optional())
                    .map_err(map_err)
            })
            .await?;
        text.map(|t| serde_json::from_str(&t).map_err(|e| StoreError::Other(e.into())))
            .transpose()
    }

    async fn put_tenant_settings(
        &self,
        tenant_id: &str,
        settings: TenantSettings,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let t = tenant_id.to_owned();
        let text = serde_json::to_string(&settings).map_err(|e| StoreError::Other(e.into()))?;
        self.write(event, move |tx| {
            tx.execute(
                "INSERT INTO tenant_settings (tenant_id, settings, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (tenant_id) DO UPDATE SET settings = ?2, updated_at = ?3",
                params![t, text, us(now)],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }
}
