//! Detection and response (issue 19, docs/alerts.md): the tenant's alert rules watch
//! sign-ins, agent credentials, secret reads, 2FA lockouts and the audit chain; a rule
//! that fires raises an alert (audited, mailed, on the live feeds and webhooks) and may
//! suspend the key or block the address involved.
//!
//! Why in memory: detection runs in the request path, and the secret-read hot path must
//! not wait on the store for it. The counters ([`counting`]) are this server's own; the
//! rules and the blocks are copies of the store's, refreshed on every change made here
//! and every [`REFRESH_EVERY`] by [`schedule`], so replicas sharing a PostgreSQL store
//! learn each other's blocks within seconds. Only a rule that fires writes to the store.
//!
//! Layering: the modules that see the events (`login`, `agent_keys`, `tokens`,
//! `auth_failures`, `secrets`, `mfa`) call in here; this module calls none of them.

pub mod counting;
pub mod manage;
pub mod respond;
pub mod rules;
pub mod schedule;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, LazyLock, Mutex, RwLock};

use chrono::{DateTime, Utc};
use keyhold_core::api::AlertRules;

use crate::Vault;
use crate::audit::ClientInfo;
use crate::error::{Error, Result};
use crate::store::detect::BlockRecord;
use crate::store::{KeyRecord, UserRecord};
use counting::{RateLimits, RateVerdict, Rates, Windows};
use respond::Firing;
use rules::{Rule, Setting};

/// How often the in-memory rules and blocks are refreshed from the store, and the audit
/// chain schedule looked at.
pub const REFRESH_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

#[derive(Clone, Debug)]
struct Blocked {
    address: IpAddr,
    expires_at: DateTime<Utc>,
}

/// Every rule's setting, in the order of [`Rule::ALL`].
type Settings = [Setting; Rule::ALL.len()];

/// A rule that is off: what a rule falls back to if even its default did not parse
/// (a unit test of `rules` keeps the defaults valid).
const OFF: Setting = Setting {
    enabled: false,
    threshold: 0,
    window: chrono::Duration::minutes(1),
    response: keyhold_core::api::RuleResponse::Alert,
    block_for: rules::DEFAULT_BLOCK_FOR,
    factor: 20,
    floor: 1000,
};

/// The documented defaults, parsed once.
static DEFAULTS: LazyLock<Settings> =
    LazyLock::new(|| parse_all(&AlertRules::default(), &[OFF; Rule::ALL.len()]));

/// A tenant's saved rules, parsed; a rule that no longer parses (it was checked when
/// saved) takes its fallback.
fn parse_all(r: &AlertRules, fallback: &Settings) -> Settings {
    let mut out = *fallback;
    for (i, rule) in Rule::ALL.into_iter().enumerate() {
        if let Ok(s) = rules::setting(rule, rule.of(r)) {
            out[i] = s;
        }
    }
    out
}

/// The detector's state, one per server.
#[derive(Default)]
pub struct Detector {
    /// Tenants' saved rules, parsed; a tenant not here is on the defaults.
    rules: RwLock<HashMap<String, Arc<Settings>>>,
    /// Blocks in force, by tenant.
    blocks: RwLock<HashMap<String, Vec<Blocked>>>,
    windows: Mutex<Windows>,
    rates: Mutex<Rates>,
    /// Per tenant: when its chain was last checked and whether it verified.
    chains: Mutex<HashMap<String, (DateTime<Utc>, bool)>>,
}

impl Detector {
    /// The setting of `rule` for `tenant_id` (the defaults where none was saved): a map
    /// lookup, nothing parsed or allocated on the request path.
    pub fn setting(&self, tenant_id: &str, rule: Rule) -> Setting {
        let i = rule.index();
        self.rules
            .read()
            .ok()
            .and_then(|m| m.get(tenant_id).map(|s| s[i]))
            .unwrap_or(DEFAULTS[i])
    }

    pub(crate) fn set_rules(&self, tenant_id: &str, r: &AlertRules) {
        let parsed = Arc::new(parse_all(r, &DEFAULTS));
        if let Ok(mut m) = self.rules.write() {
            m.insert(tenant_id.to_owned(), parsed);
        }
    }

