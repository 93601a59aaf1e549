//! The page a password-reset link opens: a form for the new password (and, when 2FA is
//! on, a code), posted back here. Server-rendered, no script, the same tight CSP as the
//! verification page; opening the link changes nothing. The desktop app posts the same
//! token to `POST /v1/auth/password-reset/confirm` instead.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use keyhold_core::Sensitive;
use keyhold_core::api::PasswordResetConfirm;
use keyhold_vault::{Error, recovery};
use serde::Deserialize;

use super::verify_page::{escape, page};
use crate::error::ApiError;
use crate::http::extract::Client;
use crate::state::SharedState;

pub fn routes() -> Router<SharedState> {
    Router::new().route("/reset-password", get(show).post(confirm))
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// The form's fields. No `Debug`: it holds a password.
#[derive(Deserialize)]
struct ResetForm {
    token: Option<String>,
    new_password: Option<String>,
    code: Option<String>,
}

/// Text for HTML: the five characters that could open markup are escaped.
fn html(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// The form for `token`, with `problem` (plain text) above it when the last try failed.
fn form(token: &str, problem: Option<&str>) -> Response {
    let problem = problem
        .map(|p| format!(r#"<p role="alert"><strong>{}</strong></p>"#, html(p)))
        .unwrap_or_default();
    page(
        "Choose a new password",
        &format!(
            r#"{problem}<p>Choose a new password for your Keyhold account: at least 15 characters, hard to guess. Every session of the account will be signed out.</p>
<form method="post" action="/reset-password"><input type="hidden" name="token" value="{}">
<p><label>New password<br><input type="password" name="new_password" autocomplete="new-password" minlength="15" maxlength="128" required></label></p>
<p><label>Two-factor code, only if two-factor authentication is on<br><input type="text" name="code" autocomplete="one-time-code" maxlength="20"></label></p>
<button type="submit">Set new password</button></form>"#,
            escape(token)
        ),
    )
}

fn with_status(mut r: Response, status: StatusCode) -> Response {
    *r.status_mut() = status;
    r
}

fn incomplete() -> Response {
    page(
        "Link incomplete",
        "<p>This link has no token. Open the link from the email again.</p>",
    )
}

async fn show(Query(q): Query<TokenQuery>) -> Response {
    match q.token {
        Some(t) if !t.is_empty() => form(&t, None),
        _ => incomplete(),
    }
}

async fn confirm(
    State(st): State<SharedState>,
    Client(c): Client,
    Form(f): Form<ResetForm>,
) -> Response {
    let Some(token) = f.token.filter(|t| !t.is_empty()) else {
        return incomplete();
    };
    let req = PasswordResetConfirm {
        token: Sensitive::new(token.clone()),
        new_password: Sensitive::new(f.new_password.unwrap_or_default()),
        code: f
            .code
            .filter(|c| !c.trim().is_empty())
            .map(|c| Sensitive::new(c.trim().to_owned())),
    };
    let e = match recovery::confirm_password_reset(&st, &req, &c).await {
        Ok(()) => {
            return page(
                "Password changed",
                "<p>Your password is changed and every session of the account was signed out. Sign in with the new password in the Keyhold app.</p>",
            );
        }
        Err(e) => e,
    };
    match e {
        Error::InvalidLink(m) => with_status(
            page("Link not valid", &format!("<p>{}</p>", html(m))),
            StatusCode::BAD_REQUEST,
        ),
        Error::Invalid { message, .. } => with_status(
            form(&token, Some(&message)),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Error::CodeRequired(m) => with_status(form(&token, Some(m)), StatusCode::UNAUTHORIZED),
        Error::RateLimited { .. } => with_status(
            form(
                &token,
                Some("Too many attempts. Wait a few minutes and try again."),
            ),
            StatusCode::TOO_MANY_REQUESTS,
        ),
        other => {
            // Logged (an internal cause) and mapped like any API error; the page says no more.
            let status = ApiError(other).into_response().status();
            with_status(
                page(
                    "Something went wrong",
                    "<p>The vault could not change the password right now. Try again in a moment.</p>",
                ),
                status,
            )
        }
    }
}
