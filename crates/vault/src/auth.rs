//! Who is calling: the caller types the domain takes (a person's session, an agent key, a
//! scoped token) and the authentication of a session. The server's extractors only find
//! the credential in a request and hand its text here; agent keys and tokens are
//! authenticated in `agent_keys` and `tokens`, which own their rules.

use keyhold_core::credential::{Credential, CredentialKind};

use crate::Vault;
use crate::error::{Error, Result};
use crate::sessions;
use crate::store::{KeyRecord, SessionRecord, TokenRecord, UserRecord};

/// A signed-in person: a live `khs_` session and its user.
pub struct Session {
    pub session: SessionRecord,
    pub user: UserRecord,
}

impl Session {
    pub fn tenant_id(&self) -> &str {
        &self.user.tenant_id
    }
}

/// An agent authenticated with its `kha_` key.
pub struct AgentKey {
    pub key: KeyRecord,
}

/// An agent authenticated with a `kht_` scoped token (and the key that issued it).
pub struct AgentToken {
    pub token: TokenRecord,
    pub key: KeyRecord,
}

/// Whoever may call the secrets API: a person's session, an agent key or a scoped token,
/// told apart by the credential's prefix.
pub enum SecretsCaller {
    Session(Session),
    Key(AgentKey),
    Token(AgentToken),
}

pub const SIGN_IN: &str = "Sign in to continue.";
const SIGN_IN_AGAIN: &str = "Your session has ended. Sign in again.";

/// The live session (and its user) that `text`, a `khs_` credential, names.
pub async fn session(v: &Vault, text: &str) -> Result<Session> {
    let cred = Credential::parse_kind(text, CredentialKind::Session)
        .map_err(|_| Error::Unauthenticated(SIGN_IN_AGAIN))?;
    let hash = v.keys.credential_hash(cred.expose());
    let session = v
        .store
        .session_by_hash(&hash)
        .await?
        .ok_or(Error::Unauthenticated(SIGN_IN_AGAIN))?;
    let now = v.clock.now();
    if !sessions::is_live(&session, now) {
        return Err(Error::Unauthenticated(SIGN_IN_AGAIN));
    }
    if sessions::needs_touch(&session, now) {
        v.store
            .touch_session(&session.tenant_id, &session.id, now)
            .await?;
    }
    let user = v
        .store
        .user(&session.tenant_id, &session.user_id)
        .await?
        .ok_or(Error::Unauthenticated(SIGN_IN_AGAIN))?;
    Ok(Session { session, user })
}

/// A session that proved itself (sign-in or re-authentication) within
/// [`sessions::SUDO_WINDOW`]. Made only by [`sudo`], so a domain function that takes one
/// (every privileged change) cannot be reached without the check.
pub struct SudoSession(Session);

impl std::ops::Deref for SudoSession {
    type Target = Session;

    fn deref(&self) -> &Session {
        &self.0
    }
}

/// The session as a [`SudoSession`] when it is inside the sudo window; otherwise
/// `reauth_required`.
pub fn sudo(v: &Vault, s: Session) -> Result<SudoSession> {
    if sessions::in_sudo_window(&s.session, v.clock.now()) {
        Ok(SudoSession(s))
    } else {
        Err(Error::ReauthRequired)
    }
}
