//! Every JSON request body the server accepts: deserializing arbitrary bytes into any of
//! them never panics, and what deserializes goes through the same checks the handlers
//! run next (scopes, paths, durations, emails) without panicking either.
#![no_main]

use keyhold_core::api::*;
use keyhold_core::{duration, email, scope::Scope};
use libfuzzer_sys::fuzz_target;

fn body<T: serde::de::DeserializeOwned>(data: &[u8]) -> Option<T> {
    serde_json::from_slice(data).ok()
}

fuzz_target!(|data: &[u8]| {
    if let Some(r) = body::<SignupRequest>(data) {
        let _ = email::Email::parse(&r.email);
        // The server refuses over-long passwords before zxcvbn, as here.
        if r.password.expose().chars().count() <= 128 {
            let _ = keyhold_core::password::check(r.password.expose(), &r.email);
        }
    }
    if let Some(r) = body::<LoginRequest>(data) {
        let _ = email::Email::parse(&r.email);
    }
    let _ = body::<LoginMfaRequest>(data);
    let _ = body::<ChangePasswordRequest>(data);
    let _ = body::<VerifyEmailRequest>(data);
    let _ = body::<ReauthRequest>(data);
    if let Some(r) = body::<MfaCodeRequest>(data) {
        let _ = keyhold_core::backup_codes::normalize(r.code.expose());
    }
    if let Some(r) = body::<CreateKeyRequest>(data) {
        for s in &r.scopes {
            assert_eq!(Scope::parse(&s.to_string()).ok().as_ref(), Some(s));
        }
        if let Some(e) = &r.expires_in {
            let _ = duration::parse(e);
        }
    }
    if let Some(r) = body::<IssueTokenRequest>(data) {
        if let Some(t) = &r.ttl {
            let _ = duration::parse(t);
        }
    }
    let _ = body::<RevokeLeakedRequest>(data);
    let _ = body::<PutSecretRequest>(data);
    let _ = body::<CreateApprovalRequest>(data);
    let _ = body::<ApproveRequest>(data);
    let _ = body::<DenyRequest>(data);
    let _ = body::<InviteRequest>(data);
    let _ = body::<RoleRequest>(data);
    let _ = body::<TenantSettings>(data);
});
