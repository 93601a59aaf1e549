//! Webhook endpoints of the tenant (owners and admins) and their delivery log, and each
//! person's notification preferences. Changing an endpoint needs the sudo window; the
//! signing secret comes back only from create and rotate, once.

use keyhold_core::api::{
    CreateWebhookRequest, Delivery, NotificationPrefs, Page, UpdateWebhookRequest, Webhook,
    WebhookWithSecret,
};
use reqwest::Method;

use crate::{Client, Result};

const WEBHOOKS: &str = "/v1/webhooks";

impl Client {
    /// Register an endpoint; its `whsec_` secret (none for Slack) is in the answer, once.
    pub async fn create_webhook(&self, req: &CreateWebhookRequest) -> Result<WebhookWithSecret> {
        self.json(self.request(Method::POST, WEBHOOKS)?.json(req))
            .await
    }

    /// Every endpoint of the tenant (never a secret; URLs as scheme and host).
    pub async fn webhooks(&self) -> Result<Vec<Webhook>> {
        self.json(self.request(Method::GET, WEBHOOKS)?).await
    }

    pub async fn webhook(&self, id: &str) -> Result<Webhook> {
        self.json(self.request_segment(Method::GET, WEBHOOKS, id)?)
            .await
    }

    /// Change the fields that are set in `req` (URL, events, description, enabled).
    pub async fn update_webhook(&self, id: &str, req: &UpdateWebhookRequest) -> Result<Webhook> {
        self.json(self.request_segment(Method::PATCH, WEBHOOKS, id)?.json(req))
            .await
    }

    /// Remove an endpoint: nothing more is delivered to it.
    pub async fn delete_webhook(&self, id: &str) -> Result<()> {
        self.empty(self.request_segment(Method::DELETE, WEBHOOKS, id)?)
            .await
    }

    /// A new signing secret, shown once; the old one still signs for 24 hours.
    pub async fn rotate_webhook_secret(&self, id: &str) -> Result<WebhookWithSecret> {
        self.json(self.request_segments(Method::POST, WEBHOOKS, &[id, "rotate-secret"])?)
            .await
    }

    /// Queue a test event to the endpoint: the delivery, still pending.
    pub async fn test_webhook(&self, id: &str) -> Result<Delivery> {
        self.json(self.request_segments(Method::POST, WEBHOOKS, &[id, "test"])?)
            .await
    }

    /// One page of the endpoint's delivery log, newest first.
    pub async fn webhook_deliveries(
        &self,
        id: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<Delivery>> {
        let mut rb = self.request_segments(Method::GET, WEBHOOKS, &[id, "deliveries"])?;
        if let Some(l) = limit {
            rb = rb.query(&[("limit", l.to_string())]);
        }
        if let Some(c) = cursor {
            rb = rb.query(&[("cursor", c)]);
        }
        self.json(rb).await
    }

    /// Send a delivery again now (same `webhook-id`): the delivery, pending again.
    pub async fn retry_delivery(&self, id: &str, delivery_id: &str) -> Result<Delivery> {
        self.json(self.request_segments(
            Method::POST,
            WEBHOOKS,
            &[id, "deliveries", delivery_id, "retry"],
        )?)
        .await
    }

    /// The caller's notification preferences (approval mail on or off).
    pub async fn notification_prefs(&self) -> Result<NotificationPrefs> {
        self.json(self.request(Method::GET, "/v1/me/notifications")?)
            .await
    }

    pub async fn set_notification_prefs(
        &self,
        prefs: &NotificationPrefs,
    ) -> Result<NotificationPrefs> {
        self.json(
            self.request(Method::PUT, "/v1/me/notifications")?
                .json(prefs),
        )
        .await
    }
}
