//! The password reset by mailed link: end to end through the mail, single use, one hour,
//! nothing for unknown addresses, no mail flood, the password policy, and the second
//! factor when 2FA is on.

use chrono::Duration;
use keyhold_client::LoginOutcome;
use keyhold_e2e::{OTHER_STRONG_PASSWORD, STRONG_PASSWORD, TestServer, unique_email};
use keyhold_vault::clock::Clock;

use super::{
    RESET_SUBJECT, ask_reset, code_of, confirm, mails_to, me_status, notice, nth_reset_token,
    reset_token,
};
use crate::mfa::{enable_2fa, next_code};

/// A password the policy refuses (zxcvbn scores it low), long enough to pass the length
/// rule, so the refusal is the strength check's.
const WEAK: &str = "passwordpassword";

/// How many rows a query of the server's database counts, with `email` as `?1`.
async fn count(ts: &TestServer, sql: &str, email: &str) -> i64 {
    ts.admin_db().await.query_one(sql, &[&email]).await[0].int()
}

/// The rows of a table, all tenants.
async fn rows(ts: &TestServer, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    ts.admin_db().await.query_one(&sql, &[]).await[0].int()
}

const RESET_ROWS: &str = "SELECT COUNT(*) FROM email_tokens t JOIN users u ON u.id = t.user_id
                          WHERE u.email = ?1 AND t.purpose = 'reset_password'";

#[tokio::test]
async fn a_mailed_link_sets_the_password_once_ends_every_session_and_mails_a_notice() {
    let ts = TestServer::start().await;
    let p = ts.person("reset").await;
    let second = ts.login(&p.email, STRONG_PASSWORD).await;
    let sessions = [p.client.token().unwrap(), second.token().unwrap()];

    let token = reset_token(&ts, &p.email).await;
    let mail = mails_to(&ts, &p.email, RESET_SUBJECT).await.pop().unwrap();
    assert!(mail.contains("within 1 hour"), "{mail}");
    assert!(
        mail.contains("127.0.0.1"),
        "the mail names the asking address: {mail}"
    );
    // Asking changed nothing yet: sessions live, the old password signs in.
    for s in sessions {
        assert_eq!(me_status(&ts, s).await, 200);
    }
    ts.login(&p.email, STRONG_PASSWORD).await;

    // As pasted into an app, with the line break that came along.
    let pasted = format!(" {token}\n");
    let (status, body) = confirm(&ts, &pasted, OTHER_STRONG_PASSWORD, None).await;
    assert_eq!(status, 204, "{body}");
    for s in sessions {
        assert_eq!(me_status(&ts, s).await, 401, "a session outlived the reset");
    }
    assert!(ts.client().login(&p.email, STRONG_PASSWORD).await.is_err());
    let fresh = ts.login(&p.email, OTHER_STRONG_PASSWORD).await;
    let n = notice(&ts, &p.email, "your password was reset").await;
    assert!(n.contains("every session"), "{n}");
    assert!(
        !n.contains(&token) && !n.contains(OTHER_STRONG_PASSWORD),
        "{n}"
    );

    // Single use: the same link again is refused, and changes nothing.
    let (status, body) = confirm(&ts, &token, STRONG_PASSWORD, None).await;
    assert_eq!(
        (status, code_of(&body)),
        (400, ("invalid_request", "invalid_token"))
    );
    assert_eq!(body["error"]["field"], "token");
    assert_eq!(me_status(&ts, fresh.token().unwrap()).await, 200);
    ts.login(&p.email, OTHER_STRONG_PASSWORD).await;

    // Audited: the request (by nobody signed in), the reset (by the person), the refusal.
    let events = crate::approvals::events(&fresh, "password.reset").await;
    assert_eq!(events.len(), 2, "{events:?}");
    let by = |outcome: &str| events.iter().find(|e| e.outcome == outcome).unwrap();
    assert_eq!(by("failure").detail["reason"], "used");
    assert_eq!(by("success").detail["method"], "link");
    assert_eq!(by("success").actor.id.as_deref(), Some(p.user_id.as_str()));
    let asked = crate::approvals::events(&fresh, "password.reset_requested").await;
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0].actor.kind, "anonymous");
    assert_eq!(
        asked[0].target.as_deref(),
        Some(format!("user:{}", p.user_id).as_str())
    );
    let text = serde_json::to_string(&events).unwrap() + &serde_json::to_string(&asked).unwrap();
    assert!(!text.contains(&token) && !text.contains(OTHER_STRONG_PASSWORD));
}

