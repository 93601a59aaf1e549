//! Secret paths: the names every scope check, approval and audit event refers to.
//!
//! A path is parsed once, at the edge, into a [`SecretPath`]; everything after that works
//! on the validated value, so no check can see a path in a different shape from the one
//! another check saw. The alphabet is deliberately tiny: with no `%`, `/` only as the
//! separator, and no `.`/`..` segments, there is no encoding or traversal trick left to
//! normalise away. The server decodes the URL exactly once and hands the result to
//! [`SecretPath::parse`]; `%2e%2e`, `%2F` or `%252F` arrive as `..` or as text containing
//! `%`, and both are refused.
//!
//! Listing uses a [`PathPrefix`], which selects everything *below* a folder, matching whole
//! segments: `prod/` never selects `production/x`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The most segments a path may have.
pub const MAX_SEGMENTS: usize = 16;
/// The longest a path may be, in bytes (every allowed character is one byte).
pub const MAX_BYTES: usize = 256;
/// One segment as a regex: the alphabet, but not `.` or `..` (dots then something else).
pub const SEGMENT_PATTERN: &str = r"(?:\.{0,2}[A-Za-z0-9_-][A-Za-z0-9._-]*|\.{3,}[A-Za-z0-9._-]*)";
/// The grammar as a regular expression, for the OpenAPI document and other languages (the
/// 256-byte limit is `maxLength` beside it). Tested against [`SecretPath::parse`].
pub const PATTERN: &str = r"^(?:\.{0,2}[A-Za-z0-9_-][A-Za-z0-9._-]*|\.{3,}[A-Za-z0-9._-]*)(?:/(?:\.{0,2}[A-Za-z0-9_-][A-Za-z0-9._-]*|\.{3,}[A-Za-z0-9._-]*)){0,15}$";

/// Why a path (or prefix) was refused. The messages go to API clients as they are.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the path is empty")]
    Empty,
    #[error("the path is {len} bytes long; at most {MAX_BYTES} are allowed")]
    TooLong { len: usize },
    #[error("the path has more than {MAX_SEGMENTS} segments")]
    TooManySegments,
    #[error("the path has an empty segment (a leading, trailing or doubled `/`)")]
    EmptySegment,
    #[error("`.` and `..` are not allowed as path segments")]
    DotSegment,
    #[error(
        "{ch:?} at byte {position} is not allowed; path segments use only A-Z, a-z, 0-9, `.`, `_` and `-`"
    )]
    InvalidCharacter { ch: char, position: usize },
}

fn is_segment_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')
}

/// Checks `s` as a whole path. Shared by paths and prefixes so the two can never disagree
/// about what a segment is.
fn validate(s: &str) -> Result<(), PathError> {
    if s.is_empty() {
        return Err(PathError::Empty);
    }
    // Length first: it bounds every later loop, whatever the input.
    if s.len() > MAX_BYTES {
        return Err(PathError::TooLong { len: s.len() });
    }
    let mut offset = 0;
    for (count, segment) in s.split('/').enumerate() {
        if count >= MAX_SEGMENTS {
            return Err(PathError::TooManySegments);
        }
        if segment.is_empty() {
            return Err(PathError::EmptySegment);
        }
        if let Some((i, ch)) = segment
            .char_indices()
            .find(|&(_, c)| !(c.is_ascii() && is_segment_byte(c as u8)))
        {
            return Err(PathError::InvalidCharacter {
                ch,
                position: offset + i,
            });
        }
        if segment == "." || segment == ".." {
            return Err(PathError::DotSegment);
        }
        offset += segment.len() + 1;
    }
    Ok(())
}

/// A validated secret path such as `production/stripe/STRIPE_SECRET_KEY`.
///
/// The only way to get one is [`SecretPath::parse`] (or deserialising, which calls it), so
/// holding one is proof the rules were checked.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecretPath(String);

