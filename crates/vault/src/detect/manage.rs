//! What people do with detection: read and change the tenant's rules, list and
//! acknowledge alerts, reinstate a suspended key, list and lift address blocks. Alerts and
//! blocks are the tenant's security business: owners and admins only (the server's
//! `Admin` guard, or the role check here where the refusal is audited).

use keyhold_core::api::{Alert, AlertQuery, AlertRules, Block, Page};

use crate::Vault;
use crate::audit::{ClientInfo, NewEvent, Outcome};
use crate::auth::{Session, SudoSession};
use crate::error::{Error, Result};
use crate::notify::{self, Change};
use crate::paging;
use crate::store::detect::{AlertFilter, AlertRecord, BlockRecord};
use crate::store::{Conflict, StoreError};

const ADMINS_ONLY: &str = "Only owners and admins can change the alert rules.";

/// `GET /v1/tenant/alert-rules`: every member may read them.
pub async fn get_rules(v: &Vault, s: &Session) -> Result<AlertRules> {
    Ok(v.store
        .alert_rules(s.tenant_id())
        .await?
        .unwrap_or_default())
}

/// `PUT /v1/tenant/alert-rules` (owners and admins, sudo window), audited as
/// `tenant.alert_rules_changed` and mailed to every owner and admin; in force on this
/// server at once and on the others at their next refresh.
pub async fn put_rules(
    v: &Vault,
    s: &SudoSession,
    req: AlertRules,
    client: &ClientInfo,
) -> Result<AlertRules> {
    let now = v.clock.now();
    let base = NewEvent::new("tenant.alert_rules_changed", now, client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("tenant:{}", s.tenant_id()));
    if !s.user.role.is_admin() {
        v.store
            .append_event(base.outcome(Outcome::Denied).detail("reason", "role"))
            .await?;
        return Err(Error::Forbidden(ADMINS_ONLY));
    }
    super::rules::check(&req)?;
    let before = get_rules(v, s).await?;
    let (b, a) = (
        serde_json::to_value(&before).unwrap_or_default(),
        serde_json::to_value(&req).unwrap_or_default(),
    );
    let changes = crate::notices::changed_fields(&b, &a);
    let mut ev = base.detail("changes", changes.clone());
    let body = format!(
        "Hello,\n\nThe alert rules of your Keyhold vault were changed by {}.\n\n\
         What changed:\n{}\n\nWhen: {} UTC\nFrom address: {}\n\n\
         If you do not recognise this change, sign in and review the alert rules and the \
         audit log (tenant.alert_rules_changed).\n",
        s.user.email,
        if changes.is_empty() {
            "  (the same values were saved again)".to_owned()
        } else {
            changes
                .iter()
                .map(|c| format!("  {c}"))
                .collect::<Vec<_>>()
                .join("\n")
        },
        now.format("%Y-%m-%d %H:%M:%S"),
        client.ip.as_deref().unwrap_or("unknown"),
    );
    for m in v
        .store
        .members(s.tenant_id())
        .await?
        .iter()
        .filter(|m| m.role.is_admin())
    {
        ev = ev.with_outbound(crate::events::mail::queue(
            v,
            &m.email,
            "Keyhold: your vault's alert rules changed",
            body.clone(),
            None,
        )?);
    }
    v.store
        .put_alert_rules(s.tenant_id(), req.clone(), now, ev)
        .await?;
    v.detector.set_rules(s.tenant_id(), &req);
    Ok(req)
}

fn to_alert(a: AlertRecord) -> Alert {
    Alert {
        id: a.id,
        rule: a.rule,
        severity: a.severity,
        message: a.message,
        subject: a.subject,
        response: a.response,
        raised_at: a.raised_at,
        acknowledged_at: a.acknowledged_at,
        acknowledged_by: a.acknowledged_by,
    }
}

/// `GET /v1/alerts` (owners and admins): newest first; open ones unless asked otherwise.
pub async fn list_alerts(v: &Vault, s: &Session, q: &AlertQuery) -> Result<Page<Alert>> {
    let limit = paging::limit(q.limit)?;
    let filter = match q.status.as_deref() {
        None | Some("open") => AlertFilter::Open,
        Some("acknowledged") => AlertFilter::Acknowledged,
        Some("all") => AlertFilter::All,
        Some(_) => {
            return Err(Error::invalid_field(
                "status must be open, acknowledged or all.".to_owned(),
                "status",
            ));
        }
    };
    let before = q
        .cursor
        .as_deref()
        .map(|c| paging::decode_cursor('l', c))
        .transpose()?;
    let items = v
        .store
        .list_alerts(s.tenant_id(), filter, before.as_deref(), limit)
        .await?;
    let next_cursor = paging::next_cursor(&items, limit, 'l', |a| a.id.clone());
    Ok(Page {
        items: items.into_iter().map(to_alert).collect(),
        next_cursor,
    })
}

