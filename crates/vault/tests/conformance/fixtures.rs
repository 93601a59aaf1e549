//! What the cases build their state from: fixed times with microseconds, events, and
//! tenants, members, keys, tokens, secrets and approval requests written through the
//! store's own traits (never through a backend's SQL), so every backend is seeded alike.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use keyhold_core::api::{ApprovalOperation, ApprovalStatus, Role};
use keyhold_core::path::SecretPath;
use keyhold_core::tier::Tier;
use keyhold_vault::store::event::{ClientInfo, NewEvent};
use keyhold_vault::store::{
    ApprovalRecord, AuditScope, InvitationRecord, KekRow, KeyRecord, NewVersion, Requester, Sealed,
    SecretRecord, SessionRecord, Store, StoreError, TenantRecord, TokenRecord, UserRecord,
};

pub type S = Arc<dyn Store>;

/// A fixed instant with a non-zero microsecond part (…05.123456Z), so that a backend
/// rounding to milliseconds or seconds is caught wherever a time is compared.
pub fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp_micros(1_767_323_045_123_456).unwrap()
}

/// `t0` plus `secs` seconds.
pub fn at(secs: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(secs)
}

/// An event of `tenant` at `t0`, by nobody in particular.
pub fn ev(action: &'static str, tenant: &str) -> NewEvent {
    NewEvent::new(action, t0(), &ClientInfo::default()).tenant(tenant)
}

/// An event of `tenant` at `at(secs)`: for writes that take their time from the event
/// (a delete spends its grant at the time of its `secret.delete`).
pub fn ev_at(action: &'static str, tenant: &str, secs: i64) -> NewEvent {
    let mut e = ev(action, tenant);
    e.at = at(secs);
    e
}

/// The store's answer was this conflict.
pub fn assert_conflict<T: std::fmt::Debug>(
    r: Result<T, StoreError>,
    want: keyhold_vault::store::Conflict,
) {
    match r {
        Err(StoreError::Conflict(c)) => assert_eq!(c, want),
        other => panic!("expected Conflict::{want:?}, got {other:?}"),
    }
}

pub fn assert_not_found<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    assert!(
        matches!(r, Err(StoreError::NotFound)),
        "expected NotFound, got {r:?}"
    );
}

/// The actions of the tenant's chain, oldest first.
pub async fn actions(s: &S, tenant: &str) -> Vec<String> {
    let scope = AuditScope::Tenant(tenant.to_owned());
    let events = s.audit_after(&scope, 0, 1000).await.unwrap();
    events.into_iter().map(|e| e.action).collect()
}

/// A user record of `tenant` (not yet stored).
pub fn user(tenant: &str, id: &str, role: Role) -> UserRecord {
    UserRecord {
        id: id.to_owned(),
        tenant_id: tenant.to_owned(),
        email: format!("{id}@{tenant}.test"),
        display_name: Some(format!("User {id}")),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        password_zxcvbn: 4,
        email_verified_at: None,
        mfa_enabled: false,
        role,
        created_at: t0(),
    }
}

/// A tenant with its owner `{tenant}-owner`; returns the owner. Its chain starts with
/// one `account.created` event.
pub async fn tenant(s: &S, tenant: &str) -> UserRecord {
    let owner = user(tenant, &format!("{tenant}-owner"), Role::Owner);
    let t = TenantRecord {
        id: tenant.to_owned(),
        name: format!("Tenant {tenant}"),
        created_at: t0(),
    };
    s.create_account(t, owner.clone(), ev("account.created", tenant))
        .await
        .unwrap();
    owner
}

/// An invitation of `tenant` for `id`, sent by the owner, valid for an hour after `t0`.
pub fn invitation(tenant: &str, inv_id: &str, id: &str, role: Role) -> InvitationRecord {
    InvitationRecord {
        id: inv_id.to_owned(),
        tenant_id: tenant.to_owned(),
        email: format!("{id}@{tenant}.test"),
        role,
        invited_by: format!("{tenant}-owner"),
        created_at: t0(),
        expires_at: at(3600),
        used_at: None,
        revoked_at: None,
    }
}