impl SecretPath {
    pub fn parse(s: &str) -> Result<Self, PathError> {
        validate(s)?;
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn segments(&self) -> std::str::Split<'_, char> {
        self.0.split('/')
    }

    pub fn segment_count(&self) -> usize {
        self.segments().count()
    }

    /// The top-level folder, or the whole name for a path with one segment.
    pub fn first_segment(&self) -> &str {
        self.0.split('/').next().unwrap_or(&self.0)
    }

    /// The secret's own name, e.g. `STRIPE_SECRET_KEY`.
    pub fn last_segment(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The folder holding this secret, or `None` at the top level.
    pub fn parent(&self) -> Option<SecretPath> {
        self.0
            .rsplit_once('/')
            .map(|(parent, _)| Self(parent.to_owned()))
    }

    /// Whether this path lies strictly below `folder`, by whole segments: `a/b` is below
    /// `a`, but `ab/c` is not, and `a` is not below itself.
    pub fn is_below(&self, folder: &SecretPath) -> bool {
        self.0.len() > folder.0.len()
            && self.0.starts_with(&folder.0)
            && self.0.as_bytes().get(folder.0.len()) == Some(&b'/')
    }

    /// Whether a listing of `prefix` includes this path.
    pub fn starts_with_prefix(&self, prefix: &PathPrefix) -> bool {
        match &prefix.0 {
            None => true,
            Some(folder) => self.is_below(folder),
        }
    }
}

impl fmt::Display for SecretPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for SecretPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for SecretPath {
    type Err = PathError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for SecretPath {
    type Error = PathError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        validate(&s)?;
        Ok(Self(s))
    }
}

impl From<SecretPath> for String {
    fn from(p: SecretPath) -> Self {
        p.0
    }
}

impl Serialize for SecretPath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SecretPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::try_from(s).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for SecretPath {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
        utoipa::openapi::RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(
                    "1 to 16 segments of [A-Za-z0-9._-] separated by `/`, not `.` or `..`, at most 256 bytes. In a URL the segments stay separated by a literal `/` (an encoded `%2F` is refused).",
                ))
                .pattern(Some(PATTERN))
                .min_length(Some(1))
                .max_length(Some(MAX_BYTES))
                .examples(["production/stripe/STRIPE_SECRET_KEY"])
                .build(),
        ))
    }
}

impl utoipa::ToSchema for SecretPath {}

/// What a listing selects: everything below a folder, or everything (the empty prefix).
///
/// `production` and `production/` mean the same folder. Matching is by whole segments and
/// strictly below, like a `production/*` scope, so the secret named `production` itself
/// (if there is one) is not part of the listing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PathPrefix(Option<SecretPath>);

impl PathPrefix {
    /// Accepts `""` (everything), `production`, `production/` or `production/stripe/`; the
    /// folder part follows the same rules as a path.
    pub fn parse(s: &str) -> Result<Self, PathError> {
        if s.is_empty() {
            return Ok(Self(None));
        }
        let folder = s.strip_suffix('/').unwrap_or(s);
        SecretPath::parse(folder).map(|p| Self(Some(p)))
    }

    /// Everything: the prefix of a listing with no `?prefix=`.
    pub fn root() -> Self {
        Self(None)
    }

    pub fn folder(&self) -> Option<&SecretPath> {
        self.0.as_ref()
    }

    /// The normalised text: `""` for everything, otherwise the folder with one trailing
    /// `/`. A path is in the listing exactly when its text starts with this string, so a
    /// store can filter with a byte-prefix comparison (not SQL `LIKE`: `_` is a wildcard
    /// there and a legal path character here).
    pub fn as_string(&self) -> String {
        match &self.0 {
            None => String::new(),
            Some(folder) => format!("{folder}/"),
        }
    }
}

impl fmt::Display for PathPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_string())
    }
}

impl FromStr for PathPrefix {
    type Err = PathError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for PathPrefix {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_string())
    }
}

impl<'de> Deserialize<'de> for PathPrefix {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> SecretPath {
        SecretPath::parse(s).unwrap()
    }

