//! Password hashing: argon2id with a pepper, bounded by a semaphore.
//!
//! Each hash takes ~19 MiB and tens of milliseconds of a core, so a burst of logins could
//! otherwise exhaust memory and starve every other request; the semaphore queues them.
//! The queue itself is bounded too: once `max_waiting` callers wait for a permit, further
//! ones are answered 429 at once instead of piling up behind a flood of sign-ins.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use tokio::sync::{Semaphore, SemaphorePermit};

use keyhold_core::password::PolicyVerdict;

use crate::error::{Error, Result};

use crate::keys::Key32;

/// OWASP's argon2id minimum: 19 MiB, 2 passes, 1 lane.
const M_COST_KIB: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

pub struct PasswordHasher {
    pepper: Arc<Key32>,
    permits: Semaphore,
    /// Callers waiting for a permit now, and how many may.
    waiting: AtomicUsize,
    max_waiting: usize,
    /// A real hash of a random password, verified against when the email is unknown so
    /// that an unknown account costs exactly what a wrong password does.
    dummy: String,
    /// argon2 runs so far (hashes and verifications), exported as a metric.
    runs: prometheus_client::metrics::counter::Counter,
}

fn argon(pepper: &Key32) -> anyhow::Result<Argon2<'_>> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None)
        .map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?;
    Argon2::new_with_secret(pepper.bytes(), Algorithm::Argon2id, Version::V0x13, params)
        .map_err(|e| anyhow::anyhow!("argon2 init: {e}"))
}

fn hash_blocking(pepper: &Key32, password: &[u8]) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon(pepper)?
        .hash_password(password, &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2 hash: {e}"))
}

fn verify_blocking(pepper: &Key32, password: &[u8], phc: &str) -> anyhow::Result<bool> {
    let parsed = PasswordHash::new(phc).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
    Ok(argon(pepper)?.verify_password(password, &parsed).is_ok())
}

impl PasswordHasher {
    pub async fn new(
        pepper: Key32,
        concurrency: usize,
        max_waiting: usize,
        runs: prometheus_client::metrics::counter::Counter,
    ) -> anyhow::Result<Self> {
        let pepper = Arc::new(pepper);
        let p = pepper.clone();
        let dummy = tokio::task::spawn_blocking(move || {
            let mut random = [0u8; 32];
            rand::RngCore::fill_bytes(&mut OsRng, &mut random);
            hash_blocking(&p, &random)
        })
        .await??;
        Ok(Self {
            pepper,
            permits: Semaphore::new(concurrency.max(1)),
            waiting: AtomicUsize::new(0),
            max_waiting,
            dummy,
            runs,
        })
    }

    /// A permit to hash now, a place in the bounded queue, or 429 when the queue is full.
    async fn permit(&self) -> Result<SemaphorePermit<'_>> {
        if let Ok(p) = self.permits.try_acquire() {
            return Ok(p);
        }
        let before = self.waiting.fetch_add(1, Ordering::SeqCst);
        let _leave = Leave(&self.waiting);
        if before >= self.max_waiting {
            return Err(Error::RateLimited {
                retry_after_secs: 1,
            });
        }
        self.permits.acquire().await.map_err(Error::internal)
    }

    pub async fn hash(&self, password: &str) -> Result<String> {
        let _permit = self.permit().await?;
        self.runs.inc();
        let pepper = self.pepper.clone();
        let pw = zeroize::Zeroizing::new(password.as_bytes().to_vec());
        Ok(
            tokio::task::spawn_blocking(move || hash_blocking(&pepper, &pw))
                .await
                .map_err(Error::internal)??,
        )
    }

    /// The password policy for a new password (`keyhold_core::password::check`), run under
    /// the same permits and queue as hashing. Why: zxcvbn's estimate of a long, crafted
    /// password takes a large fraction of a second (found by the `json_bodies` fuzz
    /// target; docs/fuzzing.md), which must neither stall an async worker nor be a free
    /// way around the bound on hashing work.
    pub async fn check_policy(&self, password: &str, email: &str) -> Result<PolicyVerdict> {
        let _permit = self.permit().await?;
        let pw = zeroize::Zeroizing::new(password.to_owned());
        let email = email.to_owned();
        tokio::task::spawn_blocking(move || keyhold_core::password::check(&pw, &email))
            .await
            .map_err(Error::internal)
    }

    /// Verify against `phc`, or against the dummy hash when there is no account, so both
    /// cases cost one argon2 run. Returns false for the dummy.
    pub async fn verify(&self, password: &str, phc: Option<&str>) -> Result<bool> {
        let _permit = self.permit().await?;
        self.runs.inc();
        let pepper = self.pepper.clone();
        let pw = zeroize::Zeroizing::new(password.as_bytes().to_vec());
        let known = phc.is_some();
        let target = phc.unwrap_or(&self.dummy).to_owned();
        let ok = tokio::task::spawn_blocking(move || verify_blocking(&pepper, &pw, &target))
            .await
            .map_err(Error::internal)??;
        Ok(ok && known)
    }
}

