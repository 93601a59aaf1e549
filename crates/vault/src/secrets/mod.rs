//! Secrets: path parsing at the edge, permission checks, envelope encryption, versions,
//! metadata, and KEK rotation.
//!
//! Who may do what (docs/permissions.md): a signed-in member of the tenant may read, write
//! and delete the tenant's secrets whatever their role; an agent key or scoped token only
//! what its scopes allow (a token: its own scopes and its key's). Over that sits the
//! approval gate (`crate::approvals`), for every caller alike: reading or deleting a
//! `sensitive` or `critical` secret, lowering its tier, and an agent's write to a
//! `critical` one need a grant for exactly that operation on exactly that secret. Without
//! one the call opens (or reuses) a request and gets 403 `approval_required`; with one,
//! the grant is spent in the same transaction as the action and its audit event. A person
//! writing a tiered secret needs the sudo window.
//!
//! `read` opens values, `write` writes and deletes them, `metadata` answers what exists
//! without opening anything; the checks they share (scopes, token uses, the approval
//! gate) are here.

mod metadata;
mod read;
mod write;

pub use metadata::{list, metadata};
pub use read::read;
pub use write::{delete, write};

use keyhold_core::api::KekRotated;
use keyhold_core::path::SecretPath;
use keyhold_core::scope::Action;

use crate::Vault;
use crate::agent_keys::agent_allows;
use crate::approvals::{self, Ask};
use crate::audit::{ClientInfo, NewEvent, Outcome};
use crate::auth::SecretsCaller;
use crate::envelope::Envelope;
use crate::error::{Error, Result};
use crate::tokens;

pub(super) const NOT_IN_SCOPE: &str = "Your scopes do not allow this on this secret.";
pub(super) const AGENT_TIER: &str =
    "Agents cannot change a secret's tier; ask a member of the tenant.";

/// The secret path of a request, from the raw (still encoded) URI path after the route's
/// fixed part. Decoded exactly once, segment by segment (`percent-encoding`), and then
/// validated: an encoded `/` cannot create a segment boundary, `%2e%2e` becomes `..` and
/// is refused, a double encoding leaves a `%` behind and is refused, and so does an
/// escape that is not two hex digits (left as it was, `%` and all). No scope is matched
/// before this.
pub fn parse_raw_path(raw: &str) -> Result<SecretPath> {
    let mut segments = Vec::new();
    for seg in raw.split('/') {
        let text = percent_encoding::percent_decode_str(seg)
            .decode_utf8()
            .map_err(|_| Error::invalid("The path is not valid UTF-8 once decoded."))?;
        if text.contains('/') {
            return Err(Error::invalid(
                "An encoded `/` (%2F) is not allowed in a path; use a plain `/` between segments.",
            ));
        }
        segments.push(text.into_owned());
    }
    SecretPath::parse(&segments.join("/"))
        .map_err(|e| Error::invalid(format!("Invalid secret path: {e}.")))
}

pub(super) fn tenant_of(c: &SecretsCaller) -> &str {
    match c {
        SecretsCaller::Session(s) => s.tenant_id(),
        SecretsCaller::Key(k) => &k.key.tenant_id,
        SecretsCaller::Token(t) => &t.token.tenant_id,
    }
}

/// Sessions: every role may read, write and delete (docs/permissions.md). Agents: scopes.
pub(super) fn permits(c: &SecretsCaller, action: Action, path: &SecretPath) -> bool {
    match c {
        SecretsCaller::Session(_) => true,
        SecretsCaller::Key(k) => agent_allows(&k.key, None, action, path),
        SecretsCaller::Token(t) => agent_allows(&t.key, Some(&t.token), action, path),
    }
}

pub(super) fn actor_ref(c: &SecretsCaller) -> String {
    match c {
        SecretsCaller::Session(s) => format!("user:{}", s.user.id),
        SecretsCaller::Key(k) => format!("agent_key:{}", k.key.id),
        SecretsCaller::Token(t) => format!("token:{}", t.token.id),
    }
}

pub(super) fn event(
    c: &SecretsCaller,
    action: &'static str,
    now: chrono::DateTime<chrono::Utc>,
    client: &ClientInfo,
    path: &SecretPath,
) -> NewEvent {
    approvals::caller_event(c, action, now, client).target(format!("secret:{path}"))
}

/// Spend one use of a `max_uses` token. Only answers that deliver something spend one:
/// an `approval_required` answer or an approval-status poll leaves the count alone.
pub(super) async fn spend_use(
    st: &Vault,
    c: &SecretsCaller,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    if let SecretsCaller::Token(t) = c
        && t.token.max_uses.is_some()
        && !st
            .store
            .use_token(&t.token.tenant_id, &t.token.id, now)
            .await?
    {
        return Err(Error::Unauthenticated(tokens::BAD_TOKEN));
    }
    Ok(())
}

/// The usable grant of `c` for `ask`, or the request opened (or found) for it and the
/// audited 403 `approval_required` with its id.
pub(super) async fn grant_for(
    st: &Vault,
    c: &SecretsCaller,
    ask: Ask<'_>,
    denied: NewEvent,
    client: &ClientInfo,
) -> Result<String> {
    let now = st.clock.now();
    let r = approvals::open_request(st, c, ask, None, client).await?;
    if approvals::usable(&r, now) {
        return Ok(r.id);
    }
    st.store
        .append_event(
            denied
                .outcome(Outcome::Denied)
                .detail("reason", "approval_required")
                .detail("tier", ask.secret.tier.as_str())
                .detail("operation", ask.operation.as_str())
                .detail("approval_id", r.id.clone())
                .detail("status", r.status.as_str()),
        )
        .await?;
    Err(approvals::refusal(st, c, &r).await?)
}

/// `POST /v1/admin/kek/rotate` for the caller's tenant (owners and admins).
pub async fn rotate_kek(
    st: &Vault,
    s: &crate::auth::SudoSession,
    client: &ClientInfo,
) -> Result<KekRotated> {
    let now = st.clock.now();
    let base = NewEvent::new("kek.rotated", now, client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("tenant:{}", s.tenant_id()));
    if !s.user.role.is_admin() {
        st.store
            .append_event(base.outcome(Outcome::Denied).detail("reason", "role"))
            .await?;
        return Err(Error::Forbidden(
            "Only owners and admins can rotate the tenant key.",
        ));
    }
    match Envelope::of(st)
        .rotate(s.tenant_id(), now, base.clone())
        .await
    {
        Ok(r) => Ok(r),
        Err(e) => {
            st.store
                .append_event(
                    base.outcome(Outcome::Failure)
                        .detail("reason", "rewrap_failed"),
                )
                .await?;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_raw_path;

    #[test]
    fn raw_paths_are_decoded_once_and_validated() {
        assert_eq!(parse_raw_path("prod/%4B").unwrap().as_str(), "prod/K");
        for bad in [
            "prod/%2e%2e/K",
            "prod%2FK",
            "prod/%252e",
            "prod/%+4B",
            "prod/%4",
            "prod/%zz",
            "prod/K%00",
            "prod/%ff",
        ] {
            assert!(parse_raw_path(bad).is_err(), "{bad} was accepted");
        }
    }
}
