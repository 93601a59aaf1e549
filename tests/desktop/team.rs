//! The people and the agent around the approvals part of the scenario, set up over the
//! API as their own apps would: Ada (who uses the desktop app) invites Bob, an approver
//! with 2FA, and Carol, an admin whose agent key asks for a critical secret.

use anyhow::{Context, Result, bail, ensure};
use keyhold_client::{Client, LoginOutcome};
use keyhold_core::Sensitive;
use keyhold_core::api::{CreateKeyRequest, Role, SignupRequest};
use keyhold_core::path::SecretPath;
use keyhold_core::scope::Scope;
use keyhold_core::tier::Tier;
use keyhold_e2e::{STRONG_PASSWORD, TestServer, oathtool, unique_email};
use keyhold_vault::clock::Clock;

use crate::{Person, next_code};

pub const SECRET_PATH: &str = "prod/stripe/api-key";
const SECRET_VALUE: &str = "sk_live_e2e_only_not_a_real_key";

pub struct Team<'a> {
    server: &'a TestServer,
    /// Bob signs in to the app after Ada.
    pub bob: Person,
    /// Carol, an admin with 2FA, who "loses her phone" in the Settings scenario.
    pub carol_email: String,
    /// Bob and Carol over the API, each with 2FA: the two approvers of Ada's own request.
    approvers: Vec<(Client, String)>,
    agent: Client,
}

/// Ada's API session: password, then a fresh TOTP code.
pub async fn sign_in_with_2fa(server: &TestServer, who: &Person) -> Result<Client> {
    let secret = who.totp.as_deref().context("2FA is not on")?;
    match server.client().login(&who.email, &who.password).await? {
        LoginOutcome::MfaRequired { mfa_ticket } => {
            let s = server
                .client()
                .login_mfa(mfa_ticket.expose(), &next_code(server, secret))
                .await?;
            Ok(server.client().with_token(s.session_token.expose().clone()))
        }
        LoginOutcome::Session(_) => bail!("2FA is on, yet the password alone signed in"),
    }
}

/// Invite `email` with `role`; they sign up through the mailed link and sign in.
async fn join(
    server: &TestServer,
    inviter: &Client,
    name: &str,
    role: Role,
) -> Result<(String, Client)> {
    let email = unique_email(&name.to_lowercase().replace(' ', "."));
    inviter.invite(&email, role).await?;
    let link = server
        .mailed_link(&email, "/signup")
        .await
        .context("no invitation in the outbox")?;
    let token = link
        .split("invitation=")
        .nth(1)
        .context("the invitation link has no token")?
        .to_owned();
    server
        .client()
        .signup(&SignupRequest {
            email: email.clone(),
            password: Sensitive::new(STRONG_PASSWORD.to_owned()),
            display_name: Some(name.to_owned()),
            invitation: Some(Sensitive::new(token)),
        })
        .await?;
    match server.client().login(&email, STRONG_PASSWORD).await? {
        LoginOutcome::Session(s) => Ok((
            email,
            server.client().with_token(s.session_token.expose().clone()),
        )),
        LoginOutcome::MfaRequired { .. } => bail!("a new account asked for 2FA"),
    }
}

impl<'a> Team<'a> {
    pub async fn assemble(server: &'a TestServer, ada: &Person) -> Result<Self> {
        let ada_api = sign_in_with_2fa(server, ada).await?;

        let (bob_email, bob) = join(server, &ada_api, "Bob Babbage", Role::Approver).await?;
        let enrollment = bob.start_totp_enrollment().await?;
        let bob_secret = enrollment.secret.expose().clone();
        bob.confirm_totp(&oathtool(&bob_secret, server.clock.now()))
            .await?;

        let (carol_email, carol) = join(server, &ada_api, "Carol Cray", Role::Admin).await?;
        let enrollment = carol.start_totp_enrollment().await?;
        let carol_secret = enrollment.secret.expose().clone();
        carol
            .confirm_totp(&oathtool(&carol_secret, server.clock.now()))
            .await?;
        let path = SecretPath::parse(SECRET_PATH).context("secret path")?;
        carol
            .put_secret(&path, SECRET_VALUE, None, Some(Tier::Critical))
            .await?;
        let key = carol
            .create_key(&CreateKeyRequest {
                name: "billing-agent".to_owned(),
                scopes: vec![Scope::parse("secrets:read:prod/stripe/*").context("scope")?],
                expires_in: Some("720h".to_owned()),
                ip_allowlist: None,
                public_key: None,
            })
            .await?;
        Ok(Self {
            server,
            bob: Person {
                email: bob_email,
                password: STRONG_PASSWORD.to_owned(),
                totp: Some(bob_secret.clone()),
            },
            carol_email,
            approvers: vec![(bob, bob_secret), (carol, carol_secret)],
            agent: server.client().with_token(key.secret.expose().clone()),
        })
    }

    /// Bob's own API session, as his own app would hold it.
    pub fn bob_api(&self) -> Result<&Client> {
        self.approvers.first().map(|(c, _)| c).context("no Bob")
    }

    /// Carol's (an admin) API session: to read back what Ada changed in the app.
    pub fn admin_api(&self) -> Result<&Client> {
        self.approvers.get(1).map(|(c, _)| c).context("no Carol")
    }

    /// Approver `n` (0: Bob, 1: Carol) approves request `id` over the API with a fresh TOTP
    /// code, as their own app would.
    pub async fn approve(&self, n: usize, id: &str) -> Result<()> {
        let (client, secret) = self.approvers.get(n).context("no such approver")?;
        client
            .approve(
                id,
                Some("Checked with Ada."),
                Some(&next_code(self.server, secret)),
            )
            .await?;
        Ok(())
    }

    /// The agent reads the critical secret and is told to wait for approval: the request id.
    pub async fn agent_asks(&self) -> Result<String> {
        let path = SecretPath::parse(SECRET_PATH).context("secret path")?;
        let e = match self.agent.get_secret(&path, None).await {
            Ok(_) => bail!("a critical secret opened without approval"),
            Err(e) => e,
        };
        ensure!(
            e.code() == Some(keyhold_core::ErrorCode::ApprovalRequired),
            "the agent got {e:?}"
        );
        Ok(e.extra_str("approval_id")
            .context("no approval id in the answer")?
            .to_owned())
    }

    /// After both approvals and the critical delay, the agent reads the value once.
    pub async fn agent_reads(&self, id: &str) -> Result<()> {
        let seen = self.agent.approval(id).await?;
        ensure!(
            seen.status == keyhold_core::api::ApprovalStatus::Approved,
            "the request is {:?} after two approvals",
            seen.status
        );
        if let Some(at) = seen.available_at {
            let wait = at - self.server.clock.now();
            if wait > chrono::Duration::zero() {
                self.server.clock.advance(wait);
            }
        }
        let path = SecretPath::parse(SECRET_PATH).context("secret path")?;
        let value = self.agent.get_secret(&path, None).await?;
        ensure!(
            value.value.expose() == SECRET_VALUE,
            "the agent read another value"
        );
        Ok(())
    }
}
