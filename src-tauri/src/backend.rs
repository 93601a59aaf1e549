//! The one place the app talks to the server, through keyhold-client. Each function is a
//! thin call plus a mapping into the web view's types. Where the client does not offer a
//! call, the function says so with a `not_available` error — never a fake success.

use keyhold_client::{Client, ClientError, LoginOutcome};
use keyhold_core::Sensitive;
use keyhold_core::api::{
    AuditQuery, MeResponse, RequestedBy, SessionResponse, SignupRequest, User,
};

use crate::error::{CommandError, CommandResult, ErrorKind};
use crate::server_url::ServerUrl;

pub mod members;
pub mod secrets;

use crate::view::{
    AgentKeyView, ApprovalView, ApprovalVote, AuditEventView, AuditFilter, AuditPage, BackupCodes,
    CreatedAgentKey, FactorView, MfaStatus, NewAgentKey, RecommendationView, SecurityOverview,
    SecurityStatus, SessionView, UserView,
};

/// A session the server just granted. The token goes to Rust state and the keyring.
pub struct Granted {
    pub token: Sensitive<String>,
    pub view: SessionView,
}

/// The server's answer to a password.
pub enum Login {
    Granted(Granted),
    MfaRequired { ticket: Sensitive<String> },
}

/// The TOTP secret at the start of enrollment. Rendered to a QR code in Rust.
pub struct TotpSecret {
    pub secret: Sensitive<String>,
    pub otpauth_uri: Sensitive<String>,
}