    fn replace_rules(&self, all: Vec<(String, AlertRules)>) {
        let parsed: HashMap<_, _> = all
            .into_iter()
            .map(|(t, r)| (t, Arc::new(parse_all(&r, &DEFAULTS))))
            .collect();
        if let Ok(mut m) = self.rules.write() {
            *m = parsed;
        }
    }

    fn replace_blocks(&self, all: &[BlockRecord]) {
        let mut by_tenant: HashMap<String, Vec<Blocked>> = HashMap::new();
        for b in all {
            if let Ok(address) = b.address.parse::<IpAddr>() {
                by_tenant
                    .entry(b.tenant_id.clone())
                    .or_default()
                    .push(Blocked {
                        address,
                        expires_at: b.expires_at,
                    });
            }
        }
        if let Ok(mut m) = self.blocks.write() {
            *m = by_tenant;
        }
    }

    pub(crate) fn add_block(&self, b: &BlockRecord) {
        if let (Ok(address), Ok(mut m)) = (b.address.parse::<IpAddr>(), self.blocks.write()) {
            m.entry(b.tenant_id.clone()).or_default().push(Blocked {
                address,
                expires_at: b.expires_at,
            });
        }
    }

    pub(crate) fn remove_block(&self, tenant_id: &str, address: &str) {
        if let (Ok(address), Ok(mut m)) = (address.parse::<IpAddr>(), self.blocks.write())
            && let Some(list) = m.get_mut(tenant_id)
        {
            list.retain(|b| b.address != address);
        }
    }

    /// Whether `ip` is blocked for the tenant at `now`: a lookup in memory.
    pub fn is_blocked(&self, tenant_id: &str, ip: Option<IpAddr>, now: DateTime<Utc>) -> bool {
        let Some(ip) = ip.map(|i| i.to_canonical()) else {
            return false;
        };
        self.blocks.read().is_ok_and(|m| {
            m.get(tenant_id)
                .is_some_and(|list| list.iter().any(|b| b.address == ip && now < b.expires_at))
        })
    }

    /// Count one event of `rule` for `subject`; true when the rule fires.
    fn hit(&self, rule: Rule, s: &Setting, subject: &str, now: DateTime<Utc>) -> bool {
        s.enabled
            && self.windows.lock().is_ok_and(|mut w| {
                w.hit(
                    &format!("{}:{subject}", rule.as_str()),
                    now,
                    s.window,
                    s.threshold,
                )
            })
    }
}

fn parse_ip(client: &ClientInfo) -> Option<IpAddr> {
    client.ip.as_deref().and_then(|i| i.parse::<IpAddr>().ok())
}

/// The address's block, for a sign-in or agent request of the tenant: `address_blocked`.
pub fn check_address(v: &Vault, tenant_id: &str, ip: Option<IpAddr>) -> Result<()> {
    if v.detector.is_blocked(tenant_id, ip, v.clock.now()) {
        return Err(Error::AddressBlocked);
    }
    Ok(())
}

/// A wrong password for an existing account: the account and address rules.
pub async fn signin_failed(v: &Vault, user: &UserRecord, client: &ClientInfo) {
    let now = v.clock.now();
    let d = &v.detector;
    let rule = Rule::SigninFailuresAccount;
    let s = d.setting(&user.tenant_id, rule);
    if d.hit(rule, &s, &format!("{}:{}", user.tenant_id, user.id), now) {
        let msg = format!(
            "More than {} failed sign-ins for {} within {}.",
            s.threshold,
            user.email,
            keyhold_core::duration::format(s.window)
        );
        let f = Firing::new(rule, &user.tenant_id, msg, format!("user:{}", user.id));
        respond::fire(v, f.ip(parse_ip(client))).await;
    }
    let Some(ip) = parse_ip(client) else { return };
    let rule = Rule::SigninFailuresAddress;
    let s = d.setting(&user.tenant_id, rule);
    if d.hit(rule, &s, &format!("{}:{ip}", user.tenant_id), now) {
        let msg = format!(
            "More than {} failed sign-ins from {ip} within {}.",
            s.threshold,
            keyhold_core::duration::format(s.window)
        );
        let f = Firing::new(rule, &user.tenant_id, msg, format!("address:{ip}"));
        respond::fire(v, f.ip(Some(ip))).await;
    }
}

/// Why an existing agent credential was refused, for the agent rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentRefusal {
    Revoked,
    Address,
    Other,
}

