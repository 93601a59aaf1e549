//! The scope grammar: parsing, the string form (`Display`, serde) and the OpenAPI schema.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::path::{PathError, SecretPath};

/// The grammar as a regular expression, for the OpenAPI document and other languages.
/// The path rules themselves (no `.`/`..`, at most 256 bytes) are checked on top.
pub const PATTERN: &str = r"^secrets:(read|write|delete):(\*|(?:\.{0,2}[A-Za-z0-9_-][A-Za-z0-9._-]*|\.{3,}[A-Za-z0-9._-]*)(?:/(?:\.{0,2}[A-Za-z0-9_-][A-Za-z0-9._-]*|\.{3,}[A-Za-z0-9._-]*)){0,15}|(?:\.{0,2}[A-Za-z0-9_-][A-Za-z0-9._-]*|\.{3,}[A-Za-z0-9._-]*)(?:/(?:\.{0,2}[A-Za-z0-9_-][A-Za-z0-9._-]*|\.{3,}[A-Za-z0-9._-]*)){0,14}/\*)$";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Read,
    Write,
    Delete,
}

impl Action {
    pub const ALL: [Action; 3] = [Self::Read, Self::Write, Self::Delete];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Delete => "delete",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = ScopeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| ScopeError::UnknownAction(s.to_owned()))
    }
}

/// Which paths a scope reaches.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pattern {
    /// One path.
    Exact(SecretPath),
    /// Every path strictly below this folder (`folder/*`).
    Below(SecretPath),
    /// Every path (`*`).
    Any,
}

impl Pattern {
    pub fn parse(s: &str) -> Result<Self, ScopeError> {
        if s == "*" {
            return Ok(Self::Any);
        }
        if let Some(folder) = s.strip_suffix("/*") {
            let folder = SecretPath::parse(folder).map_err(|e| match e {
                // `*/*`, `a/*/*`: the only `*` allowed is the final one.
                PathError::InvalidCharacter { ch: '*', .. } => ScopeError::MisplacedWildcard,
                other => ScopeError::Path(other),
            })?;
            if folder.segment_count() >= crate::path::MAX_SEGMENTS {
                return Err(ScopeError::NoRoomBelow);
            }
            return Ok(Self::Below(folder));
        }
        SecretPath::parse(s).map(Self::Exact).map_err(|e| match e {
            PathError::InvalidCharacter { ch: '*', .. } => ScopeError::MisplacedWildcard,
            other => ScopeError::Path(other),
        })
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("*"),
            Self::Exact(p) => write!(f, "{p}"),
            Self::Below(folder) => write!(f, "{folder}/*"),
        }
    }
}

/// Why a scope string was refused. The messages go to API clients as they are.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("a scope looks like `secrets:<read|write|delete>:<pattern>`")]
    Malformed,
    #[error("unknown action {0:?}; use read, write or delete")]
    UnknownAction(String),
    #[error("`*` may only be the whole pattern or follow the final `/`, as in `production/*`")]
    MisplacedWildcard,
    #[error("a `/*` pattern needs room for a segment below it; this folder is already 16 deep")]
    NoRoomBelow,
    #[error("invalid path in scope: {0}")]
    Path(#[from] PathError),
}

/// One permission: an action on the paths a pattern matches.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    pub action: Action,
    pub pattern: Pattern,
}

impl Scope {
    pub fn new(action: Action, pattern: Pattern) -> Self {
        Self { action, pattern }
    }

    pub fn parse(s: &str) -> Result<Self, ScopeError> {
        let rest = s.strip_prefix("secrets:").ok_or(ScopeError::Malformed)?;
        let (action, pattern) = rest.split_once(':').ok_or(ScopeError::Malformed)?;
        Ok(Self {
            action: action.parse()?,
            pattern: Pattern::parse(pattern)?,
        })
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "secrets:{}:{}", self.action, self.pattern)
    }
}

impl FromStr for Scope {
    type Err = ScopeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for Scope {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
        utoipa::openapi::RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(
                    "`secrets:<read|write|delete>:<pattern>`; the pattern is a path, a path ending in `/*` (everything below it) or `*`.",
                ))
                .pattern(Some(PATTERN))
                // The shortest prefix and the longest path: the path's own 256-byte limit
                // is checked on top.
                .max_length(Some("secrets:read:".len() + crate::path::MAX_BYTES))
                .examples(["secrets:read:production/stripe/*"])
                .build(),
        ))
    }
}

