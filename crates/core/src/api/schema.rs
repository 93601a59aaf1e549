//! The limits the server enforces on request values, and their OpenAPI schemas built from
//! the same constants, so the document (`/openapi.json`) cannot say one thing while the
//! validation does another. Fields use them with `#[schema(schema_with = …)]`, query and
//! path parameters with `("limit" = Option<PageLimit>, Query)` and the like.

use utoipa::openapi::schema::{
    ArrayBuilder, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{KnownFormat, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::duration;

/// Scopes on one agent key or token.
pub const MAX_SCOPES: usize = 50;
/// Entries of one IP allowlist.
pub const MAX_ALLOWLIST: usize = 50;
/// Uses a token may be issued for.
pub const MAX_USES: u32 = 1_000_000;
/// An agent key's or a person's display name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// The reason of an approval request or denial, and an approval's comment.
pub const MAX_REASON_CHARS: usize = 500;
/// A webhook endpoint's description.
pub const MAX_DESCRIPTION_CHARS: usize = 200;
/// How long an agent key's old secret may keep working after a rotation (seconds).
pub const MAX_ROTATION_OVERLAP: i64 = 7 * 86_400;
/// The overlap of a rotation that names none.
pub const DEFAULT_ROTATION_OVERLAP: &str = "1h";

/// Whole numbers in request bodies. JSON (and so JSON Schema) does not tell `3` from
/// `3.0`; a client or generator may send either, so both are read as the integer.
pub mod whole {
    use serde::{Deserialize, Deserializer, de::Error};

    fn to_u32<E: Error>(n: &serde_json::Number) -> Result<u32, E> {
        let v = match (n.as_u64(), n.as_f64()) {
            (Some(v), _) => Some(v),
            (None, Some(f)) if f.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&f) => {
                // Whole and in range, so the cast is exact.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                Some(f as u64)
            }
            _ => None,
        };
        v.and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| E::custom(format!("expected a whole number from 0 to {}", u32::MAX)))
    }

    pub fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        to_u32(&serde_json::Number::deserialize(d)?)
    }

    pub fn opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        Option::<serde_json::Number>::deserialize(d)?
            .map(|n| to_u32(&n))
            .transpose()
    }
}

/// Tenant settings: the bounds `PUT /v1/tenant/settings` checks (seconds).
pub mod settings {
    /// Approvals a sensitive secret needs, and a critical one.
    pub const SENSITIVE: std::ops::RangeInclusive<u32> = 1..=5;
    pub const CRITICAL: std::ops::RangeInclusive<u32> = 2..=5;
    pub const MAX_CRITICAL_DELAY: i64 = 24 * 3600;
    pub const MIN_REQUEST_TTL: i64 = 5 * 60;
    pub const MAX_REQUEST_TTL: i64 = 7 * 86_400;
    pub const MIN_GRANT_TTL: i64 = 60;
    pub const MAX_GRANT_TTL: i64 = 24 * 3600;
    pub const MIN_MAX_TOKEN_TTL: i64 = 60;
    pub const MAX_MAX_TOKEN_TTL: i64 = 30 * 86_400;
}

/// Unicode `White_Space`, which `str::trim` removes from both ends.
const WS: &str = r"\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
/// Unicode `Cc`, which `char::is_control` refuses.
const CC: &str = r"\x00-\x1F\x7F-\x9F";

/// The pattern of [`crate::email::clean_text`]: 1 to `max` characters once white space
/// is trimmed from both ends, none of them a control character. The length is in the
/// pattern (not `maxLength`) because it counts the trimmed text.
pub fn text_pattern(max: usize) -> String {
    format!(
        "^[{WS}]*[^{WS}{CC}](?:[^{CC}]{{0,{}}}[^{WS}{CC}])?[{WS}]*$",
        max.saturating_sub(2)
    )
}

fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
}

fn text(max: usize, what: &str) -> RefOr<Schema> {
    string(&format!(
        "{what}: 1 to {max} characters once trimmed, no control characters."
    ))
    .pattern(Some(text_pattern(max)))
    .into()
}

