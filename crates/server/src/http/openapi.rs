//! The OpenAPI document served at `/openapi.json`, which SDK authors and code generators
//! read as the contract: every operation with its credentials, every status it can answer
//! and every constraint its inputs must meet (`make test-openapi` holds the server to it
//! with schemathesis).
//!
//! Statuses that come from the layers every route shares are added here, by
//! [`CommonResponses`], from what the operation declares: a JSON body (400 unreadable, 413
//! too large, 415 not JSON, 422 against the rules), query parameters (400), credentials
//! (401), path parameters naming a resource (404), and everywhere the rate limit (429) and
//! a busy or timed-out server (503). A route declares only its own: its success, 403 for a
//! role or scope it requires, 404/409 for the resource's state, and its `security`.
//! docs/architecture.md ("Documenting a route") says how.

use std::collections::BTreeMap;

use utoipa::Modify;

use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

/// The security scheme of a signed-in person's session (`khs_…`).
pub const SESSION: &str = "session";
/// The security scheme of an agent key (`kha_…`).
pub const AGENT_KEY: &str = "agent_key";
/// The security scheme of a scoped token (`kht_…`).
pub const TOKEN: &str = "token";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Keyhold API",
        description = "The Keyhold secrets vault. See API.md."
    ),
    paths(
        super::routes::auth::signup,
        super::routes::auth::login,
        super::routes::auth::logout,
        super::routes::me::me,
        super::routes::me::change_password,
        super::routes::me::request_verification,
        super::routes::auth::verify_email,
        super::routes::mfa::start_totp,
        super::routes::mfa::confirm_totp,
        super::routes::mfa::status,
        super::routes::mfa::regenerate_backup_codes,
        super::routes::mfa::disable_totp,
        super::routes::auth::login_mfa,
        super::routes::auth::reauth,
        super::routes::me::security,
        super::routes::audit::list,
        super::routes::audit::export,
        super::routes::audit::actions,
        super::routes::audit::stream,
        super::routes::audit::verify,
        super::routes::keys::create,
        super::routes::keys::list,
        super::routes::keys::revoke,
        super::routes::keys::show,
        super::routes::keys::update,
        super::routes::keys::rotate,
        super::routes::keys::revoke_leaked,
        super::routes::public_keys::add,
        super::routes::public_keys::retire,
        super::routes::keys::reinstate,
        super::routes::alerts::get_rules,
        super::routes::alerts::put_rules,
        super::routes::alerts::list,
        super::routes::alerts::ack,
        super::routes::blocks::list,
        super::routes::blocks::lift,
        super::routes::tokens::issue_token,
        super::routes::tokens::revoke_token,
        super::routes::secrets::read,
        super::routes::secrets::write,
        super::routes::secrets::remove,
        super::routes::secrets::list,
        super::routes::secrets::metadata,
        super::routes::kek::rotate_kek,
        super::routes::approvals::create,
        super::routes::approvals::list,
        super::routes::approvals::show,
        super::routes::approvals::approve,
        super::routes::approvals::deny,
        super::routes::approvals_feed::stream,
        super::routes::settings::get_settings,
        super::routes::settings::put_settings,
        super::routes::members::list_members,
        super::routes::members::invite,
        super::routes::members::set_role,
        super::routes::members::remove_member,
        super::routes::invitations::list,
        super::routes::invitations::revoke,
        super::routes::recovery::request_reset,
        super::routes::recovery::confirm_reset,
        super::routes::recovery::reset_member_mfa,
        super::routes::me::notifications,
        super::routes::me::set_notifications,
        super::routes::me::sessions_list,
        super::routes::me::end_other_sessions,
        super::routes::webhooks::create,
        super::routes::webhooks::list,
        super::routes::webhooks::show,
        super::routes::webhooks::update,
        super::routes::webhooks::remove,
        super::routes::webhooks::rotate_secret,
        super::routes::webhooks::send_test,
        super::routes::webhooks::deliveries,
        super::routes::webhooks::retry,
    ),
    components(schemas(
        keyhold_core::ErrorBody,
        keyhold_core::api::AuditEvent,
        keyhold_core::api::schema::PageLimit,
        keyhold_core::api::schema::Cursor,
        keyhold_core::api::schema::PathPrefix,
        keyhold_core::api::schema::ExportFormat,
        keyhold_core::api::ApprovalStatus,
        keyhold_core::path::SecretPath,
    )),
    modifiers(&SecuritySchemes, &CommonResponses)
)]
pub struct ApiDoc;