/// Every client error as a sentence with the contract's code.
pub fn from_client(server: &ServerUrl, e: ClientError) -> CommandError {
    match e {
        ClientError::Api {
            code,
            message,
            extra,
            retry_after,
            ..
        } => {
            let strings = |key: &str| -> Vec<String> {
                extra
                    .get(key)
                    .and_then(|v| v.as_array())
                    .map(|a| {
                        a.iter()
                            .filter_map(|s| s.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let mut error = CommandError::new(ErrorKind::from(code), message)
                .with_details(strings("suggestions"));
            error.retry_after_secs = retry_after.map(|s| u32::try_from(s).unwrap_or(u32::MAX));
            error
        }
        ClientError::Unreachable { .. } => CommandError::new(
            ErrorKind::Offline,
            format!(
                "Cannot reach the Keyhold server at {server}. Check that it is running and that the address is right."
            ),
        ),
        ClientError::Protocol { status } => CommandError::new(
            ErrorKind::Internal,
            format!(
                "The server gave an answer this app does not understand (HTTP {status}). It may run a different version of Keyhold."
            ),
        ),
        ClientError::BadUrl(message) | ClientError::BadCaFile(message) => {
            CommandError::new(ErrorKind::InvalidServerUrl, message)
        }
        ClientError::Redirected { status, .. } => CommandError::new(
            ErrorKind::InvalidServerUrl,
            format!(
                "The server at {server} answered with a redirect (HTTP {status}). Keyhold follows no redirects, so nothing was sent on; use the server's own address."
            ),
        ),
    }
}

/// A client for `server`. `KEYHOLD_CA_CERT` names a PEM file of extra CAs to trust, for a
/// server whose certificate comes from a private CA (docs/desktop.md).
fn client(server: &ServerUrl) -> CommandResult<Client> {
    let ca_file = std::env::var_os("KEYHOLD_CA_CERT").map(std::path::PathBuf::from);
    client_trusting(server, ca_file.as_deref())
}

fn client_trusting(server: &ServerUrl, ca_file: Option<&std::path::Path>) -> CommandResult<Client> {
    Client::new(server.as_str())
        .and_then(|c| c.trusting_ca_file(ca_file))
        .map_err(|e| from_client(server, e))
}

fn authed(server: &ServerUrl, token: &Sensitive<String>) -> CommandResult<Client> {
    Ok(client(server)?.with_token(token.expose().clone()))
}

fn user_view(u: &User) -> UserView {
    UserView {
        id: u.id.clone(),
        email: u.email.clone(),
        display_name: u.display_name.clone(),
    }
}

fn me_view(server: &ServerUrl, me: &MeResponse, expires_at: Option<String>) -> SessionView {
    SessionView {
        server_url: server.to_string(),
        user: user_view(&me.user),
        tenant_name: Some(me.tenant.name.clone()),
        role: Some(me.role.as_str().to_owned()),
        expires_at,
    }
}

/// Turn a fresh session into what the app keeps, filling in tenant and role from `me`.
async fn granted(server: &ServerUrl, s: SessionResponse) -> CommandResult<Granted> {
    let expires_at = Some(s.expires_at.to_rfc3339());
    let view = match me(server, &s.session_token).await {
        Ok(mut v) => {
            v.expires_at = expires_at;
            v
        }
        Err(_) => SessionView {
            server_url: server.to_string(),
            user: user_view(&s.user),
            tenant_name: None,
            role: None,
            expires_at,
        },
    };
    Ok(Granted {
        token: s.session_token,
        view,
    })
}

pub async fn healthz(server: &ServerUrl) -> CommandResult<()> {
    client(server)?
        .healthz()
        .await
        .map_err(|e| from_client(server, e))
}

pub async fn signup(
    server: &ServerUrl,
    email: &str,
    password: &Sensitive<String>,
    display_name: Option<&str>,
) -> CommandResult<UserView> {
    let req = SignupRequest {
        email: email.to_owned(),
        password: password.clone(),
        display_name: display_name.map(str::to_owned),
        invitation: None,
    };
    let created = client(server)?
        .signup(&req)
        .await
        .map_err(|e| from_client(server, e))?;
    Ok(user_view(&created.user))
}

pub async fn login(
    server: &ServerUrl,
    email: &str,
    password: &Sensitive<String>,
) -> CommandResult<Login> {
    match client(server)?
        .login(email, password.expose())
        .await
        .map_err(|e| from_client(server, e))?
    {
        LoginOutcome::Session(s) => Ok(Login::Granted(granted(server, s).await?)),
        LoginOutcome::MfaRequired { mfa_ticket } => Ok(Login::MfaRequired { ticket: mfa_ticket }),
    }
}

pub async fn login_mfa(
    server: &ServerUrl,
    ticket: &Sensitive<String>,
    code: &Sensitive<String>,
) -> CommandResult<Granted> {
    let s = client(server)?
        .login_mfa(ticket.expose(), code.expose())
        .await
        .map_err(|e| from_client(server, e))?;
    granted(server, s).await
}

pub async fn logout(server: &ServerUrl, token: &Sensitive<String>) -> CommandResult<()> {
    authed(server, token)?
        .logout()
        .await
        .map_err(|e| from_client(server, e))
}

/// Check a saved token and describe its session.
pub async fn me(server: &ServerUrl, token: &Sensitive<String>) -> CommandResult<SessionView> {
    let me = authed(server, token)?
        .me()
        .await
        .map_err(|e| from_client(server, e))?;
    Ok(me_view(server, &me, None))
}

pub async fn security(
    server: &ServerUrl,
    token: &Sensitive<String>,
) -> CommandResult<SecurityOverview> {
    let c = authed(server, token)?;
    let score = c.security().await.map_err(|e| from_client(server, e))?;
    let me = c.me().await.map_err(|e| from_client(server, e))?;
    use keyhold_core::score::{ScoreStatus, Severity};
    Ok(SecurityOverview {
        score: score.score,
        status: match score.status {
            ScoreStatus::Protected => SecurityStatus::Protected,
            ScoreStatus::AtRisk => SecurityStatus::AtRisk,
            ScoreStatus::Exposed => SecurityStatus::Exposed,
        },
        factors: score
            .factors
            .iter()
            .map(|f| FactorView {
                id: serde_json::to_value(f.id)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                ok: f.ok,
                detail: f.detail.clone(),
            })
            .collect(),
        recommendations: score
            .recommendations
            .iter()
            .map(|r| RecommendationView {
                id: r.id.clone(),
                severity: match r.severity {
                    Severity::Low => "info",
                    Severity::Medium => "warning",
                    Severity::High => "critical",
                }
                .to_owned(),
                message: r.message.clone(),
                target: r.target.clone(),
            })
            .collect(),
        email: me.user.email.clone(),
        email_verified: me.user.email_verified,
    })
}

pub async fn request_email_verification(
    server: &ServerUrl,
    token: &Sensitive<String>,
) -> CommandResult<()> {
    authed(server, token)?
        .request_email_verification()
        .await
        .map_err(|e| from_client(server, e))
}

pub async fn change_password(
    server: &ServerUrl,
    token: &Sensitive<String>,
    current: &Sensitive<String>,
    new: &Sensitive<String>,
) -> CommandResult<()> {
    authed(server, token)?
        .change_password(current.expose(), new.expose())
        .await
        .map_err(|e| from_client(server, e))
}

pub async fn reauth(
    server: &ServerUrl,
    token: &Sensitive<String>,
    proof: &Sensitive<String>,
) -> CommandResult<()> {
    authed(server, token)?
        .reauth(proof.expose())
        .await
        .map_err(|e| from_client(server, e))
}

pub async fn mfa_status(server: &ServerUrl, token: &Sensitive<String>) -> CommandResult<MfaStatus> {
    let m = authed(server, token)?
        .mfa_status()
        .await
        .map_err(|e| from_client(server, e))?;
    Ok(MfaStatus {
        totp_enabled: m.totp_enabled,
        backup_codes_remaining: m.backup_codes_remaining,
        enrolled_at: m.enrolled_at.map(|t| t.to_rfc3339()),
    })
}

pub async fn mfa_begin(server: &ServerUrl, token: &Sensitive<String>) -> CommandResult<TotpSecret> {
    let e = authed(server, token)?
        .start_totp_enrollment()
        .await
        .map_err(|e| from_client(server, e))?;
    Ok(TotpSecret {
        secret: e.secret,
        otpauth_uri: e.otpauth_uri,
    })
}

/// Backup codes leave the `Sensitive` wrapper only here, on their way to the one screen
/// that shows them once.
fn backup_codes(r: keyhold_core::api::BackupCodesResponse) -> BackupCodes {
    BackupCodes {
        codes: r.backup_codes.iter().map(|c| c.expose().clone()).collect(),
    }
}

pub async fn mfa_confirm(
    server: &ServerUrl,
    token: &Sensitive<String>,
    code: &Sensitive<String>,
) -> CommandResult<BackupCodes> {
    authed(server, token)?
        .confirm_totp(code.expose())
        .await
        .map(backup_codes)
        .map_err(|e| from_client(server, e))
}

pub async fn mfa_regenerate_backup_codes(
    server: &ServerUrl,
    token: &Sensitive<String>,
    code: &Sensitive<String>,
) -> CommandResult<BackupCodes> {
    authed(server, token)?
        .regenerate_backup_codes(code.expose())
        .await
        .map(backup_codes)
        .map_err(|e| from_client(server, e))
}

pub async fn mfa_disable(
    server: &ServerUrl,
    token: &Sensitive<String>,
    code: &Sensitive<String>,
) -> CommandResult<()> {
    authed(server, token)?
        .disable_totp(code.expose())
        .await
        .map_err(|e| from_client(server, e))
}

fn key_view(k: &keyhold_core::api::AgentKey) -> AgentKeyView {
    AgentKeyView {
        id: k.id.clone(),
        name: k.name.clone(),
        prefix: k.prefix.clone(),
        scopes: k.scopes.iter().map(ToString::to_string).collect(),
        created_at: k.created_at.to_rfc3339(),
        expires_at: k.expires_at.map(|t| t.to_rfc3339()),
        last_used_at: k.last_used_at.map(|t| t.to_rfc3339()),
        last_used_ip: k.last_used_ip.clone(),
        revoked_at: k.revoked_at.map(|t| t.to_rfc3339()),
        ip_allowlist: k.ip_allowlist.clone(),
    }
}

pub async fn list_keys(
    server: &ServerUrl,
    token: &Sensitive<String>,
) -> CommandResult<Vec<AgentKeyView>> {
    let c = authed(server, token)?;
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = c
            .list_keys(Some(500), cursor.as_deref())
            .await
            .map_err(|e| from_client(server, e))?;
        out.extend(page.items.iter().map(key_view));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(out),
        }
    }
}

pub async fn create_key(
    server: &ServerUrl,
    token: &Sensitive<String>,
    new: &NewAgentKey,
) -> CommandResult<CreatedAgentKey> {
    let scopes = new
        .scopes
        .iter()
        .map(|s| keyhold_core::scope::Scope::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CommandError::new(ErrorKind::InvalidRequest, format!("Scope: {e}.")))?;
    let req = keyhold_core::api::CreateKeyRequest {
        name: new.name.clone(),
        scopes,
        expires_in: new.expires_in.clone(),
        ip_allowlist: (!new.ip_allowlist.is_empty()).then(|| new.ip_allowlist.clone()),
    };
    let created = authed(server, token)?
        .create_key(&req)
        .await
        .map_err(|e| from_client(server, e))?;
    Ok(CreatedAgentKey {
        key: key_view(&created.key),
        secret: created.secret.expose().clone(),
    })
}

pub async fn revoke_key(
    server: &ServerUrl,
    token: &Sensitive<String>,
    id: &str,
) -> CommandResult<()> {
    authed(server, token)?
        .revoke_key(id)
        .await
        .map_err(|e| from_client(server, e))
}

pub async fn revoke_leaked_key(
    server: &ServerUrl,
    secret: &Sensitive<String>,
) -> CommandResult<()> {
    client(server)?
        .revoke_leaked(secret.expose())
        .await
        .map_err(|e| from_client(server, e))
}

fn person(p: &keyhold_core::api::PersonRef) -> String {
    p.label().to_owned()
}

pub fn approval_view(a: &keyhold_core::api::Approval) -> ApprovalView {
    ApprovalView {
        id: a.id.clone(),
        path: a.path.to_string(),
        tier: a.tier.as_str().to_owned(),
        key_id: match &a.requested_by {
            RequestedBy::Agent { key_id, .. } => Some(key_id.clone()),
            RequestedBy::Person { .. } => None,
        },
        key_name: match &a.requested_by {
            RequestedBy::Agent { key_name, .. } => Some(key_name.clone()),
            RequestedBy::Person { .. } => None,
        },
        owner: person(a.requested_by.person()),
        owner_id: a.requested_by.person().id.clone(),
        operation: a.operation.as_str().to_owned(),
        to_tier: a.to_tier.map(|t| t.as_str().to_owned()),
        eligible_approvers: Some(a.eligible_approvers),
        reason: a.reason.clone(),
        requested_at: a.requested_at.to_rfc3339(),
        expires_at: a.expires_at.to_rfc3339(),
        approvals: a
            .approvals
            .iter()
            .map(|v| ApprovalVote {
                user: person(&v.user),
                user_id: v.user.id.clone(),
                at: v.at.to_rfc3339(),
            })
            .collect(),
        required_approvals: a.required_approvals,
        status: a.status.as_str().to_owned(),
        available_at: a.available_at.map(|t| t.to_rfc3339()),
    }
}

/// The inbox: `status` is "pending", "history" (everything decided or expired), "all", or
/// one of the server's statuses.
pub async fn list_approvals(
    server: &ServerUrl,
    token: &Sensitive<String>,
    status: &str,
) -> CommandResult<Vec<ApprovalView>> {
    let filter = match status {
        "all" | "history" | "" => None,
        s => Some(keyhold_core::api::ApprovalStatus::parse(s).ok_or_else(|| {
            CommandError::new(ErrorKind::InvalidRequest, format!("Unknown status {s:?}."))
        })?),
    };
    let page = authed(server, token)?
        .list_approvals(filter, Some(500), None)
        .await
        .map_err(|e| from_client(server, e))?;
    let history = status == "history";
    Ok(page
        .items
        .iter()
        .filter(|a| !history || a.status != keyhold_core::api::ApprovalStatus::Pending)
        .map(approval_view)
        .collect())
}

/// The live feed of the tenant's approval requests (server-sent events).
pub async fn approvals_feed(
    server: &ServerUrl,
    token: &Sensitive<String>,
) -> CommandResult<keyhold_client::sse::EventStream> {
    authed(server, token)?
        .approvals_stream()
        .await
        .map_err(|e| from_client(server, e))
}

pub async fn approve(
    server: &ServerUrl,
    token: &Sensitive<String>,
    id: &str,
    comment: Option<&str>,
    code: Option<&Sensitive<String>>,
) -> CommandResult<()> {
    authed(server, token)?
        .approve(id, comment, code.map(|c| c.expose().as_str()))
        .await
        .map(|_| ())
        .map_err(|e| from_client(server, e))
}

pub async fn deny(
    server: &ServerUrl,
    token: &Sensitive<String>,
    id: &str,
    reason: &str,
) -> CommandResult<()> {
    authed(server, token)?
        .deny(id, reason)
        .await
        .map(|_| ())
        .map_err(|e| from_client(server, e))
}

/// Parse an optional RFC 3339 time from the filter.
fn time(
    field: &str,
    value: Option<&String>,
) -> CommandResult<Option<chrono::DateTime<chrono::Utc>>> {
    value
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            chrono::DateTime::parse_from_rfc3339(v.trim())
                .map(|t| t.with_timezone(&chrono::Utc))
                .map_err(|_| {
                    CommandError::invalid(format!("The {field} time is not a valid date and time."))
                })
        })
        .transpose()
}

