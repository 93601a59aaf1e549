//! Signing up, in (with the 2FA step) and out, and describing a session.

use keyhold_client::LoginOutcome;
use keyhold_core::Sensitive;
use keyhold_core::api::{MeResponse, SessionResponse, SignupRequest, User};

use super::Server;
use crate::error::CommandResult;
use crate::view::{SessionView, UserView};

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

fn user_view(u: &User) -> UserView {
    UserView {
        id: u.id.clone(),
        email: u.email.clone(),
        display_name: u.display_name.clone(),
    }
}

fn me_view(server: &Server, me: &MeResponse, expires_at: Option<String>) -> SessionView {
    SessionView {
        server_url: server.url().to_string(),
        user: user_view(&me.user),
        tenant_name: Some(me.tenant.name.clone()),
        role: Some(me.role.as_str().to_owned()),
        expires_at,
    }
}

/// Turn a fresh session into what the app keeps, filling in tenant and role from `me`.
async fn granted(server: &Server, s: SessionResponse) -> CommandResult<Granted> {
    let expires_at = Some(s.expires_at.to_rfc3339());
    let view = match me(server, &s.session_token).await {
        Ok(mut v) => {
            v.expires_at = expires_at;
            v
        }
        Err(_) => SessionView {
            server_url: server.url().to_string(),
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

pub async fn healthz(server: &Server) -> CommandResult<()> {
    server
        .anonymous()
        .healthz()
        .await
        .map_err(|e| server.error(e))
}

pub async fn signup(
    server: &Server,
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
    let created = server
        .anonymous()
        .signup(&req)
        .await
        .map_err(|e| server.error(e))?;
    Ok(user_view(&created.user))
}

pub async fn login(
    server: &Server,
    email: &str,
    password: &Sensitive<String>,
) -> CommandResult<Login> {
    match server
        .anonymous()
        .login(email, password.expose())
        .await
        .map_err(|e| server.error(e))?
    {
        LoginOutcome::Session(s) => Ok(Login::Granted(granted(server, s).await?)),
        LoginOutcome::MfaRequired { mfa_ticket } => Ok(Login::MfaRequired { ticket: mfa_ticket }),
    }
}

pub async fn login_mfa(
    server: &Server,
    ticket: &Sensitive<String>,
    code: &Sensitive<String>,
) -> CommandResult<Granted> {
    let s = server
        .anonymous()
        .login_mfa(ticket.expose(), code.expose())
        .await
        .map_err(|e| server.error(e))?;
    granted(server, s).await
}

pub async fn logout(server: &Server, token: &Sensitive<String>) -> CommandResult<()> {
    server
        .authed(token)
        .logout()
        .await
        .map_err(|e| server.error(e))
}

/// Check a saved token and describe its session.
pub async fn me(server: &Server, token: &Sensitive<String>) -> CommandResult<SessionView> {
    let me = server
        .authed(token)
        .me()
        .await
        .map_err(|e| server.error(e))?;
    Ok(me_view(server, &me, None))
}