/// A member `id` with `role` joined through an invitation (the documented way in).
pub async fn member(s: &S, tenant: &str, id: &str, role: Role) -> UserRecord {
    let inv = invitation(tenant, &format!("inv-{id}"), id, role);
    s.create_invitation(
        inv.clone(),
        format!("hash-inv-{id}"),
        ev("member.invited", tenant),
    )
    .await
    .unwrap();
    let u = user(tenant, id, role);
    s.accept_invitation(&inv.id, u.clone(), at(1), ev("member.joined", tenant))
        .await
        .unwrap();
    u
}

/// A session of `user`, found by `hash-{id}`.
pub async fn session(s: &S, u: &UserRecord, id: &str) -> SessionRecord {
    let rec = SessionRecord {
        id: id.to_owned(),
        tenant_id: u.tenant_id.clone(),
        user_id: u.id.clone(),
        created_at: t0(),
        last_seen_at: t0(),
        expires_at: at(86_400),
        authenticated_at: t0(),
    };
    s.create_session(
        rec.clone(),
        format!("hash-{id}"),
        ev("auth.login", &u.tenant_id),
    )
    .await
    .unwrap();
    rec
}

/// An agent key `id` owned by `owner`, its secret hash `secret-{id}`.
pub async fn key(s: &S, owner: &UserRecord, id: &str) -> KeyRecord {
    let rec = KeyRecord {
        id: id.to_owned(),
        tenant_id: owner.tenant_id.clone(),
        owner_id: owner.id.clone(),
        name: format!("key {id}"),
        prefix: format!("kh_{id}"),
        scopes: vec!["secrets:read:production/*".parse().unwrap()],
        ip_allowlist: vec!["10.0.0.0/8".parse().unwrap()],
        expires_at: Some(at(7 * 86_400)),
        created_at: t0(),
        last_used_at: None,
        last_used_ip: None,
        revoked_at: None,
        suspended_at: None,
    };
    s.create_key(
        rec.clone(),
        format!("secret-{id}"),
        ev("key.created", &owner.tenant_id),
    )
    .await
    .unwrap();
    rec
}

/// A token `id` of `key`, its hash `hash-{id}`, valid for an hour.
pub async fn token(s: &S, key: &KeyRecord, id: &str, max_uses: Option<u32>) -> TokenRecord {
    let rec = TokenRecord {
        id: id.to_owned(),
        tenant_id: key.tenant_id.clone(),
        key_id: key.id.clone(),
        scopes: key.scopes.clone(),
        ip_allowlist: vec![],
        expires_at: at(3600),
        max_uses,
        uses: 0,
        created_at: t0(),
        revoked_at: None,
    };
    s.create_token(
        rec.clone(),
        format!("hash-{id}"),
        ev("token.created", &key.tenant_id),
    )
    .await
    .unwrap();
    rec
}

pub fn path(p: &str) -> SecretPath {
    SecretPath::parse(p).unwrap()
}

/// The tenant's first KEK (version 1).
pub async fn kek(s: &S, tenant: &str) {
    let row = KekRow {
        tenant_id: tenant.to_owned(),
        version: 1,
        wrapped: b"wrapped-kek-1".to_vec(),
        created_at: t0(),
    };
    s.insert_first_kek(row).await.unwrap();
}

/// A write of `p` as the gate would decide it when it saw `seen`.
pub fn write(
    tenant: &str,
    p: &str,
    tier: Option<Tier>,
    seen: Option<(String, Tier)>,
) -> NewVersion {
    NewVersion {
        tenant_id: tenant.to_owned(),
        path: path(p),
        kind: None,
        tier,
        kek_version: 1,
        created_by: format!("user:{tenant}-owner"),
        now: at(10),
        seen,
        grant: None,
        voided: voided_event,
    }
}

/// The `approval.voided` event of request `r`, built from the event of the change.
pub fn voided_event(e: &NewEvent, r: &ApprovalRecord, reason: &'static str) -> NewEvent {
    let mut v = e
        .clone()
        .target(format!("approval:{}", r.id))
        .detail("reason", reason);
    v.action = "approval.voided";
    v
}

