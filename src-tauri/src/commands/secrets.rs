//! The Secrets page: browse metadata, write or rotate a value, change a tier, delete, and
//! read a value through the approval gate. A value read stays in Rust
//! (`state::OpenedSecret`): the page gets it only on Reveal, Copy goes straight to the
//! clipboard (cleared after 30 s), and leaving the secret wipes it.

use keyhold_core::Sensitive;
use keyhold_core::api::Role;
use tauri::{AppHandle, State};

use super::{credentials, expire_on_401};
use crate::backend::secrets::{self as backend, Read, parse_kind, parse_path, parse_tier};
use crate::clipboard;
use crate::error::{CommandError, CommandResult, ErrorKind};
use crate::state::{AppState, OpenedSecret};
use crate::view::ApprovalView;
use crate::view::secrets::{
    DeleteOutcome, InvitationView, ReadOutcome, SecretDetailsView, SecretSummaryView, SecretWrite,
    WriteOutcome,
};

/// The signed-in person's user id.
async fn my_id(state: &AppState) -> CommandResult<String> {
    Ok(state.inner.lock().await.session()?.view.user.id.clone())
}

/// Every secret below `prefix` (a folder such as `prod/`, or "" for all): metadata only.
#[tauri::command]
#[specta::specta]
pub async fn list_secrets(
    state: State<'_, AppState>,
    prefix: String,
) -> CommandResult<Vec<SecretSummaryView>> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::list(&server, &token, &prefix).await).await
}

/// A secret's type, tier and versions, with who wrote each and when.
#[tauri::command]
#[specta::specta]
pub async fn secret_details(
    state: State<'_, AppState>,
    path: String,
) -> CommandResult<SecretDetailsView> {
    let path = parse_path(&path)?;
    let (server, token) = credentials(&state).await?;
    let me = my_id(&state).await?;
    expire_on_401(&state, backend::details(&server, &token, &path, &me).await).await
}

/// Write a new version: a new secret, a rotation or a tier change. A new version of a
/// tiered secret needs the sudo window (`reauth_required`: the page asks for a code, calls
/// `reauthenticate` and tries again); lowering a tier needs an approval.
#[tauri::command]
#[specta::specta]
pub async fn write_secret(
    state: State<'_, AppState>,
    secret: SecretWrite,
) -> CommandResult<WriteOutcome> {
    let SecretWrite {
        path,
        value,
        kind,
        tier,
    } = secret;
    let value = Sensitive::new(value);
    let path = parse_path(&path)?;
    if value.expose().is_empty() {
        return Err(CommandError::invalid("Enter the value to store."));
    }
    let kind = kind
        .filter(|k| !k.is_empty())
        .map(|k| parse_kind(&k))
        .transpose()?;
    let tier = tier
        .filter(|t| !t.is_empty())
        .map(|t| parse_tier(&t))
        .transpose()?;
    let (server, token) = credentials(&state).await?;
    let result = backend::write(&server, &token, &path, &value, kind, tier).await;
    expire_on_401(&state, result).await
}

/// Read the current value. A standard secret opens at once; a tiered one answers with the
/// approval request the server opened, until it is granted and its delay has passed. The
/// value is held in Rust, never returned here.
#[tauri::command]
#[specta::specta]
pub async fn read_secret(state: State<'_, AppState>, path: String) -> CommandResult<ReadOutcome> {
    let path = parse_path(&path)?;
    let (server, token) = credentials(&state).await?;
    let me = my_id(&state).await?;
    state.hold_opened(None);
    match expire_on_401(&state, backend::read(&server, &token, &path).await).await? {
        Read::Value(v) => {
            let opened = ReadOutcome::Opened {
                path: v.path.to_string(),
                version: v.version,
                kind: v.kind.as_str().to_owned(),
                tier: v.tier.as_str().to_owned(),
            };
            state.hold_opened(Some(OpenedSecret {
                user_id: me,
                path: v.path.to_string(),
                value: v.value,
            }));
            Ok(opened)
        }
        Read::ApprovalRequired(approval) => Ok(ReadOutcome::ApprovalRequired { approval }),
    }
}

fn held(state: &AppState, me: &str, path: &str) -> CommandResult<Sensitive<String>> {
    state.opened_value(me, path).ok_or_else(|| {
        CommandError::new(
            ErrorKind::NotFound,
            "The value is no longer open here. Read it again (a tiered secret needs a new approval).",
        )
    })
}

/// Show the value read last (the person clicked Reveal).
#[tauri::command]
#[specta::specta]
pub async fn reveal_secret(state: State<'_, AppState>, path: String) -> CommandResult<String> {
    let me = my_id(&state).await?;
    Ok(held(&state, &me, &path)?.expose().clone())
}

/// Copy the value read last to the clipboard, from Rust; it is cleared after 30 s if the
/// clipboard still holds it.
#[tauri::command]
#[specta::specta]
pub async fn copy_secret(
    app: AppHandle,
    state: State<'_, AppState>,
    path: String,
) -> CommandResult<()> {
    let me = my_id(&state).await?;
    let value = held(&state, &me, &path)?;
    clipboard::copy_then_clear(clipboard::System(app), value, clipboard::CLEAR_AFTER)
        .await
        .map_err(|e| CommandError::new(ErrorKind::Internal, format!("Copy failed: {e}.")))
}

/// The person left the secret: wipe the value held for it.
#[tauri::command]
#[specta::specta]
pub fn forget_secret(state: State<'_, AppState>) {
    state.hold_opened(None);
}

/// Delete a secret and all its versions. A tiered one needs an approval first.
#[tauri::command]
#[specta::specta]
pub async fn delete_secret(
    state: State<'_, AppState>,
    path: String,
) -> CommandResult<DeleteOutcome> {
    let path = parse_path(&path)?;
    let (server, token) = credentials(&state).await?;
    let outcome = expire_on_401(&state, backend::delete(&server, &token, &path).await).await?;
    if matches!(outcome, DeleteOutcome::Deleted) {
        state.hold_opened(None);
    }
    Ok(outcome)
}

/// Where an approval request stands: votes, status, and when a grant is usable.
#[tauri::command]
#[specta::specta]
pub async fn approval_status(
    state: State<'_, AppState>,
    id: String,
) -> CommandResult<ApprovalView> {
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::approval(&server, &token, &id).await).await
}

/// Invite someone to the team by email (the link travels by mail). Needs the sudo window.
#[tauri::command]
#[specta::specta]
pub async fn invite_member(
    state: State<'_, AppState>,
    email: String,
    role: String,
) -> CommandResult<InvitationView> {
    let email = email.trim().to_owned();
    if !email.contains('@') || email.starts_with('@') || email.ends_with('@') {
        return Err(CommandError::invalid("Enter the email address to invite."));
    }
    let role = Role::parse(&role)
        .ok_or_else(|| CommandError::invalid("Choose a role: owner, admin, approver or member."))?;
    let (server, token) = credentials(&state).await?;
    expire_on_401(&state, backend::invite(&server, &token, &email, role).await).await
}
