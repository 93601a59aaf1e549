//! Detection and response: alert rules, alerts, suspended keys, address blocks.

use keyhold_core::api::{Alert, AlertQuery, AlertRules, Block, Page};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    pub async fn alert_rules(&self) -> Result<AlertRules> {
        self.json(self.request(Method::GET, "/v1/tenant/alert-rules")?)
            .await
    }

    /// Change the tenant's alert rules (owners and admins, recent sign-in).
    pub async fn set_alert_rules(&self, rules: &AlertRules) -> Result<AlertRules> {
        self.json(
            self.request(Method::PUT, "/v1/tenant/alert-rules")?
                .json(rules),
        )
        .await
    }

    /// Alerts of the tenant (owners and admins), open ones unless `q.status` says.
    pub async fn alerts(&self, q: &AlertQuery) -> Result<Page<Alert>> {
        self.json(self.request(Method::GET, "/v1/alerts")?.query(q))
            .await
    }

    pub async fn ack_alert(&self, id: &str) -> Result<Alert> {
        self.json(self.request(Method::POST, &format!("/v1/alerts/{id}/ack"))?)
            .await
    }

    /// Reinstate a suspended agent key (its owner or an admin, recent sign-in).
    pub async fn reinstate_key(&self, id: &str) -> Result<()> {
        self.empty(self.request(Method::POST, &format!("/v1/keys/{id}/reinstate"))?)
            .await
    }

    /// Address blocks in force (owners and admins).
    pub async fn blocks(&self) -> Result<Vec<Block>> {
        self.json(self.request(Method::GET, "/v1/blocks")?).await
    }

    /// Lift an address block (owners and admins, recent sign-in).
    pub async fn lift_block(&self, id: &str) -> Result<()> {
        self.empty(self.request(Method::DELETE, &format!("/v1/blocks/{id}"))?)
            .await
    }
}