/// A refused use of an existing key (or a token of it) from `ip`.
pub async fn agent_refused(v: &Vault, key: &KeyRecord, why: AgentRefusal, ip: Option<IpAddr>) {
    let now = v.clock.now();
    let d = &v.detector;
    let subject = format!("key:{}", key.id);
    let specific = match why {
        AgentRefusal::Revoked => Some((
            Rule::RevokedKeyUsed,
            format!("The revoked agent key \"{}\" was presented again", key.name),
        )),
        AgentRefusal::Address => Some((
            Rule::OutsideAllowlist,
            format!(
                "Agent key \"{}\" was used from outside its IP allowlist",
                key.name
            ),
        )),
        AgentRefusal::Other => None,
    };
    if let Some((rule, what)) = specific {
        let s = d.setting(&key.tenant_id, rule);
        if d.hit(rule, &s, &format!("{}:{}", key.tenant_id, key.id), now) {
            let from = ip.map_or_else(|| "an unknown address".to_owned(), |i| i.to_string());
            let f = Firing::new(
                rule,
                &key.tenant_id,
                format!("{what} (from {from})."),
                subject.clone(),
            );
            respond::fire(v, f.key(&key.id).ip(ip)).await;
        }
    }
    let rule = Rule::AgentFailures;
    let s = d.setting(&key.tenant_id, rule);
    if d.hit(rule, &s, &format!("{}:{}", key.tenant_id, key.id), now) {
        let msg = format!(
            "More than {} refused uses of agent key \"{}\" or its tokens within {}.",
            s.threshold,
            key.name,
            keyhold_core::duration::format(s.window)
        );
        let f = Firing::new(rule, &key.tenant_id, msg, subject);
        respond::fire(v, f.key(&key.id).ip(ip)).await;
    }
}

/// A secret value was read: the key's read rate, and the record of critical reads.
/// In memory unless a rule fires.
pub async fn secret_read(
    v: &Vault,
    tenant_id: &str,
    key: Option<&KeyRecord>,
    path: &str,
    critical: bool,
) {
    let now = v.clock.now();
    let d = &v.detector;
    if critical {
        let rule = Rule::CriticalSecretRead;
        let s = d.setting(tenant_id, rule);
        if s.enabled {
            let f = Firing::new(
                rule,
                tenant_id,
                format!("The critical secret {path} was read."),
                format!("secret:{path}"),
            );
            respond::fire(v, f).await;
        }
    }
    let Some(key) = key else { return };
    let rule = Rule::ReadRate;
    let s = d.setting(tenant_id, rule);
    if !s.enabled {
        return;
    }
    let limits = RateLimits {
        ceiling: s.threshold,
        factor: s.factor,
        floor: s.floor,
        learning: u32::try_from(s.window.num_minutes()).unwrap_or(u32::MAX),
    };
    let verdict = match d.rates.lock() {
        Ok(mut r) => r.read(&key.id, now, limits),
        Err(_) => RateVerdict::Normal,
    };
    let msg = match verdict {
        RateVerdict::Normal => return,
        RateVerdict::Ceiling { count } => format!(
            "Agent key \"{}\" read more than {} secrets in a minute ({count}).",
            key.name, s.threshold
        ),
        RateVerdict::Baseline { count, baseline } => format!(
            "Agent key \"{}\" read {count} secrets in a minute, more than {} times its usual {:.1}.",
            key.name, s.factor, baseline
        ),
    };
    let f = Firing::new(rule, tenant_id, msg, format!("key:{}", key.id));
    respond::fire(v, f.key(&key.id)).await;
}

/// Two-factor sign-in was locked after wrong codes.
pub async fn mfa_locked(v: &Vault, user: &UserRecord) {
    let rule = Rule::MfaLockout;
    let d = &v.detector;
    let s = d.setting(&user.tenant_id, rule);
    if d.hit(
        rule,
        &s,
        &format!("{}:{}", user.tenant_id, user.id),
        v.clock.now(),
    ) {
        let msg = format!(
            "Two-factor sign-in for {} was locked after wrong codes.",
            user.email
        );
        respond::fire(
            v,
            Firing::new(rule, &user.tenant_id, msg, format!("user:{}", user.id)),
        )
        .await;
    }
}