/// Leaves the wait count when the caller got its permit, gave up or was cancelled.
struct Leave<'a>(&'a AtomicUsize);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_verify_and_pepper() {
        let h = PasswordHasher::new(Key32::test([3; 32]), 2, 8, Default::default())
            .await
            .unwrap();
        let phc = h.hash("correct horse battery staple").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            h.verify("correct horse battery staple", Some(&phc))
                .await
                .unwrap()
        );
        assert!(
            !h.verify("wrong horse battery staple", Some(&phc))
                .await
                .unwrap()
        );
        assert!(!h.verify("anything", None).await.unwrap());
        let other = PasswordHasher::new(Key32::test([4; 32]), 1, 8, Default::default())
            .await
            .unwrap();
        assert!(
            !other
                .verify("correct horse battery staple", Some(&phc))
                .await
                .unwrap(),
            "a different pepper must not verify"
        );
    }

    /// The strength check of a new password shares the hashing bound: with the only
    /// permit taken and no queue, it is refused at once; with the permit back, it runs.
    #[tokio::test]
    async fn the_policy_check_waits_for_a_hashing_permit() {
        let h = PasswordHasher::new(Key32::test([6; 32]), 1, 0, Default::default())
            .await
            .unwrap();
        let held = h.permits.acquire().await.unwrap();
        match h
            .check_policy("violet anchor quietly juggles seven kites", "a@example.com")
            .await
        {
            Err(Error::RateLimited { .. }) => {}
            other => panic!("expected 429 while hashing is saturated, got {other:?}"),
        }
        drop(held);
        let verdict = h
            .check_policy("violet anchor quietly juggles seven kites", "a@example.com")
            .await
            .unwrap();
        assert!(verdict.is_ok(), "{verdict:?}");
        let weak = h.check_policy("password", "a@example.com").await.unwrap();
        assert!(!weak.is_ok());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_full_queue_is_refused_at_once_and_frees_up_afterwards() {
        let h = Arc::new(
            PasswordHasher::new(Key32::test([5; 32]), 1, 2, Default::default())
                .await
                .unwrap(),
        );
        // Hold the only permit so every caller queues.
        let held = h.permits.acquire().await.unwrap();
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let h = h.clone();
                tokio::spawn(async move { h.verify("pw", None).await })
            })
            .collect();
        while h.waiting.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        match h.verify("pw", None).await {
            Err(Error::RateLimited { retry_after_secs }) => assert_eq!(retry_after_secs, 1),
            other => panic!("expected 429, got {other:?}"),
        }
        assert_eq!(
            h.waiting.load(Ordering::SeqCst),
            2,
            "the refused caller left"
        );
        drop(held);
        for w in waiters {
            assert!(!w.await.unwrap().unwrap());
        }
        assert_eq!(h.waiting.load(Ordering::SeqCst), 0);
        assert!(!h.verify("pw", None).await.unwrap());
    }
}