/// A name (agent key, display name).
pub fn name() -> RefOr<Schema> {
    text(MAX_NAME_CHARS, "A name")
}

/// An approval request's or denial's reason, or an approval's comment.
pub fn reason() -> RefOr<Schema> {
    text(MAX_REASON_CHARS, "Why")
}

/// A webhook endpoint's description; empty means none.
pub fn description() -> RefOr<Schema> {
    string(&format!(
        "Empty, or 1 to {MAX_DESCRIPTION_CHARS} characters once trimmed, no control characters."
    ))
    .pattern(Some(format!("^$|{}", text_pattern(MAX_DESCRIPTION_CHARS))))
    .into()
}

/// The schema, with `null` also allowed (an optional field that may be sent as `null`).
fn or_null(schema: RefOr<Schema>) -> RefOr<Schema> {
    match schema {
        RefOr::T(Schema::Object(mut o)) => {
            if let SchemaType::Type(t) = o.schema_type {
                o.schema_type = SchemaType::from_iter([t, Type::Null]);
            }
            RefOr::T(Schema::Object(o))
        }
        RefOr::T(Schema::Array(mut a)) => {
            a.schema_type = SchemaType::from_iter([Type::Array, Type::Null]);
            RefOr::T(Schema::Array(a))
        }
        other => other,
    }
}

pub fn name_or_null() -> RefOr<Schema> {
    or_null(name())
}

pub fn reason_or_null() -> RefOr<Schema> {
    or_null(reason())
}

pub fn description_or_null() -> RefOr<Schema> {
    or_null(description())
}

pub fn key_lifetime_or_null() -> RefOr<Schema> {
    or_null(key_lifetime())
}

pub fn token_ttl_or_null() -> RefOr<Schema> {
    or_null(token_ttl())
}

pub fn ip_allowlist_or_null() -> RefOr<Schema> {
    or_null(ip_allowlist())
}

pub fn max_uses_or_null() -> RefOr<Schema> {
    or_null(max_uses())
}

pub fn totp_code_or_null() -> RefOr<Schema> {
    or_null(totp_code())
}

pub fn mfa_code_or_null() -> RefOr<Schema> {
    or_null(mfa_code())
}

/// An email address as [`crate::email::Email::parse`] takes it (printable ASCII here):
/// a local part of 1 to 64 characters, `@`, and a domain of at least two dot-separated
/// labels, none starting or ending with `-`; at most 254 characters.
pub fn email() -> RefOr<Schema> {
    let local = "[!-?A-~]";
    let edge = "[!-,/-?A-~]";
    let inner = r"[!-\-/-?A-~]";
    let label = format!("{edge}(?:{inner}*{edge})?");
    string("An email address.")
        .pattern(Some(format!(
            "^[{WS}]*{local}{{1,64}}@{label}(?:\\.{label})+[{WS}]*$"
        )))
        .max_length(Some(254))
        .examples(["ada@example.com"])
        .into()
}

fn duration_schema(min: i64, max: i64, zero: bool, what: &str) -> RefOr<Schema> {
    let mut pattern = duration::pattern(min, max);
    if zero {
        // `0`, `0s`, `0m` and `0h` mean none (tenant settings only).
        pattern = format!("^(?:0[smh]?)$|{pattern}");
    }
    string(&format!(
        "{what}: a whole number and a unit (`s`, `m`, `h`, `d`) without leading zeros, \
         from {} to {}.",
        if zero {
            "0s".to_owned()
        } else {
            duration::format(chrono::Duration::seconds(min))
        },
        duration::format(chrono::Duration::seconds(max))
    ))
    .pattern(Some(pattern))
    .examples(["1h"])
    .into()
}

/// An agent key's `expires_in`: any duration the grammar takes.
pub fn key_lifetime() -> RefOr<Schema> {
    duration_schema(1, duration::MAX_SECONDS, false, "Lifetime")
}

/// A key rotation's `overlap`: `0s` (the old key is revoked at once) to 7 days.
pub fn rotation_overlap() -> RefOr<Schema> {
    duration_schema(
        1,
        MAX_ROTATION_OVERLAP,
        true,
        "How long the old key keeps working",
    )
}