pub async fn audit(
    server: &ServerUrl,
    token: &Sensitive<String>,
    filter: &AuditFilter,
    cursor: Option<&str>,
) -> CommandResult<AuditPage> {
    let query = AuditQuery {
        limit: Some(100),
        cursor: cursor.map(str::to_owned),
        action: filter.action.clone().filter(|s| !s.is_empty()),
        actor: filter.actor.clone().filter(|s| !s.is_empty()),
        since: time("start", filter.since.as_ref())?,
        until: time("end", filter.until.as_ref())?,
    };
    let page = authed(server, token)?
        .audit(&query)
        .await
        .map_err(|e| from_client(server, e))?;
    Ok(AuditPage {
        items: page
            .items
            .into_iter()
            .map(|e| AuditEventView {
                id: e.id.to_string(),
                at: e.at.to_rfc3339(),
                actor_type: e.actor.kind,
                actor_id: e.actor.id.unwrap_or_default(),
                action: e.action,
                target: e.target,
                outcome: e.outcome,
                ip: e.ip,
            })
            .collect(),
        next_cursor: page.next_cursor,
    })
}

pub async fn audit_export(
    server: &ServerUrl,
    token: &Sensitive<String>,
    format: &str,
) -> CommandResult<Vec<u8>> {
    let text = authed(server, token)?
        .audit_export(format)
        .await
        .map_err(|e| from_client(server, e))?;
    Ok(text.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    /// A CA file the app cannot use is an error naming it, of the kind the sign-in screen
    /// shows for a server address it cannot use; no file changes nothing.
    #[test]
    fn a_ca_file_that_cannot_be_used_is_named() {
        let server = crate::server_url::parse("https://vault.example.com").unwrap();
        assert!(client_trusting(&server, None).is_ok());
        let dir = tempfile::tempdir().unwrap();
        let not_a_cert = dir.path().join("notes.txt");
        std::fs::write(&not_a_cert, "hello").unwrap();
        let missing = dir.path().join("missing.pem");
        for file in [&not_a_cert, &missing] {
            let e = client_trusting(&server, Some(file)).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidServerUrl);
            assert!(
                e.message.contains(&file.display().to_string()),
                "{}",
                e.message
            );
        }
    }
}
