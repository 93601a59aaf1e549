//! The desktop's server calls (`keyhold_desktop::backend`) against the real server on a
//! loopback port: two-factor enrollment, backup codes, the sudo window and turning 2FA
//! off. Codes come from `oathtool` (Debian package oathtool) at the server's test clock,
//! an implementation independent of the server's own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Duration;
use keyhold_client::LoginOutcome;
use keyhold_core::Sensitive;
use keyhold_desktop::backend;
use keyhold_desktop::backend::Server;
use keyhold_desktop::error::ErrorKind;
use keyhold_desktop::server_url;
use keyhold_e2e::{Person, STRONG_PASSWORD, TestServer, oathtool};
use keyhold_vault::clock::Clock;

async fn signed_in(ts: &TestServer, p: &Person) -> Sensitive<String> {
    match ts.client().login(&p.email, STRONG_PASSWORD).await.unwrap() {
        LoginOutcome::Session(s) => s.session_token,
        LoginOutcome::MfaRequired { .. } => panic!("2FA is not on yet"),
    }
}

fn code(ts: &TestServer, secret: &Sensitive<String>) -> Sensitive<String> {
    Sensitive::new(oathtool(secret.expose(), ts.clock.now()))
}

/// Next TOTP step: the server accepts each step once.
fn next_code(ts: &TestServer, secret: &Sensitive<String>) -> Sensitive<String> {
    ts.clock.advance(Duration::seconds(30));
    code(ts, secret)
}

#[tokio::test]
async fn two_factor_enroll_regenerate_and_disable() {
    let ts = TestServer::start().await;
    let ada = ts.person("desk-mfa").await;
    let server = Server::connect(server_url::parse(&ts.url()).unwrap()).unwrap();
    let token = signed_in(&ts, &ada).await;

    let started = backend::mfa_begin(&server, &token).await.unwrap();
    assert_eq!(started.secret.expose().len(), 32, "160-bit base32 secret");
    assert!(
        started
            .otpauth_uri
            .expose()
            .starts_with("otpauth://totp/Keyhold:")
    );
    assert!(
        started
            .otpauth_uri
            .expose()
            .contains(started.secret.expose().as_str())
    );

    // A wrong code is refused with a sentence, and 2FA stays off.
    let right = code(&ts, &started.secret);
    let wrong = Sensitive::new(
        if right.expose() == "000000" {
            "111111"
        } else {
            "000000"
        }
        .to_owned(),
    );
    let refused = backend::mfa_confirm(&server, &token, &wrong)
        .await
        .unwrap_err();
    assert_eq!(refused.kind, ErrorKind::Forbidden, "{refused:?}");
    assert!(refused.message.ends_with('.'), "{}", refused.message);
    assert!(
        !backend::mfa_status(&server, &token)
            .await
            .unwrap()
            .totp_enabled
    );

    let first = backend::mfa_confirm(&server, &token, &right).await.unwrap();
    assert_eq!(first.codes.len(), 10);
    let status = backend::mfa_status(&server, &token).await.unwrap();
    assert!(status.totp_enabled);
    assert_eq!(status.backup_codes_remaining, 10);

    // New backup codes replace the first set.
    let second =
        backend::mfa_regenerate_backup_codes(&server, &token, &next_code(&ts, &started.secret))
            .await
            .unwrap();
    assert_eq!(second.codes.len(), 10);
    assert!(second.codes.iter().all(|c| !first.codes.contains(c)));
    assert!(
        backend::mfa_disable(&server, &token, &Sensitive::new(first.codes[0].clone()))
            .await
            .is_err(),
        "a code from the replaced set still worked"
    );

    // Past the sudo window, the change needs re-authentication first.
    ts.clock.advance(Duration::minutes(11));
    let stale = backend::mfa_disable(&server, &token, &next_code(&ts, &started.secret))
        .await
        .unwrap_err();
    assert_eq!(stale.kind, ErrorKind::ReauthRequired, "{stale:?}");
    assert!(
        backend::mfa_status(&server, &token)
            .await
            .unwrap()
            .totp_enabled
    );
    backend::reauth(&server, &token, &next_code(&ts, &started.secret))
        .await
        .unwrap();
    backend::mfa_disable(&server, &token, &next_code(&ts, &started.secret))
        .await
        .unwrap();
    assert!(
        !backend::mfa_status(&server, &token)
            .await
            .unwrap()
            .totp_enabled
    );
    ts.stop().await;
}