    #[test]
    fn accepts_ordinary_paths() {
        for s in [
            "a",
            "production/stripe/STRIPE_SECRET_KEY",
            "dev/db.url",
            "a-b_c.d/E-F_G.H",
            "...",
            ".env",
            "..hidden",
            "v1.2.3",
            "_/-/x",
        ] {
            assert_eq!(p(s).as_str(), s);
        }
    }

    #[test]
    fn empty_is_refused() {
        assert_eq!(SecretPath::parse(""), Err(PathError::Empty));
    }

    #[test]
    fn empty_segments_are_refused() {
        for s in ["/", "/a", "a/", "a//b", "//", "a/b/", "/a/b"] {
            assert_eq!(SecretPath::parse(s), Err(PathError::EmptySegment), "{s}");
        }
    }

    #[test]
    fn dot_segments_are_refused() {
        for s in [".", "..", "a/..", "../a", "a/./b", "a/../b", "a/b/."] {
            assert_eq!(SecretPath::parse(s), Err(PathError::DotSegment), "{s}");
        }
    }

    #[test]
    fn encoded_and_foreign_characters_are_refused() {
        for (s, ch, position) in [
            ("%2e%2e/a", '%', 0),
            ("a%2Fb", '%', 1),
            ("a%252Fb", '%', 1),
            ("a\\b", '\\', 1),
            ("a/b c", ' ', 3),
            ("a\0b", '\0', 1),
            ("a\nb", '\n', 1),
            ("a\u{7f}", '\u{7f}', 1),
            ("prod/é", 'é', 5),
            ("a/b?c", '?', 3),
            ("a#b", '#', 1),
            ("a:b", ':', 1),
            ("a*", '*', 1),
            ("a/\u{2215}b", '\u{2215}', 2),
            ("ａ", 'ａ', 0),
        ] {
            assert_eq!(
                SecretPath::parse(s),
                Err(PathError::InvalidCharacter { ch, position }),
                "{s:?}"
            );
        }
    }

    #[test]
    fn segment_count_boundary() {
        let sixteen = vec!["s"; 16].join("/");
        assert_eq!(p(&sixteen).segment_count(), 16);
        let seventeen = vec!["s"; 17].join("/");
        assert_eq!(
            SecretPath::parse(&seventeen),
            Err(PathError::TooManySegments)
        );
    }

    #[test]
    fn length_boundary() {
        let max = "a".repeat(MAX_BYTES);
        assert!(SecretPath::parse(&max).is_ok());
        let over = "a".repeat(MAX_BYTES + 1);
        assert_eq!(
            SecretPath::parse(&over),
            Err(PathError::TooLong { len: 257 })
        );
        // Multi-byte characters count by bytes, and length is checked before anything else.
        let wide = "é".repeat(129);
        assert_eq!(
            SecretPath::parse(&wide),
            Err(PathError::TooLong { len: 258 })
        );
    }

    #[test]
    fn messages_say_what_is_wrong() {
        let m = |s: &str| SecretPath::parse(s).unwrap_err().to_string();
        assert!(m("a%2Fb").contains("'%'"));
        assert!(m("a%2Fb").contains("byte 1"));
        assert!(m("a//b").contains("empty segment"));
        assert!(m("a/..").contains("`..`"));
        assert!(m(&"a/".repeat(17)).contains("16 segments"));
        assert!(m(&"a".repeat(300)).contains("300 bytes"));
    }

    #[test]
    fn accessors() {
        let path = p("production/stripe/STRIPE_SECRET_KEY");
        assert_eq!(
            path.segments().collect::<Vec<_>>(),
            ["production", "stripe", "STRIPE_SECRET_KEY"]
        );
        assert_eq!(path.first_segment(), "production");
        assert_eq!(path.last_segment(), "STRIPE_SECRET_KEY");
        assert_eq!(path.parent(), Some(p("production/stripe")));
        assert_eq!(p("top").parent(), None);
        assert_eq!(p("top").first_segment(), "top");
        assert_eq!(p("top").last_segment(), "top");
        assert_eq!(path.to_string(), path.as_str());
    }

