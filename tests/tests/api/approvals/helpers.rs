//! What the approval tests share: invited members and approvers, a vault with an agent
//! key, an agent's request, and audit reads.

use keyhold_client::{Client, ClientError};
use keyhold_core::ErrorCode;
use keyhold_core::api::{AuditEvent, AuditQuery, Role};
use keyhold_core::tier::Tier;
use keyhold_e2e::{Person, STRONG_PASSWORD, TestServer, unique_email};

use crate::mfa::enable_2fa;
use crate::support::{as_agent, key, p};

/// Someone invited into `owner`'s tenant with `role`, signed up through the mailed link
/// and signed in.
pub async fn invited(ts: &TestServer, owner: &Person, role: Role) -> Person {
    let email = unique_email("invitee");
    let inv = owner.client.invite(&email, role).await.unwrap();
    assert_eq!(inv.role, role);
    let link = ts
        .mailed_link(&email, "/signup")
        .await
        .expect("invitation mailed");
    let token = link.split("invitation=").nth(1).unwrap().to_owned();
    let created = ts
        .client()
        .signup(&keyhold_core::api::SignupRequest {
            email: email.clone(),
            password: keyhold_core::Sensitive::new(STRONG_PASSWORD.to_owned()),
            display_name: None,
            invitation: Some(keyhold_core::Sensitive::new(token)),
        })
        .await
        .unwrap();
    assert_eq!(created.tenant.id, owner.tenant_id);
    assert!(created.user.email_verified);
    let client = ts.login(&email, STRONG_PASSWORD).await;
    assert_eq!(client.me().await.unwrap().role, role);
    Person {
        email,
        password: STRONG_PASSWORD.to_owned(),
        client,
        user_id: created.user.id,
        tenant_id: created.tenant.id,
    }
}

/// An approver with 2FA on, and their TOTP secret.
pub async fn approver(ts: &TestServer, owner: &Person) -> (Person, String) {
    let a = invited(ts, owner, Role::Approver).await;
    let e = enable_2fa(ts, &a.client).await;
    (a, e.secret)
}

/// The owner, an agent key of the owner reading `p/*`, and a secret `path` of `tier`.
pub async fn vault(ts: &TestServer, tag: &str, path: &str, tier: Tier) -> (Person, Client) {
    let owner = ts.person(tag).await;
    owner
        .client
        .put_secret(&p(path), "THE-VALUE", None, Some(tier))
        .await
        .unwrap();
    let k = key(&owner, &["secrets:read:p/*"]).await;
    let agent = as_agent(ts, k.secret.expose());
    (owner, agent)
}

pub fn api_code(e: &ClientError) -> Option<ErrorCode> {
    e.code()
}

/// Read as the agent and expect 403 `approval_required`: the request id and status.
pub async fn asks(agent: &Client, path: &str) -> (String, String) {
    let e = agent.get_secret(&p(path), None).await.unwrap_err();
    assert_eq!(api_code(&e), Some(ErrorCode::ApprovalRequired), "{e:?}");
    assert_eq!(e.status(), Some(403));
    (
        e.extra_str("approval_id").unwrap().to_owned(),
        e.extra_str("status").unwrap().to_owned(),
    )
}

pub async fn events(client: &Client, action: &str) -> Vec<AuditEvent> {
    client
        .audit(&AuditQuery {
            action: Some(action.to_owned()),
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
}

pub(super) fn about(evs: &[AuditEvent], id: &str) -> usize {
    let target = format!("approval:{id}");
    evs.iter()
        .filter(|e| e.target.as_deref() == Some(target.as_str()) && e.outcome == "success")
        .count()
}
