//! The Security Vault page's account calls: the score, email verification, the password
//! and the sudo window.

use keyhold_core::Sensitive;
use keyhold_core::score::{ScoreStatus, SecurityScore, Severity};

use super::Server;
use crate::error::CommandResult;
use crate::view::{FactorView, RecommendationView, SecurityOverview, SecurityStatus, SessionItem};

pub async fn security(
    server: &Server,
    token: &Sensitive<String>,
) -> CommandResult<SecurityOverview> {
    let c = server.authed(token);
    let score = c.security().await.map_err(|e| server.error(e))?;
    let me = c.me().await.map_err(|e| server.error(e))?;
    Ok(SecurityOverview {
        score: score.score,
        status: match score.status {
            ScoreStatus::Protected => SecurityStatus::Protected,
            ScoreStatus::AtRisk => SecurityStatus::AtRisk,
            ScoreStatus::Exposed => SecurityStatus::Exposed,
        },
        factors: factor_views(&score),
        recommendations: recommendation_views(&score),
        email: me.user.email.clone(),
        email_verified: me.user.email_verified,
    })
}

fn factor_views(score: &SecurityScore) -> Vec<FactorView> {
    score
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
        .collect()
}

fn recommendation_views(score: &SecurityScore) -> Vec<RecommendationView> {
    score
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
        .collect()
}

pub async fn request_email_verification(
    server: &Server,
    token: &Sensitive<String>,
) -> CommandResult<()> {
    server
        .authed(token)
        .request_email_verification()
        .await
        .map_err(|e| server.error(e))
}

pub async fn change_password(
    server: &Server,
    token: &Sensitive<String>,
    current: &Sensitive<String>,
    new: &Sensitive<String>,
) -> CommandResult<()> {
    server
        .authed(token)
        .change_password(current.expose(), new.expose())
        .await
        .map_err(|e| server.error(e))
}

pub async fn reauth(
    server: &Server,
    token: &Sensitive<String>,
    proof: &Sensitive<String>,
) -> CommandResult<()> {
    server
        .authed(token)
        .reauth(proof.expose())
        .await
        .map_err(|e| server.error(e))
}

/// The person's live sessions, this app's own marked `current`, newest first.
pub async fn sessions(
    server: &Server,
    token: &Sensitive<String>,
) -> CommandResult<Vec<SessionItem>> {
    let list = server
        .authed(token)
        .sessions()
        .await
        .map_err(|e| server.error(e))?;
    Ok(list
        .into_iter()
        .map(|s| SessionItem {
            id: s.id,
            created_at: s.created_at.to_rfc3339(),
            last_seen_at: s.last_seen_at.to_rfc3339(),
            expires_at: s.expires_at.to_rfc3339(),
            current: s.current,
        })
        .collect())
}

/// Sign out every session of the person but this one (sudo); how many ended (a u32 for
/// the web view, whose numbers are doubles).
pub async fn end_other_sessions(server: &Server, token: &Sensitive<String>) -> CommandResult<u32> {
    server
        .authed(token)
        .end_other_sessions()
        .await
        .map(|e| u32::try_from(e.ended).unwrap_or(u32::MAX))
        .map_err(|e| server.error(e))
}
