//! No leaks: a full scenario against the real binary at trace log level (sign-up, email
//! verification, 2FA with TOTP and backup codes, invitations, agent keys and tokens, secrets
//! of every tier, approvals including a critical one with two approvers, a password change,
//! revocations), then a byte search of everything the server wrote: its log, the database,
//! the WAL and the outbox. No password, TOTP secret, backup code, key, token, session,
//! ticket or secret value may be found, in any common spelling.
//!
//! The one exception is the API's own: with no SMTP configured, a verification or
//! invitation link goes to the outbox and its link is logged (API.md, "Running the
//! server"). Those link tokens may appear in outbox files and on the log's
//! `mail written to outbox` lines, and nowhere else.
//!
//! The server runs on the real clock, so TOTP codes come from `oathtool` for real time
//! steps (see [`Totp`]).

use chrono::{DateTime, Utc};
use keyhold_client::{Client, LoginOutcome};
use keyhold_core::Sensitive;
use keyhold_core::api::{Role, SignupRequest, TenantSettings};
use keyhold_core::tier::Tier;
use keyhold_e2e::leaks::{Needles, files_under};
use keyhold_e2e::{
    OTHER_STRONG_PASSWORD, ServerProcess, decode_quoted_printable, mailed_link_in, unique_email,
};

use crate::mfa::oathtool;
use crate::support::{key_req, p, token_req};

/// Seconds since the epoch from the clock the server binary itself uses.
fn wall_clock() -> i64 {
    use keyhold_vault::clock::{Clock, SystemClock};
    SystemClock.now().timestamp()
}

/// TOTP codes for the real clock: each use takes a later time step than the last one
/// (the server refuses a step at or before the last accepted), using the server's ±1 step
/// of drift so that no test waits for the clock.
struct Totp {
    secret: String,
    last_step: i64,
}

impl Totp {
    fn new(secret: String) -> Self {
        Self {
            secret,
            last_step: 0,
        }
    }

    async fn code(&mut self) -> String {
        let now = wall_clock() / 30;
        let step = (self.last_step + 1).max(now);
        if step > now + 1 {
            // Two uses in one step: wait until the step after next is within drift.
            let wait_until = (step - 1) * 30;
            let ms = (wait_until - wall_clock()).max(0) * 1000 + 200;
            tokio::time::sleep(std::time::Duration::from_millis(ms as u64)).await;
        }
        self.last_step = step;
        oathtool(
            &self.secret,
            DateTime::<Utc>::from_timestamp(step * 30, 0).unwrap(),
        )
    }
}

/// Everything the scenario handled, split by where it may legitimately appear.
struct Collected {
    /// Must appear nowhere.
    everywhere: Needles,
    /// Link tokens: allowed in the outbox and on the outbox log lines only.
    link_tokens: Needles,
    /// Raw link tokens, to prove the search sees the outbox at all.
    verification_token: String,
}

struct Scenario {
    server: ServerProcess,
    dir: std::path::PathBuf,
    c: Collected,
    /// Distinct passwords per person, so each one is searched for.
    next_password: usize,
}

const PASSWORDS: [&str; 4] = [
    "violet anchor quietly juggles seven kites",
    "copper walrus politely audits ninety clouds",
    "saffron glacier hums beneath twelve ladders",
    "amber tortoise secretly designs paper bridges",
];

impl Scenario {
    fn base(&self) -> Client {
        self.server.client()
    }

    fn secret(&mut self, label: &str, value: impl AsRef<[u8]>) {
        self.c.everywhere.add(label, value);
    }

    fn link(&self, to: &str, path: &str) -> String {
        mailed_link_in(&self.dir, &self.server.url, to, path).expect("link mailed")
    }

    async fn login(&mut self, email: &str, password: &str) -> LoginOutcome {
        let out = self.base().login(email, password).await.unwrap();
        match &out {
            LoginOutcome::Session(s) => {
                let t = s.session_token.expose().clone();
                self.secret("session token", &t);
            }
            LoginOutcome::MfaRequired { mfa_ticket } => {
                let t = mfa_ticket.expose().clone();
                self.secret("mfa ticket", &t);
            }
        }
        out
    }