#[tokio::test]
async fn a_link_works_for_one_hour() {
    let ts = TestServer::start().await;
    let p = ts.person("expiry").await;
    let token = reset_token(&ts, &p.email).await;
    ts.clock.advance(Duration::minutes(59));
    // Still open at 59 minutes: the link passes and the weak password is what is refused.
    let (status, body) = confirm(&ts, &token, WEAK, None).await;
    assert_eq!(status, 422, "{body}");
    ts.clock.advance(Duration::minutes(1));
    let (status, body) = confirm(&ts, &token, OTHER_STRONG_PASSWORD, None).await;
    assert_eq!(
        (status, code_of(&body)),
        (400, ("invalid_request", "invalid_token"))
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    // Nothing changed: the old password still signs in.
    ts.login(&p.email, STRONG_PASSWORD).await;
    assert!(
        ts.client()
            .login(&p.email, OTHER_STRONG_PASSWORD)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn an_unknown_address_gets_the_same_202_and_leaves_nothing_behind() {
    let ts = TestServer::start().await;
    let p = ts.person("known").await;
    let nobody = unique_email("nobody");
    let events_before = rows(&ts, "audit_events").await;
    let rows_before = rows(&ts, "email_tokens").await;
    let outbox_before = rows(&ts, "outbox").await;

    assert_eq!(ask_reset(&ts, &nobody).await, 202);
    // A real account's request afterwards: once its mail is out, the unknown one (issued
    // first) has long been handled.
    reset_token(&ts, &p.email).await;
    assert!(
        ts.outbox().await.iter().all(|m| !m.contains(&nobody)),
        "mail went to an address with no account"
    );
    assert_eq!(
        rows(&ts, "email_tokens").await,
        rows_before + 1,
        "only the real account's link is stored"
    );
    assert_eq!(
        rows(&ts, "audit_events").await,
        events_before + 1,
        "only the real account's request is audited"
    );
    assert_eq!(
        rows(&ts, "outbox").await,
        outbox_before + 1,
        "only the real account's mail was queued"
    );
    // Not an address at all: told so (that reveals nothing about accounts).
    assert_eq!(ask_reset(&ts, "not an address").await, 422);
}

#[tokio::test]
async fn asking_again_soon_mails_no_second_link() {
    let ts = TestServer::start().await;
    let p = ts.person("flood").await;
    let first = reset_token(&ts, &p.email).await;
    for _ in 0..3 {
        assert_eq!(ask_reset(&ts, &p.email).await, 202);
    }
    // Give the background tasks time to (not) mail, then count.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(mails_to(&ts, &p.email, RESET_SUBJECT).await.len(), 1);
    assert_eq!(count(&ts, RESET_ROWS, &p.email).await, 1);

    // Fifteen minutes on, a new link is mailed; the reset with it voids the first one.
    ts.clock.advance(Duration::minutes(15));
    assert_eq!(ask_reset(&ts, &p.email).await, 202);
    let second = nth_reset_token(&ts, &p.email, 2).await;
    assert_ne!(first, second);
    let (status, _) = confirm(&ts, &second, OTHER_STRONG_PASSWORD, None).await;
    assert_eq!(status, 204);
    let (status, body) = confirm(&ts, &first, STRONG_PASSWORD, None).await;
    assert_eq!(
        (status, code_of(&body)),
        (400, ("invalid_request", "invalid_token"))
    );
    ts.login(&p.email, OTHER_STRONG_PASSWORD).await;
}

#[tokio::test]
async fn a_weak_password_is_refused_and_nothing_changes() {
    let ts = TestServer::start().await;
    let p = ts.person("weak").await;
    let token = reset_token(&ts, &p.email).await;
    let local = p.email.split('@').next().unwrap().to_owned();
    for weak in [WEAK, "short", &format!("{local} and some more words")] {
        let (status, body) = confirm(&ts, &token, weak, None).await;
        assert_eq!(status, 422, "{weak}: {body}");
        assert_eq!(code_of(&body).0, "invalid_request");
        assert_eq!(body["error"]["field"], "new_password");
        assert!(body["error"]["reasons"].is_array(), "{body}");
    }
    assert_eq!(me_status(&ts, p.client.token().unwrap()).await, 200);
    ts.login(&p.email, STRONG_PASSWORD).await;
    // The link is still good for a password the policy accepts.
    let (status, _) = confirm(&ts, &token, OTHER_STRONG_PASSWORD, None).await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn with_2fa_on_a_current_code_is_needed_and_a_wrong_one_keeps_the_link() {
    let ts = TestServer::start().await;
    let p = ts.person("reset2fa").await;
    let e = enable_2fa(&ts, &p.client).await;
    let token = reset_token(&ts, &p.email).await;
    let mail = mails_to(&ts, &p.email, RESET_SUBJECT).await.pop().unwrap();
    assert!(mail.contains("authenticator app"), "{mail}");

    let (status, body) = confirm(&ts, &token, OTHER_STRONG_PASSWORD, None).await;
    assert_eq!((status, code_of(&body).0), (401, "mfa_required"), "{body}");
    assert!(body["error"].get("mfa_ticket").is_none(), "{body}");
    let wrong = crate::mfa::oathtool(&e.secret, ts.clock.now() - Duration::minutes(10));
    let (status, body) = confirm(&ts, &token, OTHER_STRONG_PASSWORD, Some(&wrong)).await;
    assert_eq!((status, code_of(&body).0), (401, "mfa_required"), "{body}");
    let (status, _) = confirm(&ts, &token, OTHER_STRONG_PASSWORD, Some("12x")).await;
    assert_eq!(status, 422);
    // None of that changed anything.
    assert_eq!(me_status(&ts, p.client.token().unwrap()).await, 200);

    let code = next_code(&ts, &e.secret);
    let (status, body) = confirm(&ts, &token, OTHER_STRONG_PASSWORD, Some(&code)).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(me_status(&ts, p.client.token().unwrap()).await, 401);
    notice(&ts, &p.email, "your password was reset").await;
    // 2FA stays on: the new password leads to the second step, as before.
    match ts
        .client()
        .login(&p.email, OTHER_STRONG_PASSWORD)
        .await
        .unwrap()
    {
        LoginOutcome::MfaRequired { .. } => {}
        LoginOutcome::Session(_) => panic!("the reset turned 2FA off"),
    }
    // The code was spent: replaying it with a new link (the used one leaves none open, so
    // one is mailed at once) is refused.
    let again = reset_token(&ts, &p.email).await;
    let (status, _) = confirm(&ts, &again, STRONG_PASSWORD, Some(&code)).await;
    assert_eq!(status, 401);
    ts.client()
        .login(&p.email, OTHER_STRONG_PASSWORD)
        .await
        .unwrap();
}

#[tokio::test]
async fn with_2fa_on_a_backup_code_works_and_is_used_up() {
    let ts = TestServer::start().await;
    let p = ts.person("resetbackup").await;
    let e = enable_2fa(&ts, &p.client).await;
    let backup = e.backup_codes[0].clone();
    let token = reset_token(&ts, &p.email).await;
    let (status, body) = confirm(&ts, &token, OTHER_STRONG_PASSWORD, Some(&backup)).await;
    assert_eq!(status, 204, "{body}");
    notice(&ts, &p.email, "your password was reset").await;
    assert!(
        !mails_to(&ts, &p.email, "Keyhold: a backup code was used")
            .await
            .is_empty()
    );
    // The backup code is spent: it does not finish a sign-in.
    let ticket = match ts
        .client()
        .login(&p.email, OTHER_STRONG_PASSWORD)
        .await
        .unwrap()
    {
        LoginOutcome::MfaRequired { mfa_ticket } => mfa_ticket.expose().clone(),
        LoginOutcome::Session(_) => panic!("2FA is on"),
    };
    assert!(ts.client().login_mfa(&ticket, &backup).await.is_err());
    ts.client()
        .login_mfa(&ticket, &e.backup_codes[1])
        .await
        .unwrap();
}

#[tokio::test]
async fn parallel_confirms_with_one_link_change_the_password_once() {
    let ts = TestServer::start().await;
    let p = ts.person("resetrace").await;
    let token = reset_token(&ts, &p.email).await;
    let results = futures::future::join_all(
        (0..4).map(|_| confirm(&ts, &token, OTHER_STRONG_PASSWORD, None)),
    )
    .await;
    let ok = results.iter().filter(|(s, _)| *s == 204).count();
    assert_eq!(ok, 1, "{results:?}");
    assert!(
        results.iter().all(|(s, _)| *s == 204 || *s == 400),
        "{results:?}"
    );
    let resets = count(
        &ts,
        "SELECT COUNT(*) FROM audit_events WHERE action = 'password.reset' AND outcome = 'success'
         AND target = 'user:' || (SELECT id FROM users WHERE email = ?1)",
        &p.email,
    )
    .await;
    assert_eq!(resets, 1);
}