/// Starting and confirming enrollment need the sudo window: past it each answers
/// `reauth_required` (what the enrollment dialog branches on), the password proves it is
/// the person while 2FA is still off, and the same call then goes through.
#[tokio::test]
async fn two_factor_enrollment_needs_the_sudo_window() {
    let ts = TestServer::start().await;
    let ada = ts.person("desk-mfa-sudo").await;
    let server = Server::connect(server_url::parse(&ts.url()).unwrap()).unwrap();
    let token = signed_in(&ts, &ada).await;
    let password = Sensitive::new(STRONG_PASSWORD.to_owned());

    ts.clock.advance(Duration::minutes(11));
    let Err(stale) = backend::mfa_begin(&server, &token).await else {
        panic!("enrollment started outside the sudo window");
    };
    assert_eq!(stale.kind, ErrorKind::ReauthRequired, "{stale:?}");
    backend::reauth(&server, &token, &password).await.unwrap();
    let started = backend::mfa_begin(&server, &token).await.unwrap();

    ts.clock.advance(Duration::minutes(11));
    let stale = backend::mfa_confirm(&server, &token, &code(&ts, &started.secret))
        .await
        .unwrap_err();
    assert_eq!(stale.kind, ErrorKind::ReauthRequired, "{stale:?}");
    assert!(
        !backend::mfa_status(&server, &token)
            .await
            .unwrap()
            .totp_enabled
    );
    backend::reauth(&server, &token, &password).await.unwrap();
    let codes = backend::mfa_confirm(&server, &token, &code(&ts, &started.secret))
        .await
        .unwrap();
    assert_eq!(codes.codes.len(), 10);
    ts.stop().await;
}

/// Settings → Sessions: the person's sessions with this one marked current; "Sign out
/// everywhere else" past the sudo window needs a confirmation, then ends the others (the
/// server then refuses them) and keeps this one. The lock screen's unlock is the same
/// confirmation: a wrong password is refused, the right one accepted.
#[tokio::test]
async fn sessions_listed_and_the_others_ended() {
    let ts = TestServer::start().await;
    let ada = ts.person("desk-sessions").await;
    let server = Server::connect(server_url::parse(&ts.url()).unwrap()).unwrap();
    let this = signed_in(&ts, &ada).await;

    let listed = backend::sessions(&server, &this).await.unwrap();
    // `person` signed in once over the API, and the app once more.
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed.iter().filter(|s| s.current).count(), 1);
    assert!(
        listed
            .iter()
            .all(|s| !s.id.is_empty() && !s.created_at.is_empty())
    );

    // Past the sudo window the server asks first; nothing ends.
    ts.clock.advance(Duration::minutes(11));
    let e = backend::end_other_sessions(&server, &this)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ReauthRequired);
    let wrong = Sensitive::new("not the password at all".to_owned());
    assert!(backend::reauth(&server, &this, &wrong).await.is_err());
    assert!(
        ada.client.me().await.is_ok(),
        "a refused confirmation ended nothing"
    );
    let right = Sensitive::new(STRONG_PASSWORD.to_owned());
    backend::reauth(&server, &this, &right).await.unwrap();

    assert_eq!(
        backend::end_other_sessions(&server, &this).await.unwrap(),
        1
    );
    let gone = ada.client.me().await.unwrap_err();
    assert_eq!(gone.code(), Some(keyhold_core::ErrorCode::Unauthenticated));
    let left = backend::sessions(&server, &this).await.unwrap();
    assert_eq!(left.len(), 1);
    assert!(left[0].current);
}
