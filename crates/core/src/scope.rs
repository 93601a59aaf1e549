//! Scopes: what an agent key or scoped token may do, and to which secrets.
//!
//! Grammar: `secrets:<read|write|delete>:<pattern>`, where the pattern is an exact path
//! (`production/stripe/KEY`), a folder followed by `/*` (every path strictly below the
//! folder, not the folder itself), or `*` (every path). Nothing else: no `*` inside a
//! segment, no `**`, no trailing `/`. Keeping the pattern language this small is what makes
//! [`Scope::is_subset_of`] exact set inclusion rather than a heuristic, and a token can
//! never be issued with more than its key holds.
//!
//! Actions are independent: `write` does not imply `read`.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::path::{PathError, SecretPath};

/// The grammar as a regular expression, for the OpenAPI document and other languages.
/// The path rules themselves (no `.`/`..`, at most 256 bytes) are checked on top.
pub const PATTERN: &str =
    r"^secrets:(read|write|delete):(\*|[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+){0,15}(/\*)?)$";

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

    pub fn matches(&self, path: &SecretPath) -> bool {
        match self {
            Self::Any => true,
            Self::Exact(p) => p == path,
            Self::Below(folder) => path.is_below(folder),
        }
    }

    /// Whether every path this pattern matches is matched by `wider` too (set inclusion).
    pub fn is_covered_by(&self, wider: &Pattern) -> bool {
        match (self, wider) {
            (_, Self::Any) => true,
            (Self::Any, _) => false,
            (Self::Exact(p), Self::Exact(q)) => p == q,
            // A folder pattern matches unboundedly many names; one path never covers it.
            (Self::Below(_), Self::Exact(_)) => false,
            (Self::Exact(p), Self::Below(f)) => p.is_below(f),
            (Self::Below(g), Self::Below(f)) => g == f || g.is_below(f),
        }
    }

    /// The top-level folder the pattern reaches into; `None` for `*`, which reaches all of
    /// them. A secret at the top level (`STRIPE_KEY`) belongs to the root, reported as `""`.
    pub fn environment(&self) -> Option<&str> {
        match self {
            Self::Any => None,
            Self::Below(folder) => Some(folder.first_segment()),
            Self::Exact(p) if p.segment_count() == 1 => Some(""),
            Self::Exact(p) => Some(p.first_segment()),
        }
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

    pub fn allows(&self, action: Action, path: &SecretPath) -> bool {
        self.action == action && self.pattern.matches(path)
    }

    /// Whether everything this scope permits is permitted by `held` as well.
    pub fn is_subset_of(&self, held: &Scope) -> bool {
        self.action == held.action && self.pattern.is_covered_by(&held.pattern)
    }

    /// The pattern is `*`: the scope reaches every secret of the tenant.
    pub fn is_wildcard(&self) -> bool {
        self.pattern == Pattern::Any
    }

    /// See [`Pattern::environment`].
    pub fn environment(&self) -> Option<&str> {
        self.pattern.environment()
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
                .examples(["secrets:read:production/stripe/*"])
                .build(),
        ))
    }
}

impl utoipa::ToSchema for Scope {}

/// Whether every requested scope is covered by some held scope: the rule for issuing a
/// token from a key. An empty request is trivially covered; refusing empty scope lists is
/// the caller's policy, not a subset question.
pub fn scopes_subset(requested: &[Scope], held: &[Scope]) -> bool {
    requested
        .iter()
        .all(|r| held.iter().any(|h| r.is_subset_of(h)))
}

/// Whether any of `scopes` allows `action` on `path`.
pub fn any_allows(scopes: &[Scope], action: Action, path: &SecretPath) -> bool {
    scopes.iter().any(|s| s.allows(action, path))
}

/// The top-level folders a set of scopes reaches (`""` for the root). `None` when one of
/// them is `*`, which reaches every environment.
pub fn environments(scopes: &[Scope]) -> Option<BTreeSet<&str>> {
    scopes.iter().map(Scope::environment).collect()
}

