//! `keyhold-server admin …`: what only the server's operator can do, on the server host
//! (docs/operations.md, "Account recovery"). Works on the database directly, beside a
//! serving server, like `kek rotate`.

use std::sync::Arc;

use keyhold_vault::clock::Clock;
use keyhold_vault::events::worker;
use keyhold_vault::recovery::{self, OperatorReset};

use crate::config::Config;

/// How long the command waits for the outbox to deliver its notice before it exits.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(5);

/// `keyhold-server admin reset-2fa EMAIL`: turn off the 2FA of the account of `email`.
/// An unknown address or a vault that cannot be opened is an error (exit status 1).
pub async fn reset_2fa(
    config: Config,
    email: &str,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<OperatorReset> {
    let db = config.db_path();
    if config.database_url.is_none() && !db.exists() {
        anyhow::bail!("no database at {}", db.display());
    }
    crate::require_master_key(&config)?;
    let state = crate::build_state(config, clock).await?;
    let done = recovery::reset_mfa_by_operator(&state.vault, email).await;
    if done.is_ok() {
        // The notice waits in the outbox with the event. Deliver what is due now (no
        // worker runs in this process); whatever cannot go yet, a serving replica's worker
        // retries.
        if let Err(e) = worker::settle(&state.vault, SETTLE).await {
            tracing::warn!(error = %e, "the notice stays in the outbox for the server to send");
        }
    }
    state.vault.store.close().await?;
    done.map_err(|e| match e {
        keyhold_vault::Error::NotFound => anyhow::anyhow!("no account has the address {email}"),
        keyhold_vault::Error::Invalid { message, .. } => anyhow::anyhow!("{message}"),
        other => anyhow::anyhow!("resetting two-factor authentication failed: {other}"),
    })
}
