//! `keyhold members list|invite|role|remove|reset-2fa|invitations [list|create|revoke]`.
//!
//! Invitations, role changes, removals and revoking an invitation need a sign-in from the
//! last 10 minutes; like `keys create`, the CLI does not sign in again by itself but says
//! so (exit 3) and changes nothing.

use keyhold_client::Client;
use keyhold_core::api::{Member, Role};

use crate::cli::{InvitationsCommand, MembersCommand};
use crate::commands::auth::yes_no;
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::output;

/// The member named by id or, when it has an `@`, by email (case-insensitive).
async fn find(client: &Client, who: &str) -> CliResult<Member> {
    let who = who.trim();
    if who.is_empty() {
        return Err(CliError::Usage("Name the member by id or email.".into()));
    }
    let members = client.members().await?;
    members
        .into_iter()
        .find(|m| {
            if who.contains('@') {
                m.email.eq_ignore_ascii_case(who)
            } else {
                m.id == who
            }
        })
        .ok_or_else(|| CliError::NotFound(format!("No member {who} in your tenant.")))
}

pub async fn run(ctx: &Ctx, cmd: &MembersCommand) -> CliResult<()> {
    let client = ctx.authed()?;
    match cmd {
        MembersCommand::List => {
            let members = client.members().await?;
            if ctx.json {
                return output::json(&members);
            }
            output::table(
                &["id", "email", "name", "role", "2fa", "joined"],
                members
                    .iter()
                    .map(|m| {
                        vec![
                            m.id.clone(),
                            m.email.clone(),
                            output::opt(&m.display_name),
                            m.role.as_str().to_owned(),
                            yes_no(m.mfa_enabled),
                            output::time(&m.created_at),
                        ]
                    })
                    .collect(),
            );
            Ok(())
        }
        MembersCommand::Invite { email, role } => invite(ctx, &client, email, *role).await,
        MembersCommand::Role { member, role } => {
            let m = find(&client, member).await?;
            let m = client.set_role(&m.id, *role).await?;
            if ctx.json {
                return output::json(&m);
            }
            println!("{} is now {}.", m.email, m.role.as_str());
            Ok(())
        }
        MembersCommand::Remove { member } => {
            let m = find(&client, member).await?;
            client.remove_member(&m.id).await?;
            if ctx.json {
                return output::json(&serde_json::json!({ "removed": m }));
            }
            println!(
                "Removed {}: their sessions ended, their agent keys and tokens are revoked \
                 and the invitations they sent are void.",
                m.email
            );
            Ok(())
        }
        MembersCommand::Reset2fa { member } => reset_2fa(ctx, &client, member).await,
        MembersCommand::Invitations { command } => invitations(ctx, &client, command).await,
    }
}

/// `members invite` and `members invitations create`: mail a link to join with `role`.
async fn invite(ctx: &Ctx, client: &Client, email: &str, role: Role) -> CliResult<()> {
    let email = email.trim();
    if email.is_empty() || !email.contains('@') {
        return Err(CliError::Usage(format!(
            "{email:?} is not an email address. Nothing was sent."
        )));
    }
    let inv = client.invite(email, role).await?;
    if ctx.json {
        return output::json(&inv);
    }
    println!(
        "Invited {} as {}; the mailed link is valid until {}.",
        inv.email,
        inv.role.as_str(),
        output::time(&inv.expires_at)
    );
    Ok(())
}

/// Turn off another member's 2FA, proven with the caller's own current code.
async fn reset_2fa(ctx: &Ctx, client: &Client, who: &str) -> CliResult<()> {
    let m = find(client, who).await?;
    let code = crate::commands::mfa::code("Your current code from your authenticator app")?;
    client.reset_member_mfa(&m.id, &code).await?;
    if ctx.json {
        return output::json(&serde_json::json!({ "mfa_reset": m }));
    }
    println!(
        "Two-factor authentication is off for {}; they were mailed and can turn it on again.",
        m.email
    );
    Ok(())
}

/// `keyhold members invitations [list]` and `keyhold members invitations revoke ID`.
async fn invitations(
    ctx: &Ctx,
    client: &Client,
    command: &Option<InvitationsCommand>,
) -> CliResult<()> {
    match command {
        None | Some(InvitationsCommand::List) => {
            let items = client.all_pending_invitations().await?;
            if ctx.json {
                return output::json(&items);
            }
            if items.is_empty() {
                println!("No pending invitations.");
                return Ok(());
            }
            output::table(
                &["id", "email", "role", "invited by", "sent", "expires"],
                items
                    .iter()
                    .map(|i| {
                        vec![
                            i.id.clone(),
                            i.email.clone(),
                            i.role.as_str().to_owned(),
                            i.invited_by.label().to_owned(),
                            output::time(&i.created_at),
                            output::time(&i.expires_at),
                        ]
                    })
                    .collect(),
            );
            Ok(())
        }
        Some(InvitationsCommand::Create { email, role }) => invite(ctx, client, email, *role).await,
        Some(InvitationsCommand::Revoke { id }) => {
            let id = id.trim();
            if id.is_empty() {
                return Err(CliError::Usage(
                    "Name the invitation by its id (`keyhold members invitations`).".into(),
                ));
            }
            client.revoke_invitation(id).await?;
            if ctx.json {
                return output::json(&serde_json::json!({ "revoked": id }));
            }
            println!("Revoked invitation {id}: its link no longer signs anyone up.");
            Ok(())
        }
    }
}
