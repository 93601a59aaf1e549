//! Mailed notices to a tenant's owners and admins about changes to the whole tenant
//! (issue 15): a change they did not make, to rules that protect everyone's secrets, must
//! not pass unseen. Each says what changed, who changed it, when and from which address;
//! never a secret. The mails ride on the change's audit event through the outbox, so they
//! go out if and only if the change commits. Notices to one person about their own account
//! are `crate::notify`.

use keyhold_core::api::TenantSettings;
use serde_json::Value;

use crate::Vault;
use crate::audit::{ClientInfo, NewEvent};
use crate::auth::Session;
use crate::error::Result;

/// `field: before -> after` for every leaf that differs, in a stable order.
pub fn changed_fields(before: &Value, after: &Value) -> Vec<String> {
    fn walk(prefix: &str, before: &Value, after: &Value, out: &mut Vec<String>) {
        match (before, after) {
            (Value::Object(b), Value::Object(a)) => {
                let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
                keys.sort();
                keys.dedup();
                for k in keys {
                    let name = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(
                        &name,
                        b.get(k).unwrap_or(&Value::Null),
                        a.get(k).unwrap_or(&Value::Null),
                        out,
                    );
                }
            }
            (b, a) if b != a => out.push(format!("{prefix}: {b} -> {a}")),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("", before, after, &mut out);
    out
}

/// Attach to `ev` (the change's `tenant.settings_changed` event) a mail to every owner
/// and admin of `s`'s tenant saying that `s` changed its settings.
pub async fn settings_changed(
    st: &Vault,
    s: &Session,
    before: &TenantSettings,
    after: &TenantSettings,
    ev: NewEvent,
    client: &ClientInfo,
) -> Result<NewEvent> {
    let (b, a) = (
        serde_json::to_value(before).unwrap_or_default(),
        serde_json::to_value(after).unwrap_or_default(),
    );
    let mut changes = changed_fields(&b, &a);
    if changes.is_empty() {
        changes.push("(the same values were saved again)".to_owned());
    }
    let body = format!(
        "Hello,\n\nThe settings of your Keyhold vault were changed.\n\n\
         What changed:\n{}\n\nBy: {}\nWhen: {}\nFrom address: {}\n\n\
         If you do not recognise this change, sign in, review the settings and the audit \
         log (tenant.settings_changed), and talk to the person named above.\n",
        changes
            .iter()
            .map(|c| format!("  {c}"))
            .collect::<Vec<_>>()
            .join("\n"),
        s.user.email,
        ev.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        client.ip.as_deref().unwrap_or("unknown"),
    );
    to_admins(
        st,
        s.tenant_id(),
        "Your Keyhold vault's settings changed",
        &body,
        ev,
    )
    .await
}

/// Attach to `ev` one mail with `body` to every owner and admin of the tenant.
async fn to_admins(
    st: &Vault,
    tenant_id: &str,
    subject: &str,
    body: &str,
    mut ev: NewEvent,
) -> Result<NewEvent> {
    for m in st
        .store
        .members(tenant_id)
        .await?
        .iter()
        .filter(|m| m.role.is_admin())
    {
        ev = ev.with_outbound(crate::events::mail::queue(
            st,
            &m.email,
            subject,
            body.to_owned(),
            None,
        )?);
    }
    Ok(ev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_each_changed_leaf() {
        let mut after = TenantSettings::default();
        after.approvals.critical = 3;
        after.max_token_ttl = "2h".into();
        let b = serde_json::to_value(TenantSettings::default()).unwrap();
        let a = serde_json::to_value(&after).unwrap();
        assert_eq!(
            changed_fields(&b, &a),
            vec![
                "approvals.critical: 2 -> 3".to_owned(),
                "max_token_ttl: \"24h\" -> \"2h\"".to_owned(),
            ]
        );
        assert!(changed_fields(&b, &b).is_empty());
    }
}
