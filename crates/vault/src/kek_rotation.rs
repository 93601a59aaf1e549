//! Tenant KEK rotations the server does on its own (docs/encryption.md, "Rotation"):
//! `keyhold-server kek rotate` by hand and `--kek-rotate-every` on a schedule. Both go
//! through [`rotate_as_system`], so both are audited alike: `kek.rotated` by the System
//! actor, or a `failure` with nothing changed when a data key fails its integrity check.

use chrono::{DateTime, Duration, Utc};
use keyhold_core::api::KekRotated;

use crate::Vault;
use crate::audit::{ActorKind, ClientInfo, NewEvent, Outcome};
use crate::envelope::Envelope;
use crate::error::Result;

/// Rotate `tenant`'s KEK in one audited transaction, acting as `actor` (which command or
/// schedule did it: the audit log's actor id).
pub async fn rotate_as_system(
    envelope: &Envelope<'_>,
    tenant: &str,
    now: DateTime<Utc>,
    actor: &str,
) -> Result<KekRotated> {
    let base = NewEvent::new("kek.rotated", now, &ClientInfo::default())
        .tenant(tenant)
        .actor(ActorKind::System, actor)
        .target(format!("tenant:{tenant}"));
    match envelope.rotate(tenant, now, base.clone()).await {
        Ok(r) => Ok(r),
        Err(e) => {
            envelope
                .store
                .append_event(
                    base.outcome(Outcome::Failure)
                        .detail("reason", "rewrap_failed"),
                )
                .await?;
            Err(e)
        }
    }
}

/// The actor id of scheduled rotations, naming the interval that made them due.
pub fn schedule_actor(every: Duration) -> String {
    format!(
        "keyhold-server --kek-rotate-every {}",
        keyhold_core::duration::format(every)
    )
}

/// Rotate every tenant whose current KEK is `every` old or older (by the vault's clock).
/// Each tenant on its own: one that fails is reported and the others still rotate.
/// Replicas that run this together may race for a tenant; the store lets one rotation
/// commit and refuses the other (`Conflict::RotationRaced`), which is reported here.
pub async fn rotate_due(
    vault: &Vault,
    every: Duration,
) -> Result<Vec<(String, Result<KekRotated>)>> {
    let envelope = Envelope::of(vault);
    let actor = schedule_actor(every);
    let mut done = Vec::new();
    for tenant in vault.store.kek_tenants().await? {
        let now = vault.clock.now();
        let Some(current) = vault.store.current_kek(&tenant).await? else {
            continue;
        };
        if now - current.created_at < every {
            continue;
        }
        let r = rotate_as_system(&envelope, &tenant, now, &actor).await;
        done.push((tenant, r));
    }
    Ok(done)
}

/// Run [`rotate_due`] every `check` (real time; the due test reads the vault's clock)
/// until the vault is dropped or the task aborted. Each rotation and each failure is
/// logged with its tenant; what failed is tried again at the next check.
pub fn spawn_schedule(
    vault: &std::sync::Arc<Vault>,
    every: Duration,
    check: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    let weak = std::sync::Arc::downgrade(vault);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(check);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(vault) = weak.upgrade() else { return };
            match rotate_due(&vault, every).await {
                Ok(done) => {
                    for (tenant, r) in done {
                        match r {
                            Ok(r) => tracing::info!(
                                %tenant,
                                kek_version = r.kek_version,
                                rewrapped = r.rewrapped,
                                "rotated a tenant KEK on schedule"
                            ),
                            Err(e) => tracing::warn!(
                                %tenant,
                                error = %e,
                                "a scheduled KEK rotation failed; it is tried again at the next check"
                            ),
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "the KEK schedule could not list the tenants"),
            }
        }
    })
}