/// Whether a key's scopes span more than one environment (or all of them, via `*`), which
/// the security score flags: one leaked key should not open production *and* staging.
pub fn is_cross_environment(scopes: &[Scope]) -> bool {
    environments(scopes).is_none_or(|envs| envs.len() > 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s(text: &str) -> Scope {
        Scope::parse(text).unwrap()
    }

    fn p(text: &str) -> SecretPath {
        SecretPath::parse(text).unwrap()
    }

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
    fn allows() {
        let exact = s("secrets:read:production/stripe/KEY");
        assert!(exact.allows(Action::Read, &p("production/stripe/KEY")));
        assert!(!exact.allows(Action::Write, &p("production/stripe/KEY")));
        assert!(!exact.allows(Action::Read, &p("production/stripe/KEY2")));
        assert!(!exact.allows(Action::Read, &p("production/stripe")));
        assert!(!exact.allows(Action::Read, &p("production/stripe/KEY/x")));

        let below = s("secrets:read:production/*");
        assert!(below.allows(Action::Read, &p("production/a")));
        assert!(below.allows(Action::Read, &p("production/a/b/c")));
        assert!(!below.allows(Action::Read, &p("production")));
        assert!(!below.allows(Action::Read, &p("productionx/a")));
        assert!(!below.allows(Action::Read, &p("staging/a")));
        assert!(!below.allows(Action::Delete, &p("production/a")));

        let any = s("secrets:write:*");
        assert!(any.allows(Action::Write, &p("x")));
        assert!(any.allows(Action::Write, &p("a/b/c")));
        assert!(!any.allows(Action::Read, &p("x")));

        let scopes = [exact, below];
        assert!(any_allows(&scopes, Action::Read, &p("production/z")));
        assert!(!any_allows(&scopes, Action::Write, &p("production/z")));
    }

    #[test]
    fn subset_rules() {
        let yes = |a: &str, b: &str| assert!(s(a).is_subset_of(&s(b)), "{a} ⊆ {b}");
        let no = |a: &str, b: &str| assert!(!s(a).is_subset_of(&s(b)), "{a} ⊄ {b}");
        yes("secrets:read:a/b", "secrets:read:a/b");
        yes("secrets:read:a/b", "secrets:read:a/*");
        yes("secrets:read:a/b/c", "secrets:read:a/*");
        yes("secrets:read:a/b/*", "secrets:read:a/*");
        yes("secrets:read:a/*", "secrets:read:a/*");
        yes("secrets:read:a/b", "secrets:read:*");
        yes("secrets:read:a/*", "secrets:read:*");
        yes("secrets:read:*", "secrets:read:*");

        no("secrets:write:a/b", "secrets:read:a/b");
        no("secrets:read:a/b", "secrets:write:*");
        no("secrets:read:a", "secrets:read:a/*");
        no("secrets:read:a/*", "secrets:read:a/b/*");
        no("secrets:read:a/*", "secrets:read:a");
        no("secrets:read:ab/c", "secrets:read:a/*");
        no("secrets:read:*", "secrets:read:a/*");
        no("secrets:read:*", "secrets:read:a");
        no("secrets:read:a/b", "secrets:read:a/c");
        no("secrets:read:b/*", "secrets:read:a/*");
    }

    #[test]
    fn scopes_subset_needs_every_requested_scope_covered() {
        let held = [s("secrets:read:production/*"), s("secrets:write:staging/x")];
        assert!(scopes_subset(&[], &held));
        assert!(scopes_subset(&[s("secrets:read:production/a")], &held));
        assert!(scopes_subset(
            &[s("secrets:read:production/a"), s("secrets:write:staging/x")],
            &held
        ));
        assert!(!scopes_subset(
            &[s("secrets:read:production/a"), s("secrets:write:staging/y")],
            &held
        ));
        assert!(!scopes_subset(&[s("secrets:read:*")], &held));
        assert!(!scopes_subset(&[s("secrets:read:production/a")], &[]));
    }

    #[test]
    fn wildcard_and_environments() {
        assert!(s("secrets:read:*").is_wildcard());
        assert!(!s("secrets:read:a/*").is_wildcard());
        assert_eq!(s("secrets:read:*").environment(), None);
        assert_eq!(s("secrets:read:prod/a/*").environment(), Some("prod"));
        assert_eq!(s("secrets:read:prod/a").environment(), Some("prod"));
        assert_eq!(s("secrets:read:TOP").environment(), Some(""));

        assert!(!is_cross_environment(&[]));
        assert!(!is_cross_environment(&[
            s("secrets:read:prod/a"),
            s("secrets:write:prod/b/*"),
        ]));
        assert!(is_cross_environment(&[
            s("secrets:read:prod/a"),
            s("secrets:read:staging/a"),
        ]));
        assert!(is_cross_environment(&[s("secrets:read:*")]));
        assert!(is_cross_environment(&[
            s("secrets:read:prod/*"),
            s("secrets:read:TOP"),
        ]));
        assert!(!is_cross_environment(&[
            s("secrets:read:A"),
            s("secrets:read:B"),
        ]));
        assert_eq!(
            environments(&[s("secrets:read:prod/a"), s("secrets:read:dev/*")]),
            Some(BTreeSet::from(["dev", "prod"]))
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

    fn segment() -> impl Strategy<Value = String> {
        // A small alphabet so that generated scopes and paths overlap often.
        "[ab.]{1,2}".prop_filter("not a dot segment", |s| s != "." && s != "..")
    }

    fn path() -> impl Strategy<Value = SecretPath> {
        proptest::collection::vec(segment(), 1..=4)
            .prop_map(|segs| SecretPath::parse(&segs.join("/")).unwrap())
    }

    fn pattern() -> impl Strategy<Value = Pattern> {
        prop_oneof![
            Just(Pattern::Any),
            path().prop_map(Pattern::Exact),
            path().prop_map(Pattern::Below),
        ]
    }

    fn scope() -> impl Strategy<Value = Scope> {
        (proptest::sample::select(Action::ALL.to_vec()), pattern())
            .prop_map(|(a, p)| Scope::new(a, p))
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

        #[test]
        fn subset_is_reflexive(sc in scope()) {
            prop_assert!(sc.is_subset_of(&sc));
            prop_assert!(scopes_subset(std::slice::from_ref(&sc), std::slice::from_ref(&sc)));
        }

        #[test]
        fn subset_is_transitive(a in scope(), b in scope(), c in scope()) {
            if a.is_subset_of(&b) && b.is_subset_of(&c) {
                prop_assert!(a.is_subset_of(&c));
            }
        }

        /// The property that makes token issuance safe: whatever the narrower scope allows,
        /// the wider one allows too.
        #[test]
        fn a_subset_never_allows_more(narrow in scope(), wide in scope(), target in path(), action in proptest::sample::select(Action::ALL.to_vec())) {
            if narrow.is_subset_of(&wide) && narrow.allows(action, &target) {
                prop_assert!(wide.allows(action, &target));
            }
        }

        /// And the converse, so the subset check is not merely safe but exact: if the
        /// narrower one is *not* a subset, some path shows the difference.
        #[test]
        fn not_subset_has_a_witness(narrow in scope(), wide in scope()) {
            if !narrow.is_subset_of(&wide) {
                let witness = match &narrow.pattern {
                    Pattern::Exact(p) => p.clone(),
                    // A name no generated pattern uses, below the folder or at the top.
                    Pattern::Below(f) => SecretPath::parse(&format!("{f}/zz")).unwrap(),
                    Pattern::Any => SecretPath::parse("zz").unwrap(),
                };
                prop_assert!(narrow.allows(narrow.action, &witness));
                prop_assert!(!wide.allows(narrow.action, &witness));
            }
        }
    }
}
