//! The detector's background work, every [`super::REFRESH_EVERY`]: refresh the in-memory
//! copies of the tenants' rules and the blocks in force from the store (so a block made
//! or lifted on another replica applies here within seconds), and verify each tenant's
//! audit chain when its `audit_chain` rule's interval (an hour by default) has passed on
//! the vault's clock, which tests move by hand.
//!
//! A chain that fails verification raises one critical alert when it is first found
//! broken (and again after a restart of this server, or once it verified and broke again),
//! not one every interval.

use std::sync::{Arc, Weak};

use crate::Vault;
use crate::error::Result;

use super::respond::{self, Firing};
use super::rules::Rule;

/// Start the background work; it ends when the vault is dropped.
pub fn spawn(v: &Arc<Vault>) -> tokio::task::JoinHandle<()> {
    let weak = Arc::downgrade(v);
    tokio::spawn(run(weak))
}

async fn run(weak: Weak<Vault>) {
    loop {
        let Some(v) = weak.upgrade() else { return };
        if let Err(e) = pass(&v).await {
            tracing::warn!(error = %e, "detection refresh failed");
        }
        drop(v);
        tokio::time::sleep(super::REFRESH_EVERY).await;
    }
}

/// One refresh and one look at the chain schedule.
pub async fn pass(v: &Vault) -> Result<()> {
    refresh(v).await?;
    check_chains(v).await
}

/// Reload the rules and the blocks in force.
pub async fn refresh(v: &Vault) -> Result<()> {
    let now = v.clock.now();
    let rules = v.store.all_alert_rules().await?;
    v.detector.replace_rules(rules);
    let blocks = v.store.active_blocks(now).await?;
    v.detector.replace_blocks(&blocks);
    Ok(())
}

/// Verify every tenant whose interval has passed since its last check (a tenant seen for
/// the first time is checked one interval later, not at start-up).
async fn check_chains(v: &Vault) -> Result<()> {
    let now = v.clock.now();
    for tenant in v.store.tenant_ids().await? {
        let s = v.detector.setting(&tenant, Rule::AuditChain);
        let (due, was_ok) = {
            let Ok(mut chains) = v.detector.chains.lock() else {
                return Ok(());
            };
            let entry = chains.entry(tenant.clone()).or_insert((now, true));
            (s.enabled && now >= entry.0 + s.window, entry.1)
        };
        if !due {
            continue;
        }
        let r = v.store.audit_verify(&tenant).await?;
        if let Ok(mut chains) = v.detector.chains.lock() {
            chains.insert(tenant.clone(), (now, r.ok));
        }
        if !r.ok && was_ok {
            let msg = format!(
                "The audit log failed its scheduled verification: event {} does not match \
                 the hash chain. Someone may have edited the database.",
                r.first_bad
                    .map_or_else(|| "?".to_owned(), |i| i.to_string())
            );
            respond::fire(
                v,
                Firing::new(Rule::AuditChain, &tenant, msg, format!("tenant:{tenant}")),
            )
            .await;
        }
    }
    Ok(())
}