/// `POST /v1/alerts/{id}/ack` (owners and admins), audited as `alert.acknowledged`. An
/// unknown or already acknowledged alert is 404.
pub async fn ack_alert(v: &Vault, s: &Session, id: &str, client: &ClientInfo) -> Result<Alert> {
    let now = v.clock.now();
    let ev = NewEvent::new("alert.acknowledged", now, client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("alert:{id}"));
    match v
        .store
        .ack_alert(s.tenant_id(), id, &s.user.id, now, ev)
        .await
    {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(Error::NotFound),
        Err(e) => return Err(e.into()),
    }
    let a = v
        .store
        .alert(s.tenant_id(), id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(to_alert(a))
}

/// `POST /v1/keys/{id}/reinstate` (the key's owner or an admin, sudo window): a suspended
/// key works again, its tokens with it. Audited as `key.reinstated` and mailed to the
/// key's owner. A key that is not suspended, or not the caller's to manage, is 404.
pub async fn reinstate_key(
    v: &Vault,
    s: &SudoSession,
    key_id: &str,
    client: &ClientInfo,
) -> Result<()> {
    let now = v.clock.now();
    let base = NewEvent::new("key.reinstated", now, client).user(s.tenant_id(), &s.user.id);
    let key = v.store.key(s.tenant_id(), key_id).await?;
    let Some(key) = key.filter(|k| s.user.role.is_admin() || k.owner_id == s.user.id) else {
        v.store
            .append_event(base.outcome(Outcome::Failure).detail("reason", "not_found"))
            .await?;
        return Err(Error::NotFound);
    };
    let base = base.target(format!("key:{key_id}"));
    if key.suspended_at.is_none() || key.revoked_at.is_some() {
        v.store
            .append_event(
                base.outcome(Outcome::Failure)
                    .detail("reason", "not_suspended"),
            )
            .await?;
        return Err(Error::Conflict(Conflict::KeyNotSuspended.message()));
    }
    let owner = v.store.user(s.tenant_id(), &key.owner_id).await?;
    let mut ev = base;
    if let Some(owner) = owner {
        let change = Change::AgentKeyReinstated {
            name: key.name.clone(),
        };
        ev = notify::with_notice(v, ev, &owner.email, &change, client)?;
    }
    match v.store.reinstate_key(s.tenant_id(), key_id, ev).await {
        Ok(()) => Ok(()),
        // Reinstated or revoked by someone else since the check above.
        Err(StoreError::NotFound) => Err(Error::Conflict(Conflict::KeyNotSuspended.message())),
        Err(e) => Err(e.into()),
    }
}

fn to_block(b: BlockRecord) -> Block {
    Block {
        id: b.id,
        address: b.address,
        rule: b.rule,
        created_at: b.created_at,
        expires_at: b.expires_at,
    }
}

/// `GET /v1/blocks` (owners and admins): the blocks in force.
pub async fn list_blocks(v: &Vault, s: &Session) -> Result<Vec<Block>> {
    let blocks = v.store.tenant_blocks(s.tenant_id(), v.clock.now()).await?;
    Ok(blocks.into_iter().map(to_block).collect())
}

/// `DELETE /v1/blocks/{id}` (owners and admins, sudo window): lift a block, audited as
/// `block.lifted`. An unknown or ended block is 404.
pub async fn lift_block(v: &Vault, s: &SudoSession, id: &str, client: &ClientInfo) -> Result<()> {
    let now = v.clock.now();
    let base = NewEvent::new("block.lifted", now, client).user(s.tenant_id(), &s.user.id);
    if !s.user.role.is_admin() {
        v.store
            .append_event(base.outcome(Outcome::Denied).detail("reason", "role"))
            .await?;
        return Err(Error::Forbidden("Only owners and admins can lift blocks."));
    }
    let blocks = v.store.tenant_blocks(s.tenant_id(), now).await?;
    let Some(b) = blocks.into_iter().find(|b| b.id == id) else {
        return Err(Error::NotFound);
    };
    let ev = base
        .target(format!("address:{}", b.address))
        .detail("block_id", id.to_owned());
    match v.store.lift_block(s.tenant_id(), id, now, ev).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(Error::NotFound),
        Err(e) => return Err(e.into()),
    }
    v.detector.remove_block(s.tenant_id(), &b.address);
    Ok(())
}