    #[test]
    fn below_is_by_whole_segments_and_strict() {
        assert!(p("a/b").is_below(&p("a")));
        assert!(p("a/b/c").is_below(&p("a")));
        assert!(p("a/b/c").is_below(&p("a/b")));
        assert!(!p("a").is_below(&p("a")));
        assert!(!p("ab/c").is_below(&p("a")));
        assert!(!p("a").is_below(&p("a/b")));
        assert!(!p("b/a").is_below(&p("a")));
    }

    #[test]
    fn prefixes() {
        let root = PathPrefix::parse("").unwrap();
        assert_eq!(root, PathPrefix::root());
        assert_eq!(root.as_string(), "");
        assert!(p("anything/at/all").starts_with_prefix(&root));

        let prod = PathPrefix::parse("production/").unwrap();
        assert_eq!(prod, PathPrefix::parse("production").unwrap());
        assert_eq!(prod.as_string(), "production/");
        assert_eq!(prod.folder(), Some(&p("production")));
        assert!(p("production/x").starts_with_prefix(&prod));
        assert!(p("production/x/y").starts_with_prefix(&prod));
        assert!(!p("production").starts_with_prefix(&prod));
        assert!(!p("productionx/y").starts_with_prefix(&prod));
        assert!(!p("prod/x").starts_with_prefix(&prod));

        let partial = PathPrefix::parse("prod").unwrap();
        assert!(!p("production/x").starts_with_prefix(&partial));

        for bad in [
            "/",
            "//",
            "production//",
            "a//b/",
            "../",
            "%2e/",
            "a/*",
            "/a/",
        ] {
            assert!(PathPrefix::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn serde_validates() {
        let path = p("a/b");
        assert_eq!(serde_json::to_string(&path).unwrap(), "\"a/b\"");
        let back: SecretPath = serde_json::from_str("\"a/b\"").unwrap();
        assert_eq!(back, path);
        let err = serde_json::from_str::<SecretPath>("\"a/../b\"").unwrap_err();
        assert!(err.to_string().contains("`..`"));
        let prefix: PathPrefix = serde_json::from_str("\"a\"").unwrap();
        assert_eq!(serde_json::to_string(&prefix).unwrap(), "\"a/\"");
    }

    fn segment() -> impl Strategy<Value = String> {
        "[A-Za-z0-9._-]{1,12}".prop_filter("not a dot segment", |s| s != "." && s != "..")
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,300}") {
            let _ = SecretPath::parse(&s);
            let _ = PathPrefix::parse(&s);
        }

        #[test]
        fn accepted_paths_round_trip_and_are_clean(s in "[A-Za-z0-9._/%-]{0,40}") {
            if let Ok(path) = SecretPath::parse(&s) {
                prop_assert_eq!(path.as_str(), s.as_str());
                let again = SecretPath::parse(path.as_str());
                prop_assert_eq!(again, Ok(path.clone()));
                prop_assert!(!path.as_str().contains('%'));
                prop_assert!((1..=MAX_SEGMENTS).contains(&path.segment_count()));
                for seg in path.segments() {
                    prop_assert!(!seg.is_empty());
                    prop_assert!(seg != "." && seg != "..");
                }
            }
        }

        #[test]
        fn well_formed_paths_are_accepted(segs in proptest::collection::vec(segment(), 1..=16)) {
            let s = segs.join("/");
            prop_assume!(s.len() <= MAX_BYTES);
            let path = SecretPath::parse(&s).unwrap();
            prop_assert_eq!(path.segments().collect::<Vec<_>>(), segs.iter().map(String::as_str).collect::<Vec<_>>());
            prop_assert_eq!(path.last_segment(), segs[segs.len() - 1].as_str());
            if let Some(parent) = path.parent() {
                prop_assert!(path.is_below(&parent));
            }
        }
    }
}
