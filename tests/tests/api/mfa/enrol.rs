//! Enrolling an authenticator: the QR code read by `zbarimg`, codes from `oathtool`,
//! secrets and codes sent `no-store` and never kept in the clear, the OpenAPI entries.

use std::collections::{BTreeMap, HashSet};

use keyhold_e2e::{STRONG_PASSWORD, TestServer};
use keyhold_vault::clock::Clock;

use super::helpers::{code_now, enable_2fa, events, percent_decode, raw_post, run_tool};

#[tokio::test]
async fn enrollment_qr_decodes_to_the_uri_and_oathtool_codes_enable_2fa() {
    let ts = TestServer::start().await;
    let p = ts.person("qr").await;

    let e = p.client.start_totp_enrollment().await.unwrap();
    let secret = e.secret.expose().clone();
    let uri = e.otpauth_uri.expose().clone();

    // The QR code as the desktop app renders it, read back by zbarimg.
    let png = keyhold_core::qr::png(&uri).unwrap();
    let file = tempfile::Builder::new().suffix(".png").tempfile().unwrap();
    std::fs::write(file.path(), png.expose()).unwrap();
    let decoded = run_tool(
        "zbarimg",
        "zbar-tools",
        &["--raw", "-q", file.path().to_str().unwrap()],
    );
    assert_eq!(decoded.trim_end_matches('\n'), uri);

    // Exactly the parameters every authenticator honours.
    let rest = uri.strip_prefix("otpauth://totp/").unwrap();
    let (label, query) = rest.split_once('?').unwrap();
    assert_eq!(percent_decode(label), format!("Keyhold:{}", p.email));
    let mut params = BTreeMap::new();
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap();
        assert!(
            params.insert(k.to_owned(), percent_decode(v)).is_none(),
            "{k} twice"
        );
    }
    let expected: BTreeMap<String, String> = [
        ("algorithm", "SHA1"),
        ("digits", "6"),
        ("issuer", "Keyhold"),
        ("period", "30"),
        ("secret", secret.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(params, expected);
    assert_eq!(secret.len(), 32, "160 bits in base32");
    assert!(
        secret
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
    );

    // Pending until confirmed: nothing is on yet.
    let st = p.client.mfa_status().await.unwrap();
    assert!(!st.totp_enabled && st.enrolled_at.is_none());
    assert!(!p.client.me().await.unwrap().user.mfa_enabled);

    // oathtool's code confirms it, and the backup codes come back once.
    let codes = p
        .client
        .confirm_totp(&code_now(&ts, &secret))
        .await
        .unwrap()
        .backup_codes;
    assert_eq!(codes.len(), 10);
    let distinct: HashSet<&String> = codes.iter().map(|c| c.expose()).collect();
    assert_eq!(distinct.len(), 10);
    for c in &codes {
        let groups: Vec<&str> = c.expose().split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [4, 4, 4]
        );
    }
    let st = p.client.mfa_status().await.unwrap();
    assert!(st.totp_enabled);
    assert_eq!(st.backup_codes_remaining, 10);
    assert_eq!(st.enrolled_at, Some(ts.clock.now()));
    assert!(p.client.me().await.unwrap().user.mfa_enabled);

    let enabled = events(&p.client, "mfa.enabled").await;
    assert_eq!(enabled.len(), 1);
    assert_eq!(enabled[0].outcome, "success");
    assert_eq!(enabled[0].actor.id.as_deref(), Some(p.user_id.as_str()));
    // No secret or code in the audit log.
    let log = p.client.audit_export("json").await.unwrap();
    assert!(!log.contains(&secret));
    assert!(codes.iter().all(|c| !log.contains(c.expose().as_str())));
    ts.stop().await;
}

#[tokio::test]
async fn secrets_codes_and_tickets_are_sent_no_store() {
    let ts = TestServer::start().await;
    let p = ts.person("nostore").await;
    let token = p.client.token().unwrap().to_owned();
    let (status, cc) = raw_post(&ts, Some(&token), "/v1/me/mfa/totp", "").await;
    assert_eq!((status, cc.as_str()), (201, "no-store"));
    let e = p.client.start_totp_enrollment().await.unwrap();
    let body = format!(
        r#"{{"code":"{}"}}"#,
        code_now(&ts, e.secret.expose().as_str())
    );
    let (status, cc) = raw_post(&ts, Some(&token), "/v1/me/mfa/totp/confirm", &body).await;
    assert_eq!((status, cc.as_str()), (200, "no-store"));
    let login = format!(
        r#"{{"email":"{}","password":"{}"}}"#,
        p.email, STRONG_PASSWORD
    );
    let (status, cc) = raw_post(&ts, None, "/v1/auth/login", &login).await;
    assert_eq!((status, cc.as_str()), (401, "no-store"), "mfa_required");
    ts.stop().await;
}

#[tokio::test]
async fn the_database_holds_no_totp_secret_or_backup_code() {
    let ts = TestServer::start().await;
    let p = ts.person("atrest").await;
    let e = enable_2fa(&ts, &p.client).await;
    let raw = keyhold_core::totp::TotpSecret::from_base32(&e.secret).unwrap();

    let db = ts.admin_db().await;
    let sealed = db
        .query_one("SELECT secret_sealed FROM mfa_totp", &[])
        .await
        .remove(0);
    let sealed = sealed.bytes();
    assert_eq!(sealed.len(), 12 + 20 + 16, "nonce, ciphertext, tag");
    assert!(
        !sealed
            .windows(raw.expose_bytes().len())
            .any(|w| w == raw.expose_bytes())
    );
    let hashes: Vec<String> = db
        .query("SELECT code_hash FROM mfa_backup_codes", &[])
        .await
        .iter()
        .map(|r| r[0].text().to_owned())
        .collect();
    assert_eq!(hashes.len(), 10);
    assert!(hashes.iter().all(|h| h.len() == 64));
    drop(db);

    // Nor anywhere in the files (database and write-ahead log), in any spelling.
    let bytes = ts.database_bytes().await;
    let mut control = keyhold_e2e::leaks::Needles::new();
    control.add_exact("the account's email", &p.email);
    assert_eq!(
        control.found_in(&bytes).len(),
        1,
        "the files hold the account"
    );
    let mut needles = keyhold_e2e::leaks::Needles::new();
    needles.add("TOTP secret (base32)", &e.secret);
    needles.add("TOTP secret (raw)", raw.expose_bytes());
    for c in &e.backup_codes {
        needles.add("backup code", c);
        needles.add("backup code (no dashes)", c.replace('-', ""));
    }
    needles.assert_none_in("the database and its WAL", &bytes);
    ts.stop().await;
}

#[tokio::test]
async fn openapi_lists_the_2fa_endpoints() {
    let ts = TestServer::start().await;
    let doc: serde_json::Value = reqwest::get(format!("{}/openapi.json", ts.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = &doc["paths"];
    for (path, method) in [
        ("/v1/me/mfa", "get"),
        ("/v1/me/mfa/totp", "post"),
        ("/v1/me/mfa/totp", "delete"),
        ("/v1/me/mfa/totp/confirm", "post"),
        ("/v1/me/mfa/backup-codes", "post"),
        ("/v1/auth/login/mfa", "post"),
        ("/v1/auth/reauth", "post"),
        ("/v1/me/security", "get"),
    ] {
        assert!(paths[path][method].is_object(), "{method} {path}");
    }
    ts.stop().await;
}