/// A sealer whose ciphertext names the version it was given.
pub fn sealer() -> keyhold_vault::store::Sealer {
    Box::new(|v| {
        Ok(Sealed {
            ciphertext: format!("ct-v{v}").into_bytes(),
            wrapped_dek: format!("dek-v{v}").into_bytes(),
        })
    })
}

/// Write the next version of `p` (creating it at `tier`); the KEK must exist.
pub async fn put(s: &S, tenant: &str, p: &str, tier: Tier) -> SecretRecord {
    let seen = s
        .secret(tenant, &path(p))
        .await
        .unwrap()
        .map(|r| (r.id, r.tier));
    let new = write(tenant, p, Some(tier), seen);
    s.put_secret(new, sealer(), ev("secret.write", tenant))
        .await
        .unwrap()
}

/// A pending request of `tenant`'s key `key_id` to `op` the secret `sec`, needing
/// `required` votes, expiring in an hour, its grant open at once for ten minutes.
pub fn request(
    id: &str,
    sec: &SecretRecord,
    key_id: &str,
    op: ApprovalOperation,
    required: u32,
) -> ApprovalRecord {
    ApprovalRecord {
        id: id.to_owned(),
        tenant_id: sec.tenant_id.clone(),
        path: sec.path.clone(),
        secret_id: Some(sec.id.clone()),
        tier: sec.tier,
        operation: op,
        to_tier: (op == ApprovalOperation::LowerTier).then_some(Tier::Standard),
        requester: Requester::Agent {
            key_id: key_id.to_owned(),
            token_id: None,
        },
        reason: Some("deploy".to_owned()),
        required_approvals: required,
        delay_secs: 0,
        grant_ttl_secs: 600,
        status: ApprovalStatus::Pending,
        requested_at: at(20),
        expires_at: at(3600),
        available_at: None,
        grant_expires_at: None,
        decided_at: None,
        denied_by: None,
        deny_reason: None,
        used_at: None,
        void_reason: None,
    }
}

/// Store `r` as a new request (it must be the first open one of its kind).
pub async fn open(s: &S, r: &ApprovalRecord) {
    let tenant = r.tenant_id.clone();
    let expired: keyhold_vault::store::ExpiryEvent =
        Box::new(move |_| ev("approval.expired", &tenant));
    let (_, inserted) = s
        .open_approval(r.clone(), expired, ev("approval.requested", &r.tenant_id))
        .await
        .unwrap();
    assert!(inserted, "a first request is inserted");
}

/// `voter` approves request `id` at `now`.
pub async fn vote(
    s: &S,
    voter: &UserRecord,
    id: &str,
    now: DateTime<Utc>,
) -> Result<ApprovalRecord, StoreError> {
    let t = voter.tenant_id.clone();
    s.vote_approval(
        &voter.tenant_id,
        id,
        &voter.id,
        Some("ok".into()),
        now,
        Box::new(move |_, _| ev("approval.approved", &t)),
    )
    .await
}

/// A tenant with a KEK, an owner, an approver, an admin, an agent key `k1`, and the
/// secret `production/db/PASSWORD` at `tier`: the stage for approval cases.
pub struct Stage {
    pub owner: UserRecord,
    pub approver: UserRecord,
    pub admin: UserRecord,
    pub key: KeyRecord,
    pub secret: SecretRecord,
}

pub async fn stage(s: &S, t: &str, tier: Tier) -> Stage {
    let owner = tenant(s, t).await;
    let approver = member(s, t, &format!("{t}-approver"), Role::Approver).await;
    let admin = member(s, t, &format!("{t}-admin"), Role::Admin).await;
    let key = key(s, &owner, &format!("{t}-k1")).await;
    kek(s, t).await;
    let secret = put(s, t, "production/db/PASSWORD", tier).await;
    Stage {
        owner,
        approver,
        admin,
        key,
        secret,
    }
}
