//! A person's own sessions: the list of where they are signed in, and "sign out everywhere
//! else". Apart from `sessions`, which holds the lifetime rules that `auth` itself needs.

use keyhold_core::api::{EndedSessions, SessionInfo};

use crate::Vault;
use crate::audit::ClientInfo;
use crate::auth::{Session, SudoSession};
use crate::error::Result;
use crate::notify::{self, Change};
use crate::sessions::is_live;
use crate::store::event::NewEvent;

/// `GET /v1/me/sessions`: the person's live sessions, newest first, this one marked.
pub async fn list(v: &Vault, s: &Session) -> Result<Vec<SessionInfo>> {
    let now = v.clock.now();
    let all = v.store.sessions_of(s.tenant_id(), &s.user.id, now).await?;
    Ok(all
        .into_iter()
        .filter(|r| is_live(r, now))
        .map(|r| SessionInfo {
            current: r.id == s.session.id,
            id: r.id,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            expires_at: r.expires_at,
        })
        .collect())
}

/// `POST /v1/me/sessions/end-others`: sign out every other session of the person (a stolen
/// one included), audited and mailed. The sudo window keeps a stolen session from signing
/// its victim out.
pub async fn end_others(v: &Vault, s: &SudoSession, client: &ClientInfo) -> Result<EndedSessions> {
    let ev = NewEvent::new("session.others_ended", v.clock.now(), client)
        .user(s.tenant_id(), &s.user.id)
        .target(format!("user:{}", s.user.id))
        .detail("kept", format!("session:{}", s.session.id));
    let ev = notify::with_notice(v, ev, &s.user.email, &Change::OtherSessionsEnded, client)?;
    let ended = v
        .store
        .delete_other_sessions(s.tenant_id(), &s.user.id, &s.session.id, ev)
        .await?;
    Ok(EndedSessions { ended })
}
