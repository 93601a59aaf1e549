//! A secret's tier (how many humans must agree before an agent reads it) and its type (a
//! hint for people and for leak scanners; it changes no rule).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Ordered from least to most protected, so `tier >= Tier::Sensitive` reads as intended.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Readable by any token whose scopes allow it.
    #[default]
    Standard,
    /// One human approval per read (by default; the count is a tenant setting).
    Sensitive,
    /// Two distinct approvers with fresh TOTP codes, plus a delay (tenant settings).
    Critical,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Self::Standard, Self::Sensitive, Self::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Sensitive => "sensitive",
            Self::Critical => "critical",
        }
    }

    /// Whether an agent's read needs an approval grant first.
    pub fn needs_approval(self) -> bool {
        self != Self::Standard
    }
}

/// What kind of value a secret holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecretType {
    ApiKey,
    Password,
    Url,
    Certificate,
    #[default]
    Generic,
}

impl SecretType {
    pub const ALL: [SecretType; 5] = [
        Self::ApiKey,
        Self::Password,
        Self::Url,
        Self::Certificate,
        Self::Generic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApiKey => "api_key",
            Self::Password => "password",
            Self::Url => "url",
            Self::Certificate => "certificate",
            Self::Generic => "generic",
        }
    }
}

/// A tier or type name that is not one of the contract's. Names the allowed values so the
/// message is enough to fix the request (or the database row) that carried it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseKindError {
    #[error("unknown tier {0:?}; use standard, sensitive or critical")]
    Tier(String),
    #[error("unknown secret type {0:?}; use api_key, password, url, certificate or generic")]
    SecretType(String),
}

impl FromStr for Tier {
    type Err = ParseKindError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| ParseKindError::Tier(s.to_owned()))
    }
}

impl FromStr for SecretType {
    type Err = ParseKindError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| ParseKindError::SecretType(s.to_owned()))
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for SecretType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        assert_eq!(Tier::default(), Tier::Standard);
        assert_eq!(SecretType::default(), SecretType::Generic);
    }

    #[test]
    fn tier_names_agree_everywhere() {
        for t in Tier::ALL {
            let json = serde_json::to_value(t).unwrap();
            assert_eq!(json, t.as_str());
            assert_eq!(t.to_string(), t.as_str());
            assert_eq!(t.as_str().parse::<Tier>(), Ok(t));
            assert_eq!(serde_json::from_value::<Tier>(json).unwrap(), t);
        }
        assert_eq!(
            Tier::ALL.map(Tier::as_str),
            ["standard", "sensitive", "critical"]
        );
    }

    #[test]
    fn type_names_agree_everywhere() {
        for t in SecretType::ALL {
            let json = serde_json::to_value(t).unwrap();
            assert_eq!(json, t.as_str());
            assert_eq!(t.to_string(), t.as_str());
            assert_eq!(t.as_str().parse::<SecretType>(), Ok(t));
            assert_eq!(serde_json::from_value::<SecretType>(json).unwrap(), t);
        }
        assert_eq!(
            SecretType::ALL.map(SecretType::as_str),
            ["api_key", "password", "url", "certificate", "generic"]
        );
    }

    #[test]
    fn unknown_names_are_refused() {
        assert!("Critical".parse::<Tier>().is_err());
        assert!("".parse::<Tier>().is_err());
        assert!("apiKey".parse::<SecretType>().is_err());
        assert!(serde_json::from_str::<Tier>("\"secret\"").is_err());
        let msg = "top".parse::<Tier>().unwrap_err().to_string();
        assert!(msg.contains("\"top\"") && msg.contains("critical"), "{msg}");
    }

    #[test]
    fn order_and_approval() {
        assert!(Tier::Standard < Tier::Sensitive && Tier::Sensitive < Tier::Critical);
        assert!(!Tier::Standard.needs_approval());
        assert!(Tier::Sensitive.needs_approval());
        assert!(Tier::Critical.needs_approval());
    }
}
