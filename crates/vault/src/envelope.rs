//! Envelope encryption over the store: the tenant's KEKs (created on first use, unwrapped
//! through a cache) and KEK rotation, which re-wraps every data key without touching a
//! ciphertext. Sealing and opening values themselves are `crate::crypto`.

use std::collections::HashMap;
use std::sync::Arc;

use keyhold_core::api::KekRotated;

use crate::Vault;
use crate::audit::NewEvent;
use crate::crypto::{self, IntegrityError, KekCache};
use crate::error::{Error, Result};
use crate::keys::{Key32, Keys};
use crate::store::{KekRow, Store, StoreError};

/// Everything envelope encryption needs, borrowed from the app state (or built by the
/// `kek rotate` command without a running server).
pub struct Envelope<'a> {
    pub store: &'a dyn Store,
    pub keys: &'a Keys,
    pub cache: &'a KekCache,
}

impl<'a> Envelope<'a> {
    pub fn of(st: &'a Vault) -> Self {
        Self {
            store: st.store.as_ref(),
            keys: &st.keys,
            cache: &st.keks,
        }
    }

    /// One KEK version of the tenant, unwrapped (from the cache when possible).
    pub async fn kek(&self, tenant: &str, version: u32) -> Result<Arc<Key32>> {
        if let Some(k) = self.cache.get(tenant, version) {
            return Ok(k);
        }
        let row = self
            .store
            .kek(tenant, version)
            .await?
            .ok_or_else(|| Error::internal(IntegrityError))?;
        self.unwrap_row(&row)
    }

    fn unwrap_row(&self, row: &KekRow) -> Result<Arc<Key32>> {
        let k = Arc::new(
            crypto::unwrap_kek(&self.keys.wrap, &row.tenant_id, row.version, &row.wrapped)
                .map_err(Error::internal)?,
        );
        self.cache.insert(&row.tenant_id, row.version, k.clone());
        Ok(k)
    }

    /// The tenant's current KEK, created on first use.
    pub async fn current_kek(
        &self,
        tenant: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(u32, Arc<Key32>)> {
        let row = match self.store.current_kek(tenant).await? {
            Some(r) => r,
            None => {
                let kek = crypto::new_kek();
                let wrapped =
                    crypto::wrap_kek(&self.keys.wrap, tenant, 1, &kek).map_err(Error::internal)?;
                self.store
                    .insert_first_kek(KekRow {
                        tenant_id: tenant.to_owned(),
                        version: 1,
                        wrapped,
                        created_at: now,
                    })
                    .await?;
                self.store.current_kek(tenant).await?.ok_or_else(|| {
                    Error::internal(anyhow::anyhow!("tenant KEK missing after insert"))
                })?
            }
        };
        if let Some(k) = self.cache.get(tenant, row.version) {
            return Ok((row.version, k));
        }
        Ok((row.version, self.unwrap_row(&row)?))
    }

    /// Give the tenant a new KEK version and re-wrap every data key under it, in one
    /// transaction with `event`; ciphertexts are not touched.
    pub async fn rotate(
        &self,
        tenant: &str,
        now: chrono::DateTime<chrono::Utc>,
        event: NewEvent,
    ) -> Result<KekRotated> {
        self.current_kek(tenant, now).await?;
        let mut old: HashMap<u32, Arc<Key32>> = HashMap::new();
        let mut newest = 0;
        for row in self.store.keks(tenant).await? {
            newest = newest.max(row.version);
            let k = self.unwrap_row(&row)?;
            old.insert(row.version, k);
        }
        let version = newest + 1;
        let new = Arc::new(crypto::new_kek());
        let wrapped =
            crypto::wrap_kek(&self.keys.wrap, tenant, version, &new).map_err(Error::internal)?;
        let (t, n) = (tenant.to_owned(), new.clone());
        let rewrap = Box::new(move |d: &crate::store::DekRef<'_>| {
            let from = old.get(&d.kek_version).ok_or_else(|| {
                StoreError::Other(anyhow::anyhow!(
                    "{}@{} names KEK version {} which does not exist",
                    d.path,
                    d.version,
                    d.kek_version
                ))
            })?;
            crypto::rewrap_dek(from, &n, &t, d.path, d.version, d.wrapped_dek).map_err(|_| {
                StoreError::Other(anyhow::anyhow!(
                    "the data key of {}@{} failed its integrity check",
                    d.path,
                    d.version
                ))
            })
        });
        let row = KekRow {
            tenant_id: tenant.to_owned(),
            version,
            wrapped,
            created_at: now,
        };
        let rewrapped = self.store.rotate_kek(row, rewrap, event).await?;
        self.cache.forget_tenant(tenant);
        self.cache.insert(tenant, version, new);
        Ok(KekRotated {
            kek_version: version,
            rewrapped,
        })
    }
}

/// Forget the unwrapped KEKs of tenants another replica rotated, as the store reports
/// them (`Store::kek_rotations`; PostgreSQL only), so a retired KEK does not outlive its
/// rotation in any replica's memory. An empty tenant, or falling behind, forgets them all.
/// Ends when the vault is dropped or the store stops reporting.
pub fn forget_rotated_keks(vault: &std::sync::Arc<crate::Vault>) {
    let Some(mut rotations) = vault.store.kek_rotations() else {
        return;
    };
    let weak = std::sync::Arc::downgrade(vault);
    tokio::spawn(async move {
        loop {
            let tenant = match rotations.recv().await {
                Ok(t) => Some(t),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => None,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            let Some(vault) = weak.upgrade() else { return };
            match tenant.filter(|t| !t.is_empty()) {
                Some(t) => vault.keks.forget_tenant(&t),
                None => vault.keks.forget_all(),
            }
        }
    });
}
