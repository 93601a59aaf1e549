//! The rules: what each one watches (docs/alerts.md), the severity of its alerts, the
//! responses it may take, and the check of a tenant's settings.

use chrono::Duration;
use keyhold_core::api::{AlertRule, AlertRules, RuleResponse, Severity};
use keyhold_core::duration;

use crate::error::{Error, Result};

/// A rule's identity, the label of its metric series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    SigninFailuresAccount,
    SigninFailuresAddress,
    AgentFailures,
    OutsideAllowlist,
    RevokedKeyUsed,
    ReadRate,
    MfaLockout,
    CriticalSecretRead,
    AuditChain,
}

impl Rule {
    pub const ALL: [Rule; 9] = [
        Self::SigninFailuresAccount,
        Self::SigninFailuresAddress,
        Self::AgentFailures,
        Self::OutsideAllowlist,
        Self::RevokedKeyUsed,
        Self::ReadRate,
        Self::MfaLockout,
        Self::CriticalSecretRead,
        Self::AuditChain,
    ];

    /// The rule's place in [`Self::ALL`].
    pub fn index(self) -> usize {
        Self::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SigninFailuresAccount => "signin_failures_account",
            Self::SigninFailuresAddress => "signin_failures_address",
            Self::AgentFailures => "agent_failures",
            Self::OutsideAllowlist => "outside_allowlist",
            Self::RevokedKeyUsed => "revoked_key_used",
            Self::ReadRate => "read_rate",
            Self::MfaLockout => "mfa_lockout",
            Self::CriticalSecretRead => "critical_secret_read",
            Self::AuditChain => "audit_chain",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Self::OutsideAllowlist | Self::RevokedKeyUsed | Self::AuditChain => Severity::Critical,
            Self::CriticalSecretRead => Severity::Info,
            _ => Severity::Warning,
        }
    }

    /// The responses besides `alert` this rule may take: a key only where a key is
    /// involved, an address only where a request came from one.
    pub fn allows(self, r: RuleResponse) -> bool {
        use RuleResponse::*;
        match r {
            Alert => true,
            SuspendKey => matches!(
                self,
                Self::AgentFailures | Self::OutsideAllowlist | Self::ReadRate
            ),
            BlockAddress => matches!(
                self,
                Self::SigninFailuresAddress
                    | Self::AgentFailures
                    | Self::OutsideAllowlist
                    | Self::RevokedKeyUsed
            ),
        }
    }

    pub fn of(self, rules: &AlertRules) -> &AlertRule {
        match self {
            Self::SigninFailuresAccount => &rules.signin_failures_account,
            Self::SigninFailuresAddress => &rules.signin_failures_address,
            Self::AgentFailures => &rules.agent_failures,
            Self::OutsideAllowlist => &rules.outside_allowlist,
            Self::RevokedKeyUsed => &rules.revoked_key_used,
            Self::ReadRate => &rules.read_rate,
            Self::MfaLockout => &rules.mfa_lockout,
            Self::CriticalSecretRead => &rules.critical_secret_read,
            Self::AuditChain => &rules.audit_chain,
        }
    }
}

/// A rule's setting, checked and parsed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Setting {
    pub enabled: bool,
    pub threshold: u32,
    pub window: Duration,
    pub response: RuleResponse,
    pub block_for: Duration,
    pub factor: u32,
    pub floor: u32,
}

pub const DEFAULT_BLOCK_FOR: Duration = Duration::hours(1);
const MAX_THRESHOLD: u32 = 10_000_000;

fn invalid(field: String, message: String) -> Error {
    let mut extra = serde_json::Map::new();
    extra.insert("field".into(), field.into());
    Error::Invalid { message, extra }
}

fn span(field: &str, text: &str, min: Duration, max: Duration) -> Result<Duration> {
    let d = duration::parse(text).map_err(|e| invalid(field.into(), format!("{field}: {e}.")))?;
    if d < min || d > max {
        return Err(invalid(
            field.into(),
            format!(
                "{field} must be between {} and {}.",
                duration::format(min),
                duration::format(max)
            ),
        ));
    }
    Ok(d)
}

/// Check one rule's setting: threshold up to 10,000,000, window 1 minute to 1 day (the
/// audit chain's 5 minutes to 1 day: it is the interval of its check), a response the
/// rule may take, a block of 1 minute to 30 days, read_rate's factor 2–1000 and floor.
pub fn setting(rule: Rule, r: &AlertRule) -> Result<Setting> {
    let name = rule.as_str();
    if r.threshold > MAX_THRESHOLD {
        return Err(invalid(
            format!("{name}.threshold"),
            format!("{name}.threshold may be at most {MAX_THRESHOLD}."),
        ));
    }
    let min_window = if rule == Rule::AuditChain {
        Duration::minutes(5)
    } else {
        Duration::minutes(1)
    };
    let window = span(
        &format!("{name}.window"),
        &r.window,
        min_window,
        Duration::days(1),
    )?;
    if !rule.allows(r.response) {
        return Err(invalid(
            format!("{name}.response"),
            format!("{name} cannot respond with that; see docs/alerts.md for its responses."),
        ));
    }
    let block_for = match &r.block_for {
        Some(t) => span(
            &format!("{name}.block_for"),
            t,
            Duration::minutes(1),
            Duration::days(30),
        )?,
        None => DEFAULT_BLOCK_FOR,
    };
    let factor = r.factor.unwrap_or(20);
    if !(2..=1000).contains(&factor) {
        return Err(invalid(
            format!("{name}.factor"),
            format!("{name}.factor must be between 2 and 1000."),
        ));
    }
    let floor = r.floor.unwrap_or(1000);
    if floor > MAX_THRESHOLD {
        return Err(invalid(
            format!("{name}.floor"),
            format!("{name}.floor may be at most {MAX_THRESHOLD}."),
        ));
    }
    Ok(Setting {
        enabled: r.enabled,
        threshold: r.threshold,
        window,
        response: r.response,
        block_for,
        factor,
        floor,
    })
}

/// Check every rule of a tenant's settings.
pub fn check(rules: &AlertRules) -> Result<()> {
    for rule in Rule::ALL {
        setting(rule, rule.of(rules))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_pass_and_bad_settings_name_their_field() {
        check(&AlertRules::default()).unwrap();
        let mut r = AlertRules::default();
        r.mfa_lockout.response = RuleResponse::SuspendKey;
        let Err(Error::Invalid { extra, .. }) = check(&r) else {
            panic!("a lockout has no key to suspend")
        };
        assert_eq!(extra["field"], "mfa_lockout.response");
        let mut r = AlertRules::default();
        r.read_rate.window = "0m".into();
        assert!(check(&r).is_err());
        let mut r = AlertRules::default();
        r.audit_chain.window = "1m".into();
        assert!(
            check(&r).is_err(),
            "the chain check runs at most every 5 minutes"
        );
        let mut r = AlertRules::default();
        r.read_rate.floor = Some(MAX_THRESHOLD + 1);
        let Err(Error::Invalid { extra, .. }) = check(&r) else {
            panic!("a floor above the ceiling is refused, not clamped")
        };
        assert_eq!(extra["field"], "read_rate.floor");
    }
}
