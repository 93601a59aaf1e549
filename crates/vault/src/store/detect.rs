//! Storage for detection and response (issue 19): the tenants' alert rules, raised alerts,
//! key suspension and address blocks. Every change commits with its audit event.
//!
//! Two reads cross tenants, for the in-memory copies each server keeps so the request
//! path never waits on the store ([`DetectionStore::active_blocks`],
//! [`DetectionStore::all_alert_rules`]); on PostgreSQL they act as the system, whose
//! policies let it SELECT those two tables only.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::api::{AlertRules, Severity};

use super::StoreResult;
use crate::store::event::NewEvent;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertRecord {
    pub id: String,
    pub tenant_id: String,
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    pub subject: Option<String>,
    pub response: Option<String>,
    pub raised_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockRecord {
    pub id: String,
    pub tenant_id: String,
    pub address: String,
    pub rule: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub lifted_at: Option<DateTime<Utc>>,
}

/// What a fired rule does besides recording its alert, in the alert's transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlertAction {
    None,
    /// Suspend this key of the alert's tenant (an active key only: a revoked key stays
    /// revoked, a suspended one keeps its first suspension time).
    SuspendKey(String),
    Block(BlockRecord),
}

/// Which alerts a listing returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertFilter {
    Open,
    Acknowledged,
    All,
}

#[async_trait]
pub trait DetectionStore: Send + Sync + 'static {
    /// `None` while the tenant never saved any: the defaults apply.
    async fn alert_rules(&self, tenant_id: &str) -> StoreResult<Option<AlertRules>>;
    async fn put_alert_rules(
        &self,
        tenant_id: &str,
        rules: AlertRules,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()>;
    /// Every tenant's saved rules (tenants on the defaults have none).
    async fn all_alert_rules(&self) -> StoreResult<Vec<(String, AlertRules)>>;

    /// Record `alert`, do `action`, and append `events` (the `alert.raised` event first),
    /// all in one transaction.
    async fn raise_alert(
        &self,
        alert: AlertRecord,
        action: AlertAction,
        events: Vec<NewEvent>,
    ) -> StoreResult<()>;
    /// The tenant's alerts, newest first, ids before `before_id`.
    async fn list_alerts(
        &self,
        tenant_id: &str,
        filter: AlertFilter,
        before_id: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<AlertRecord>>;
    async fn alert(&self, tenant_id: &str, id: &str) -> StoreResult<Option<AlertRecord>>;
    /// Acknowledge an open alert. `NotFound` when the tenant has no such open alert.
    async fn ack_alert(
        &self,
        tenant_id: &str,
        id: &str,
        by: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()>;
    /// How many of the tenant's critical alerts are still open.
    async fn open_critical_alerts(&self, tenant_id: &str) -> StoreResult<u32>;

    /// Lift a key's suspension. `NotFound` when the tenant has no such suspended key.
    async fn reinstate_key(
        &self,
        tenant_id: &str,
        key_id: &str,
        event: NewEvent,
    ) -> StoreResult<()>;

    /// Blocks in force at `now`, of every tenant.
    async fn active_blocks(&self, now: DateTime<Utc>) -> StoreResult<Vec<BlockRecord>>;
    /// The tenant's blocks in force at `now`.
    async fn tenant_blocks(
        &self,
        tenant_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<BlockRecord>>;
    /// Lift a block in force. `NotFound` when the tenant has no such block in force.
    async fn lift_block(
        &self,
        tenant_id: &str,
        id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()>;

    /// Every tenant's id, for the scheduled audit chain check.
    async fn tenant_ids(&self) -> StoreResult<Vec<String>>;
}
