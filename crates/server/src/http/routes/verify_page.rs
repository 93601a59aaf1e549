//! The page a verification link opens. Opening the link changes nothing (mail scanners
//! follow links); the person confirms with a button, which posts the token.

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use keyhold_vault::{Error, accounts};
use serde::Deserialize;

use crate::error::ApiError;
use crate::http::extract::Client;
use crate::state::SharedState;

pub fn routes() -> Router<SharedState> {
    Router::new().route("/verify-email", get(show).post(confirm))
}

#[derive(Deserialize)]
struct TokenForm {
    token: Option<String>,
}

pub(super) fn escape(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

pub(super) fn page(title: &str, body: &str) -> Response {
    let html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Keyhold</title>
<style>
body{{font-family:system-ui,sans-serif;background:#0f172a;color:#e2e8f0;display:grid;place-items:center;min-height:100vh;margin:0}}
main{{background:#1e293b;padding:2.5rem;border-radius:16px;max-width:28rem;box-shadow:0 10px 30px #0006}}
h1{{margin-top:0;font-size:1.4rem}} button{{font:inherit;background:#22c55e;color:#052e16;border:0;border-radius:8px;padding:.7rem 1.4rem;cursor:pointer;font-weight:600}}
</style></head><body><main><h1>{title}</h1>{body}</main></body></html>"#
    );
    (
        [
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
            ),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Html(html),
    )
        .into_response()
}

async fn show(axum::extract::Query(q): axum::extract::Query<TokenForm>) -> Response {
    match q.token {
        Some(t) if !t.is_empty() => page(
            "Verify your email",
            &format!(
                r#"<p>Confirm that this address belongs to your Keyhold account.</p>
<form method="post" action="/verify-email"><input type="hidden" name="token" value="{}">
<button type="submit">Verify email</button></form>"#,
                escape(&t)
            ),
        ),
        _ => page(
            "Link incomplete",
            "<p>This link has no token. Open the link from the email again.</p>",
        ),
    }
}

async fn confirm(
    State(st): State<SharedState>,
    Client(c): Client,
    Form(f): Form<TokenForm>,
) -> Response {
    let token = f.token.unwrap_or_default();
    match accounts::verify_email(&st, &token, &c).await {
        Ok(()) => page(
            "Email verified",
            "<p>Your email address is verified. You can close this page and return to Keyhold.</p>",
        ),
        Err(Error::Invalid { message, .. }) => page("Link not valid", &format!("<p>{message}</p>")),
        Err(e) => {
            let status = ApiError(e).into_response().status();
            let mut r = page(
                "Something went wrong",
                "<p>The vault could not verify this link right now. Try again in a moment.</p>",
            );
            *r.status_mut() = status;
            r
        }
    }
}