pub fn rotation_overlap_or_null() -> RefOr<Schema> {
    or_null(rotation_overlap())
}

/// A token's `ttl`, bounded by the tenant's `max_token_ttl` (at most its own ceiling).
pub fn token_ttl() -> RefOr<Schema> {
    duration_schema(
        1,
        settings::MAX_MAX_TOKEN_TTL,
        false,
        "Lifetime, at most the tenant's `max_token_ttl` (24h unless changed; 422 beyond it)",
    )
}

pub fn critical_delay() -> RefOr<Schema> {
    duration_schema(1, settings::MAX_CRITICAL_DELAY, true, "Delay")
}

pub fn request_ttl() -> RefOr<Schema> {
    duration_schema(
        settings::MIN_REQUEST_TTL,
        settings::MAX_REQUEST_TTL,
        false,
        "How long a request stays open",
    )
}

pub fn grant_ttl() -> RefOr<Schema> {
    duration_schema(
        settings::MIN_GRANT_TTL,
        settings::MAX_GRANT_TTL,
        false,
        "How long an approval stays usable",
    )
}

pub fn max_token_ttl() -> RefOr<Schema> {
    duration_schema(
        settings::MIN_MAX_TOKEN_TTL,
        settings::MAX_MAX_TOKEN_TTL,
        false,
        "The longest token lifetime",
    )
}

/// An alert rule's `window`: 1 minute to 1 day (the audit chain's check interval: from 5
/// minutes, 422 below).
pub fn alert_window() -> RefOr<Schema> {
    duration_schema(60, 86_400, false, "Window")
}

/// How long an alert rule's address block lasts: 1 minute to 30 days.
pub fn block_for_or_null() -> RefOr<Schema> {
    or_null(duration_schema(60, 30 * 86_400, false, "Block length"))
}

/// An IPv4 address, no leading zeros (as Rust's parser takes them).
const IPV4: &str = r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const H: &str = "[0-9A-Fa-f]{1,4}";

/// An IPv6 address in any of its RFC 4291 text forms (no zone, no embedded IPv4).
fn ipv6() -> String {
    let full = format!("(?:{H}:){{7}}{H}");
    // `::` replacing one or more groups: n groups before it, up to 7 - n - 1 after.
    let mut forms = vec![full];
    for before in 0..=7 {
        let after_max = 7 - before;
        let head = if before == 0 {
            String::new()
        } else {
            format!("(?:{H}:){{{}}}{H}", before - 1)
        };
        let tail = if after_max == 0 {
            String::new()
        } else {
            format!("(?:{H}(?::{H}){{0,{}}})?", after_max - 1)
        };
        forms.push(format!("{head}::{tail}"));
    }
    format!("(?:{})", forms.join("|"))
}

/// One IP allowlist entry: an address or a CIDR (`10.0.0.0/8`, `2001:db8::/32`).
pub fn ip_network() -> RefOr<Schema> {
    let pattern = format!(
        "^(?:{IPV4}(?:/(?:3[0-2]|[12]?[0-9]))?|{}(?:/(?:12[0-8]|1[01][0-9]|[1-9]?[0-9]))?)$",
        ipv6()
    );
    string("An IPv4 or IPv6 address, or a CIDR such as 10.0.0.0/8.")
        .pattern(Some(pattern))
        .into()
}

/// An IP allowlist: empty or absent means anywhere.
pub fn ip_allowlist() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(ip_network())
        .max_items(Some(MAX_ALLOWLIST))
        .into()
}

/// A webhook's event filter: event types (`approval.requested`), families (`approval.*`)
/// or `*`; docs/webhooks.md lists the types (an unknown one is refused with 422).
pub fn event_filter() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(
            string("An event type, a family such as `approval.*`, or `*`.")
                .pattern(Some(r"^(?:\*|[a-z]+\.(?:\*|[a-z_]+))$")),
        )
        .into()
}

pub fn event_filter_or_null() -> RefOr<Schema> {
    or_null(event_filter())
}

/// A list of scopes, 1 to [`MAX_SCOPES`].
pub fn scopes() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(crate::scope::Scope::schema())
        .min_items(Some(1))
        .max_items(Some(MAX_SCOPES))
        .into()
}

