//! What scopes reach: which paths a pattern matches, whether one scope is inside another
//! (the rule for issuing a token from a key), and which environments a set of scopes spans.

use std::collections::BTreeSet;

use super::{Action, Pattern, Scope};
use crate::path::SecretPath;

impl Pattern {
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

impl Scope {
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
    use crate::scope::test_support::{p, path, s, scope};
    use proptest::prelude::*;

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

    proptest! {
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
