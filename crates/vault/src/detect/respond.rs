//! What a fired rule does: its alert (an `alert.raised` audit event, which the outbox
//! sends as a webhook of that type and, for warnings and critical alerts, as mail to every
//! owner and admin; the live audit feeds show it as they show every event), and the
//! response its setting chose, all in one transaction: suspending the key (`key.suspended`)
//! or blocking the address (`address.blocked`).
//!
//! A firing never fails the request that caused it: a store error is logged and counted
//! like any failed audit write would be, and the request goes on as it would have.

use std::net::IpAddr;

use keyhold_core::api::{RuleResponse, Severity};

use super::rules::Rule;
use crate::Vault;
use crate::audit::{ActorKind, ClientInfo, NewEvent};
use crate::error::Result;
use crate::ids;
use crate::store::detect::{AlertAction, AlertRecord, BlockRecord};

/// The system actor's id on detection events.
pub const DETECTOR: &str = "keyhold-detector";

/// One firing of a rule, with what it is about.
pub struct Firing {
    pub rule: Rule,
    pub tenant_id: String,
    pub message: String,
    pub subject: String,
    pub key_id: Option<String>,
    pub ip: Option<IpAddr>,
}

impl Firing {
    pub fn new(rule: Rule, tenant_id: &str, message: String, subject: String) -> Self {
        Self {
            rule,
            tenant_id: tenant_id.to_owned(),
            message,
            subject,
            key_id: None,
            ip: None,
        }
    }

    pub fn key(mut self, key_id: &str) -> Self {
        self.key_id = Some(key_id.to_owned());
        self
    }

    pub fn ip(mut self, ip: Option<IpAddr>) -> Self {
        self.ip = ip.map(|i| i.to_canonical());
        self
    }
}

/// The response that applies: the setting's, when this firing has what it needs (a key
/// to suspend, an address to block); otherwise the alert alone.
fn action(v: &Vault, f: &Firing) -> (AlertAction, Option<&'static str>) {
    let s = v.detector.setting(&f.tenant_id, f.rule);
    let now = v.clock.now();
    match (s.response, &f.key_id, f.ip) {
        (RuleResponse::SuspendKey, Some(k), _) => {
            (AlertAction::SuspendKey(k.clone()), Some("suspended_key"))
        }
        (RuleResponse::BlockAddress, _, Some(ip)) => (
            AlertAction::Block(BlockRecord {
                id: ids::new_id(now),
                tenant_id: f.tenant_id.clone(),
                address: ip.to_string(),
                rule: f.rule.as_str().to_owned(),
                created_at: now,
                expires_at: now + s.block_for,
                lifted_at: None,
            }),
            Some("blocked_address"),
        ),
        _ => (AlertAction::None, None),
    }
}

fn system_event(
    action: &'static str,
    f: &Firing,
    alert_id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> NewEvent {
    let client = ClientInfo {
        ip: f.ip.map(|i| i.to_string()),
        user_agent: None,
    };
    NewEvent::new(action, now, &client)
        .tenant(&f.tenant_id)
        .actor(ActorKind::System, DETECTOR)
        .detail("alert_id", alert_id.to_owned())
        .detail("rule", f.rule.as_str())
}

/// The events of a firing: `alert.raised` (mailed to owners and admins unless it is only
/// information), then the response's own event.
async fn events(
    v: &Vault,
    f: &Firing,
    alert: &AlertRecord,
    act: &AlertAction,
) -> Result<Vec<NewEvent>> {
    let now = alert.raised_at;
    let mut raised = system_event("alert.raised", f, &alert.id, now)
        .target(f.subject.clone())
        .detail("severity", alert.severity.as_str())
        .detail("message", alert.message.clone())
        .detail("response", alert.response.clone())
        .with_severity(alert.severity);
    if alert.severity >= Severity::Warning {
        raised = mail_admins(v, f, alert, raised).await?;
    }
    let mut out = vec![raised];
    match act {
        AlertAction::None => {}
        AlertAction::SuspendKey(key_id) => {
            out.push(
                system_event("key.suspended", f, &alert.id, now).target(format!("key:{key_id}")),
            );
        }
        AlertAction::Block(b) => {
            out.push(
                system_event("address.blocked", f, &alert.id, now)
                    .target(format!("address:{}", b.address))
                    .detail("block_id", b.id.clone())
                    .detail("expires_at", b.expires_at.to_rfc3339()),
            );
        }
    }
    Ok(out)
}

/// Attach to `ev` one mail per owner and admin of the tenant saying what fired.
async fn mail_admins(
    v: &Vault,
    f: &Firing,
    alert: &AlertRecord,
    mut ev: NewEvent,
) -> Result<NewEvent> {
    let response = match alert.response.as_deref() {
        Some("suspended_key") => {
            "The agent key was suspended: its tokens are refused until an owner or admin reinstates or revokes it."
        }
        Some("blocked_address") => {
            "The address was blocked for this vault; an owner or admin can lift the block."
        }
        _ => "Nothing was changed automatically.",
    };
    let subject = format!(
        "Keyhold {} alert: {}",
        alert.severity.as_str(),
        f.rule.as_str()
    );
    let body = format!(
        "Hello,\n\na detection rule of your Keyhold vault fired.\n\n{}\n\n{response}\n\n\
         Rule: {}\nSeverity: {}\nWhen: {} UTC\n\n\
         Review it in the Security Vault (Alerts) or with `keyhold alerts`, and acknowledge it \
         once handled.\n",
        alert.message,
        f.rule.as_str(),
        alert.severity.as_str(),
        alert.raised_at.format("%Y-%m-%d %H:%M:%S"),
    );
    for m in v
        .store
        .members(&f.tenant_id)
        .await?
        .iter()
        .filter(|m| m.role.is_admin())
    {
        ev = ev.with_outbound(crate::events::mail::queue(
            v,
            &m.email,
            &subject,
            body.clone(),
            None,
        )?);
    }
    Ok(ev)
}

async fn try_fire(v: &Vault, f: &Firing) -> Result<()> {
    let now = v.clock.now();
    let (act, response) = action(v, f);
    let alert = AlertRecord {
        id: ids::new_id(now),
        tenant_id: f.tenant_id.clone(),
        rule: f.rule.as_str().to_owned(),
        severity: f.rule.severity(),
        message: f.message.clone(),
        subject: Some(f.subject.clone()),
        response: response.map(str::to_owned),
        raised_at: now,
        acknowledged_at: None,
        acknowledged_by: None,
    };
    let evs = events(v, f, &alert, &act).await?;
    v.store.raise_alert(alert, act.clone(), evs).await?;
    v.metrics.alert_raised(f.rule.as_str());
    match &act {
        AlertAction::None => {}
        AlertAction::SuspendKey(_) => {
            v.metrics.suspensions.inc();
        }
        AlertAction::Block(b) => {
            v.metrics.blocks.inc();
            v.detector.add_block(b);
        }
    }
    Ok(())
}

/// Raise the firing's alert and take its response; failures are logged, never returned.
pub async fn fire(v: &Vault, f: Firing) {
    if let Err(e) = try_fire(v, &f).await {
        tracing::warn!(error = %e, rule = f.rule.as_str(), "raising an alert failed");
    }
}