impl utoipa::ToSchema for Scope {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::test_support::{p, s, scope};
    use proptest::prelude::*;

    #[test]
    fn parses_the_three_pattern_kinds() {
        assert_eq!(
            s("secrets:read:production/stripe/KEY"),
            Scope::new(Action::Read, Pattern::Exact(p("production/stripe/KEY")))
        );
        assert_eq!(
            s("secrets:write:production/*"),
            Scope::new(Action::Write, Pattern::Below(p("production")))
        );
        assert_eq!(
            s("secrets:delete:*"),
            Scope::new(Action::Delete, Pattern::Any)
        );
    }

    #[test]
    fn display_round_trips() {
        for text in [
            "secrets:read:a",
            "secrets:read:a/b/c",
            "secrets:write:a/*",
            "secrets:delete:*",
            "secrets:read:a.b/c-d/*",
        ] {
            assert_eq!(s(text).to_string(), text);
        }
    }

    #[test]
    fn refuses_malformed_scopes() {
        use ScopeError::*;
        let cases: &[(&str, ScopeError)] = &[
            ("", Malformed),
            ("secrets", Malformed),
            ("secrets:read", Malformed),
            ("secret:read:a", Malformed),
            ("SECRETS:read:a", Malformed),
            ("keys:read:a", Malformed),
            ("secrets:READ:a", UnknownAction("READ".into())),
            ("secrets:admin:a", UnknownAction("admin".into())),
            ("secrets::a", UnknownAction(String::new())),
            ("secrets:read:", Path(PathError::Empty)),
            ("secrets:read:a/", Path(PathError::EmptySegment)),
            ("secrets:read:/a", Path(PathError::EmptySegment)),
            ("secrets:read:/*", Path(PathError::Empty)),
            ("secrets:read:a//*", Path(PathError::EmptySegment)),
            ("secrets:read:../*", Path(PathError::DotSegment)),
            ("secrets:read:a/../b", Path(PathError::DotSegment)),
            ("secrets:read:**", MisplacedWildcard),
            ("secrets:read:*/*", MisplacedWildcard),
            ("secrets:read:a/*/b", MisplacedWildcard),
            ("secrets:read:a/*/*", MisplacedWildcard),
            ("secrets:read:a*", MisplacedWildcard),
            ("secrets:read:a/b*", MisplacedWildcard),
        ];
        for (text, want) in cases {
            assert_eq!(Scope::parse(text).as_ref(), Err(want), "{text:?}");
        }
        // A colon in the pattern is just an invalid path character.
        assert!(matches!(
            Scope::parse("secrets:read:a:b"),
            Err(Path(PathError::InvalidCharacter { ch: ':', .. }))
        ));
        assert!(Scope::parse("secrets:read:a%2F*").is_err());
        assert!(Scope::parse(" secrets:read:a").is_err());
        assert!(Scope::parse("secrets:read:a ").is_err());
    }

    #[test]
    fn below_pattern_needs_room() {
        let fifteen = vec!["s"; 15].join("/");
        assert!(Scope::parse(&format!("secrets:read:{fifteen}/*")).is_ok());
        let sixteen = vec!["s"; 16].join("/");
        assert_eq!(
            Scope::parse(&format!("secrets:read:{sixteen}/*")),
            Err(ScopeError::NoRoomBelow)
        );
    }

    #[test]
    fn serde_is_the_string_form() {
        let scope = s("secrets:read:a/*");
        assert_eq!(
            serde_json::to_value(&scope).unwrap(),
            serde_json::json!("secrets:read:a/*")
        );
        let back: Vec<Scope> =
            serde_json::from_str(r#"["secrets:read:a/*","secrets:delete:*"]"#).unwrap();
        assert_eq!(back, vec![scope, s("secrets:delete:*")]);
        let err = serde_json::from_str::<Scope>(r#""secrets:read:a/../b""#).unwrap_err();
        assert!(err.to_string().contains("`..`"), "{err}");
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC{0,80}", tail in "[a-z*/.:]{0,20}") {
            let _ = Scope::parse(&text);
            let _ = Scope::parse(&format!("secrets:read:{tail}"));
        }

        #[test]
        fn display_parse_round_trip(sc in scope()) {
            prop_assert_eq!(Scope::parse(&sc.to_string()), Ok(sc));
        }
    }
}