    async fn session(&mut self, email: &str, password: &str) -> Client {
        match self.login(email, password).await {
            LoginOutcome::Session(s) => self.base().with_token(s.session_token.expose().clone()),
            LoginOutcome::MfaRequired { .. } => panic!("unexpected 2FA step"),
        }
    }

    async fn signup(&mut self, tag: &str) -> (String, String) {
        self.signup_as(&unique_email(tag), None).await
    }

    /// Turn 2FA on; returns the TOTP state and the backup codes.
    async fn enroll(&mut self, client: &Client) -> (Totp, Vec<String>) {
        let e = client.start_totp_enrollment().await.unwrap();
        let secret = e.secret.expose().clone();
        let raw = keyhold_core::totp::TotpSecret::from_base32(&secret).unwrap();
        self.secret("TOTP secret (base32)", &secret);
        self.secret("TOTP secret (lower-case base32)", secret.to_lowercase());
        self.c
            .everywhere
            .add("TOTP secret (raw bytes)", raw.expose_bytes());
        self.secret("otpauth URI", e.otpauth_uri.expose());
        let mut totp = Totp::new(secret);
        let codes: Vec<String> = client
            .confirm_totp(&totp.code().await)
            .await
            .unwrap()
            .backup_codes
            .iter()
            .map(|c| c.expose().clone())
            .collect();
        assert_eq!(codes.len(), 10);
        for c in &codes {
            self.secret("backup code", c);
            self.secret("backup code (no dashes)", c.replace('-', ""));
        }
        (totp, codes)
    }

    /// Someone invited with `role` who signs up through the mailed link and turns 2FA on.
    async fn approver(&mut self, owner: &Client) -> (Client, Totp) {
        let email = unique_email("approver");
        owner.invite(&email, Role::Approver).await.unwrap();
        let link = self.link(&email, "/signup");
        let token = link.split("invitation=").nth(1).unwrap().to_owned();
        self.c.link_tokens.add("invitation token", &token);
        let (email, password) = self.signup_as(&email, Some(token)).await;
        let client = self.session(&email, &password).await;
        let (totp, _) = self.enroll(&client).await;
        (client, totp)
    }

    async fn signup_as(&mut self, email: &str, invitation: Option<String>) -> (String, String) {
        let password = PASSWORDS[self.next_password].to_owned();
        self.next_password += 1;
        self.secret("password", &password);
        self.base()
            .signup(&SignupRequest {
                email: email.to_owned(),
                password: Sensitive::new(password.clone()),
                display_name: None,
                invitation: invitation.map(Sensitive::new),
            })
            .await
            .unwrap();
        (email.to_owned(), password)
    }

    async fn put(&mut self, owner: &Client, path: &str, value: &str, tier: Tier) {
        self.secret("secret value", value);
        owner
            .put_secret(&p(path), value, None, Some(tier))
            .await
            .unwrap();
    }