/// A token's use count.
pub fn max_uses() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
        .minimum(Some(1))
        .maximum(Some(MAX_USES))
        .into()
}

/// The six digits of an authenticator app (RFC 6238).
pub fn totp_code() -> RefOr<Schema> {
    string("The 6-digit code from the authenticator app.")
        .pattern(Some(format!("^[0-9]{{{}}}$", crate::totp::DIGITS)))
        .into()
}

/// A TOTP code, or a backup code (its 12 characters, `-` and spaces ignored, any case).
pub fn mfa_code() -> RefOr<Schema> {
    let alphabet = std::str::from_utf8(crate::backup_codes::ALPHABET).unwrap_or_default();
    let upper = alphabet.to_ascii_uppercase();
    let c = format!("[{alphabet}{upper}]");
    string("The 6-digit code from the authenticator app, or a backup code (xxxx-xxxx-xxxx).")
        .pattern(Some(format!(
            "^(?:[0-9]{{{}}}|[- ]*(?:{c}[- ]*){{{}}})$",
            crate::totp::DIGITS,
            crate::backup_codes::LEN
        )))
        .max_length(Some(4 * crate::backup_codes::LEN))
        .into()
}

/// A new password: the length rules; the strength rule (zxcvbn) is checked on top (422).
pub fn new_password() -> RefOr<Schema> {
    string("15 to 128 characters, and not easy to guess (422 with the reasons otherwise).")
        .min_length(Some(crate::password::MIN_CHARS))
        .max_length(Some(crate::password::MAX_CHARS))
        .into()
}

/// An RFC 3339 timestamp.
pub fn timestamp() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .into()
}

/// `limit` of every listing: 1 to [`super::MAX_PAGE_LIMIT`], default
/// [`super::DEFAULT_PAGE_LIMIT`].
pub struct PageLimit;

impl PartialSchema for PageLimit {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
            .minimum(Some(1))
            .maximum(Some(super::MAX_PAGE_LIMIT))
            .default(Some(super::DEFAULT_PAGE_LIMIT.into()))
            .into()
    }
}

impl ToSchema for PageLimit {}

/// `cursor` of every listing: the `next_cursor` of the previous page, as it came.
pub struct Cursor;

impl PartialSchema for Cursor {
    fn schema() -> RefOr<Schema> {
        string(
            "The previous page's `next_cursor`, unchanged. Opaque: one the server did not \
             make for this listing is refused with 400.",
        )
        .pattern(Some("^[A-Za-z0-9_-]+$"))
        .into()
    }
}

impl ToSchema for Cursor {}

/// `prefix` of `GET /v1/metadata`: empty (everything) or a folder, with or without a
/// trailing `/`.
pub struct PathPrefix;

impl PartialSchema for PathPrefix {
    fn schema() -> RefOr<Schema> {
        let inner = crate::path::PATTERN
            .trim_start_matches('^')
            .trim_end_matches('$');
        string("A folder such as `production/stripe` (a trailing `/` is the same); empty: all.")
            .pattern(Some(format!("^$|^{inner}/?$")))
            .max_length(Some(crate::path::MAX_BYTES + 1))
            .into()
    }
}

impl ToSchema for PathPrefix {}

/// `format` of `GET /v1/audit/export`: `json` (JSON lines, the default) or `csv`.
pub struct ExportFormat;

impl PartialSchema for ExportFormat {
    fn schema() -> RefOr<Schema> {
        string("`json` (JSON lines, the default) or `csv`.")
            .enum_values(Some(["json", "csv"]))
            .into()
    }
}

impl ToSchema for ExportFormat {}

/// `status` of `GET /v1/alerts`: `open` (unacknowledged, the default), `acknowledged`
/// or `all`.
pub struct AlertStatusFilter;

impl PartialSchema for AlertStatusFilter {
    fn schema() -> RefOr<Schema> {
        string("`open` (unacknowledged, the default), `acknowledged` or `all`.")
            .enum_values(Some(["open", "acknowledged", "all"]))
            .into()
    }
}

impl ToSchema for AlertStatusFilter {}
