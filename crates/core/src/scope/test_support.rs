//! What the scope tests share: parsing shorthands and proptest strategies for paths,
//! patterns and scopes over a small alphabet.

use proptest::prelude::*;

use super::{Action, Pattern, Scope};
use crate::path::SecretPath;

pub(super) fn s(text: &str) -> Scope {
    Scope::parse(text).unwrap()
}

pub(super) fn p(text: &str) -> SecretPath {
    SecretPath::parse(text).unwrap()
}

pub(super) fn segment() -> impl Strategy<Value = String> {
    // A small alphabet so that generated scopes and paths overlap often.
    "[ab.]{1,2}".prop_filter("not a dot segment", |s| s != "." && s != "..")
}

pub(super) fn path() -> impl Strategy<Value = SecretPath> {
    proptest::collection::vec(segment(), 1..=4)
        .prop_map(|segs| SecretPath::parse(&segs.join("/")).unwrap())
}

pub(super) fn pattern() -> impl Strategy<Value = Pattern> {
    prop_oneof![
        Just(Pattern::Any),
        path().prop_map(Pattern::Exact),
        path().prop_map(Pattern::Below),
    ]
}

pub(super) fn scope() -> impl Strategy<Value = Scope> {
    (proptest::sample::select(Action::ALL.to_vec()), pattern()).prop_map(|(a, p)| Scope::new(a, p))
}