    /// Read as `agent`, which must first be told to wait for approval; the id.
    async fn ask(agent: &Client, path: &str) -> String {
        let e = agent.get_secret(&p(path), None).await.unwrap_err();
        assert_eq!(e.status(), Some(403), "{e:?}");
        e.extra_str("approval_id").unwrap().to_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credential_or_secret_value_reaches_logs_database_wal_or_outbox() {
    let dir = tempfile::tempdir().unwrap();
    // The most verbose logging the server has: every crate at trace.
    let server = ServerProcess::spawn(dir.path(), &[("KEYHOLD_LOG", "trace")]);
    let mut s = Scenario {
        server,
        dir: dir.path().to_path_buf(),
        c: Collected {
            everywhere: Needles::new(),
            link_tokens: Needles::new(),
            verification_token: String::new(),
        },
        next_password: 0,
    };

    // Owner: sign-up, email verification, 2FA, sign-in with TOTP.
    let (email, password) = s.signup("owner").await;
    let owner = s.session(&email, &password).await;
    owner.request_email_verification().await.unwrap();
    let link = s.link(&email, "/verify-email");
    let vtoken = link.split("token=").nth(1).unwrap().to_owned();
    s.c.link_tokens.add("verification token", &vtoken);
    s.c.verification_token = vtoken.clone();
    s.base().verify_email(&vtoken).await.unwrap();
    let (mut owner_totp, owner_codes) = s.enroll(&owner).await;
    let ticket = match s.login(&email, &password).await {
        LoginOutcome::MfaRequired { mfa_ticket } => mfa_ticket.expose().clone(),
        LoginOutcome::Session(_) => panic!("2FA is on"),
    };
    let code = owner_totp.code().await;
    let sess = s.base().login_mfa(&ticket, &code).await.unwrap();
    let t = sess.session_token.expose().clone();
    s.secret("session token", &t);
    let owner = s.base().with_token(t);

    // Two approvers with 2FA, invited by mail; no delay on critical grants.
    let (a1, mut a1_totp) = s.approver(&owner).await;
    let (a2, mut a2_totp) = s.approver(&owner).await;
    let mut settings = TenantSettings::default();
    settings.approvals.critical_delay = "0s".into();
    owner.set_tenant_settings(&settings).await.unwrap();

    // Secrets of every tier, one rotated.
    s.put(
        &owner,
        "prod/app/STANDARD",
        "std-value-0f3a9c1e77b2",
        Tier::Standard,
    )
    .await;
    s.put(
        &owner,
        "prod/app/STANDARD",
        "std-value-rotated-5d81ee",
        Tier::Standard,
    )
    .await;
    s.put(
        &owner,
        "prod/app/SENSITIVE",
        "sens-value-4c2b8e90d1a7",
        Tier::Sensitive,
    )
    .await;
    s.put(
        &owner,
        "prod/pay/CRITICAL",
        "crit-value-b7e13a6f0c55",
        Tier::Critical,
    )
    .await;

    // An agent key, a scoped token; the agent writes and reads.
    let k = owner
        .create_key(&key_req(
            "agent",
            &["secrets:read:prod/*", "secrets:write:prod/agent/*"],
        ))
        .await
        .unwrap();
    let key_secret = k.secret.expose().clone();
    s.secret("agent key", &key_secret);
    let agent_key = s.base().with_token(key_secret.clone());
    let tok = agent_key
        .issue_token(&token_req(&[
            "secrets:read:prod/*",
            "secrets:write:prod/agent/*",
        ]))
        .await
        .unwrap();
    s.secret("scoped token", tok.token.expose());
    let agent = s.base().with_token(tok.token.expose().clone());
    s.secret("secret value", "agent-wrote-9a0c33f1e2d4");
    agent
        .put_secret(
            &p("prod/agent/NOTE"),
            "agent-wrote-9a0c33f1e2d4",
            None,
            None,
        )
        .await
        .unwrap();
    let v = agent
        .get_secret(&p("prod/app/STANDARD"), None)
        .await
        .unwrap();
    assert_eq!(v.value.expose(), "std-value-rotated-5d81ee");

    // Sensitive: one approver. Critical: two, each with a fresh TOTP code.
    let id = Scenario::ask(&agent, "prod/app/SENSITIVE").await;
    a1.approve(&id, Some("ok"), None).await.unwrap();
    let v = agent
        .get_secret(&p("prod/app/SENSITIVE"), None)
        .await
        .unwrap();
    assert_eq!(v.value.expose(), "sens-value-4c2b8e90d1a7");
    let id = Scenario::ask(&agent, "prod/pay/CRITICAL").await;
    a1.approve(&id, None, Some(&a1_totp.code().await))
        .await
        .unwrap();
    a2.approve(&id, None, Some(&a2_totp.code().await))
        .await
        .unwrap();
    let v = agent
        .get_secret(&p("prod/pay/CRITICAL"), None)
        .await
        .unwrap();
    assert_eq!(v.value.expose(), "crit-value-b7e13a6f0c55");

    // A second key: its token is revoked by the agent, then the key is reported as leaked.
    let k2 = owner
        .create_key(&key_req("ci", &["secrets:read:prod/app/*"]))
        .await
        .unwrap();
    let k2_secret = k2.secret.expose().clone();
    s.secret("agent key", &k2_secret);
    let agent2 = s.base().with_token(k2_secret.clone());
    let tok2 = agent2
        .issue_token(&token_req(&["secrets:read:prod/app/*"]))
        .await
        .unwrap();
    s.secret("scoped token", tok2.token.expose());
    agent2.revoke_token(&tok2.id).await.unwrap();
    s.base().revoke_leaked(&k2_secret).await.unwrap();

    // Password change, then sign-in with the new password and a backup code.
    owner
        .change_password(&password, OTHER_STRONG_PASSWORD)
        .await
        .unwrap();
    s.secret("new password", OTHER_STRONG_PASSWORD);
    let ticket = match s.login(&email, OTHER_STRONG_PASSWORD).await {
        LoginOutcome::MfaRequired { mfa_ticket } => mfa_ticket.expose().clone(),
        LoginOutcome::Session(_) => panic!("2FA is on"),
    };
    let sess = s.base().login_mfa(&ticket, &owner_codes[0]).await.unwrap();
    let t = sess.session_token.expose().clone();
    s.secret("session token", &t);
    let owner = s.base().with_token(t);

    // Revoke the first key: its token dies with it.
    owner.revoke_key(&k.key.id).await.unwrap();
    assert_eq!(
        agent
            .get_secret(&p("prod/app/STANDARD"), None)
            .await
            .unwrap_err()
            .status(),
        Some(401)
    );
    assert!(owner.audit_verify().await.unwrap().ok);
    owner.logout().await.unwrap();

    // While the server runs (WAL not yet checkpointed) and after a clean stop.
    scan_data_dir(&s.c, dir.path(), "while serving");
    let (status, log) = s.server.terminate();
    assert!(status.success(), "{log}");
    scan_data_dir(&s.c, dir.path(), "after shutdown");
    scan_log(&s.c, &log);
}

/// Every file of the data directory but the master key (itself a secret, by design there).
fn scan_data_dir(c: &Collected, dir: &std::path::Path, when: &str) {
    let files = files_under(dir);
    assert!(
        files.iter().any(|(p, _)| p.ends_with("keyhold.db")),
        "no database in {}",
        dir.display()
    );
    let mut outbox_has_link = false;
    for (path, bytes) in &files {
        if path.ends_with("master.key") {
            continue;
        }
        let place = format!("{} ({when})", path.display());
        c.everywhere.assert_none_in(&place, bytes);
        if path.parent().is_some_and(|d| d.ends_with("outbox")) {
            // Mail bodies may be quoted-printable: search the decoded text as well.
            let decoded = decode_quoted_printable(&String::from_utf8_lossy(bytes));
            c.everywhere
                .assert_none_in(&format!("{place}, decoded"), decoded.as_bytes());
            outbox_has_link |= decoded.contains(&c.verification_token);
        } else {
            c.link_tokens.assert_none_in(&place, bytes);
        }
    }
    assert!(
        outbox_has_link,
        "the search must see the outbox: the verification link is there"
    );
}

fn scan_log(c: &Collected, log: &str) {
    assert!(
        log.lines().count() > 100,
        "trace logging should be verbose: {} lines",
        log.lines().count()
    );
    c.everywhere
        .assert_none_in("the server log", log.as_bytes());
    for line in log.lines() {
        if !line.contains("mail written to outbox") {
            c.link_tokens
                .assert_none_in("the server log", line.as_bytes());
        }
    }
}