/// The document as served: utoipa's, plus the links between operations.
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    super::openapi_links::add(&mut doc);
    doc
}

/// The three bearer credentials, each its own scheme so an operation says which it takes.
pub struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        for (name, format, what) in [
            (
                SESSION,
                "khs_…",
                "A person's session from `POST /v1/auth/login` (or `/login/mfa`). Privileged \
                 changes also need the sudo window: a sign-in or `POST /v1/auth/reauth` in the \
                 last 10 minutes, else 401 `reauth_required`.",
            ),
            (
                AGENT_KEY,
                "kha_…",
                "An agent key from `POST /v1/keys`, limited by its scopes and IP allowlist.",
            ),
            (
                TOKEN,
                "kht_…",
                "A scoped short-lived token from `POST /v1/tokens`, limited by its scopes, \
                 IP allowlist, lifetime and use count.",
            ),
        ] {
            let mut http = Http::new(HttpAuthScheme::Bearer);
            http.bearer_format = Some(format.to_owned());
            http.description = Some(what.to_owned());
            components.add_security_scheme(name, SecurityScheme::Http(http));
        }
    }
}

/// The statuses the shared layers answer with, added to every operation they apply to
/// (see the module doc). A route's own description of a status wins.
pub struct CommonResponses;

/// Why each shared status happens.
const BAD_REQUEST: &str = "The request cannot be read: a body that is not JSON, or a query \
     string with unknown or mistyped parameters or a bad `cursor`.";
const UNAUTHENTICATED: &str = "No credential, or one that is unknown, revoked or expired \
     (`unauthenticated`); for privileged changes outside the sudo window, `reauth_required`.";
const NOT_FOUND: &str = "No such resource in the caller's reach.";
const TOO_LARGE: &str = "The body is larger than the server's limit (`--body-limit`).";
const NOT_JSON: &str = "The body is not sent as `Content-Type: application/json`.";
const INVALID: &str = "The body is JSON but breaks a rule: a missing, unknown or mistyped \
     field, or a value outside its documented constraints (`error.field` names it).";
const RATE_LIMITED: &str = "Too many requests from this caller; `Retry-After` says when \
     to try again.";
const UNAVAILABLE: &str = "The request took too long or the store is unavailable; retry.";

/// An error response: the contract's `ErrorBody`.
pub fn error(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

/// The shared statuses `op` answers with, given its path template.
pub fn shared_statuses(path: &str, op: &Operation) -> Vec<(u16, &'static str)> {
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_query = params.iter().any(|p| p.parameter_in == ParameterIn::Query);
    let has_body = op.request_body.is_some();
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let mut out = Vec::new();
    if has_body || has_query {
        out.push((400, BAD_REQUEST));
    }
    if secured {
        out.push((401, UNAUTHENTICATED));
    }
    if path.contains('{') {
        out.push((404, NOT_FOUND));
    }
    if has_body {
        out.extend([(413, TOO_LARGE), (415, NOT_JSON), (422, INVALID)]);
    }
    out.extend([(429, RATE_LIMITED), (503, UNAVAILABLE)]);
    out
}

impl Modify for CommonResponses {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        for (path, item) in doc.paths.paths.iter_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                let add: Vec<_> = shared_statuses(path, op);
                let responses: &mut BTreeMap<String, RefOr<Response>> = &mut op.responses.responses;
                for (status, why) in add {
                    responses
                        .entry(status.to_string())
                        .or_insert_with(|| RefOr::T(error(why)));
                }
            }
        }
    }
}
