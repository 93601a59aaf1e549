//! Group commit for the events that come with no write of their own — above all the
//! `secret.read` of every agent read, the hot path. Each is durable before its request is
//! answered, and committing one transaction per read would make every read wait for its
//! own WAL flush while holding its chain's head (`events`): one tenant's reads would then
//! go no faster than the disk flushes. So each replica hands such events to one task that
//! appends everything waiting as one transaction: per chain, one statement locks the head,
//! one inserts the events (ids in order, hashes computed here) and moves the head, then
//! one commit — one flush for the whole batch, whose size follows the load.
//!
//! If a batch fails, each of its events is tried again in a transaction of its own, so a
//! bad event fails alone; a database that is down fails them all (fail closed).
//!
//! Each transaction is reported as SQLite's writer reports its batches (`StoreMetrics`):
//! how many events shared it, and how long it took, from taking a pooled connection to the
//! commit. A request's own write transaction (an event with the write it records) commits
//! on the request's connection and is not counted there.

use std::collections::BTreeMap;
use std::time::Instant;

use deadpool_postgres::Pool;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::errors::{bad, map_pool_err};
use super::events::{AUDIT_CHANNEL, append};
use super::rows::col;
use super::tx::{Acting, Tx, act, begin, commit, row};
use crate::store::StoreResult;
use crate::store::event::{GENESIS_HASH, NewEvent, chain_hash};
use crate::store::metrics::StoreMetrics;

/// Events waiting beyond this many make their callers wait to hand them over.
const QUEUE: usize = 4096;
/// The most events one transaction takes.
const MAX_BATCH: usize = 512;

struct Job {
    event: NewEvent,
    done: oneshot::Sender<StoreResult<()>>,
}

/// The handle the store appends through.
pub(crate) struct Appender {
    jobs: mpsc::Sender<Job>,
    task: JoinHandle<()>,
}

impl Appender {
    pub(crate) fn start(pool: Pool, metrics: StoreMetrics) -> Self {
        let (jobs, rx) = mpsc::channel(QUEUE);
        let task = tokio::spawn(run(pool, rx, metrics));
        Self { jobs, task }
    }

    /// Append `event`; returns once the transaction holding it has committed.
    pub(crate) async fn append(&self, event: NewEvent) -> StoreResult<()> {
        let (done, wait) = oneshot::channel();
        self.jobs
            .send(Job { event, done })
            .await
            .map_err(|_| crate::store::StoreError::Unavailable)?;
        wait.await
            .map_err(|_| crate::store::StoreError::Unavailable)?
    }

    pub(crate) fn stop(&self) {
        self.task.abort();
    }
}

async fn run(pool: Pool, mut rx: mpsc::Receiver<Job>, metrics: StoreMetrics) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let events: Vec<&NewEvent> = batch.iter().map(|j| &j.event).collect();
        match observed(&metrics, &pool, &events).await {
            Ok(()) => {
                for job in batch {
                    let _ = job.done.send(Ok(()));
                }
            }
            Err(_) if batch.len() > 1 => one_by_one(&pool, batch, &metrics).await,
            Err(e) => {
                for job in batch {
                    let _ = job.done.send(Err(clone_err(&e)));
                }
            }
        }
    }
}

/// After a failed batch: each event in a transaction of its own.
async fn one_by_one(pool: &Pool, batch: Vec<Job>, metrics: &StoreMetrics) {
    for job in batch {
        let r = observed(metrics, pool, &[&job.event]).await;
        let _ = job.done.send(r);
    }
}

/// The store's errors are not `Clone`; a batch's callers each get the same kind.
fn clone_err(e: &crate::store::StoreError) -> crate::store::StoreError {
    use crate::store::StoreError as E;
    match e {
        E::NotFound => E::NotFound,
        E::Conflict(c) => E::Conflict(*c),
        E::Busy => E::Busy,
        E::Unavailable => E::Unavailable,
        E::Other(e) => E::Other(anyhow::anyhow!("{e}")),
    }
}

/// [`commit_batch`], reported before anyone is answered (so a caller that then reads
/// `/metrics` sees its commit), whether it committed or not, as the SQLite writer does.
async fn observed(metrics: &StoreMetrics, pool: &Pool, events: &[&NewEvent]) -> StoreResult<()> {
    metrics.batch_jobs.observe(events.len() as f64);
    let started = Instant::now();
    let r = commit_batch(pool, events).await;
    if r.is_ok() {
        let labels: Vec<_> = events
            .iter()
            .map(|e| (e.action, e.severity().as_str()))
            .collect();
        metrics.audit_written(&labels);
    }
    metrics
        .commit_seconds
        .observe(started.elapsed().as_secs_f64());
    if r.is_err() {
        metrics.commit_failures.inc();
    }
    r
}

async fn commit_batch(pool: &Pool, events: &[&NewEvent]) -> StoreResult<()> {
    // Chains in a fixed order, so two replicas' batches never lock heads in opposite orders.
    let mut chains: BTreeMap<String, Vec<&NewEvent>> = BTreeMap::new();
    for e in events {
        chains
            .entry(e.tenant_id.clone().unwrap_or_default())
            .or_default()
            .push(e);
    }
    let Some(first) = chains.keys().next() else {
        return Ok(());
    };
    let mut conn = pool.get().await.map_err(map_pool_err)?;
    let tx = begin(&mut conn, Acting::for_chain(first)).await?;
    for (i, (chain, events)) in chains.iter().enumerate() {
        if i > 0 {
            act(&tx, Acting::for_chain(chain)).await?;
        }
        if events.len() == 1 {
            append(&tx, events[0]).await?;
        } else {
            append_chain(&tx, chain, events).await?;
        }
    }
    commit(tx).await
}

/// Several events of one chain: lock its head, chain them here, insert them in order with
/// one statement that also moves the head and notifies.
async fn append_chain(tx: &Tx<'_>, chain: &str, events: &[&NewEvent]) -> StoreResult<()> {
    let head = row(
        tx,
        "INSERT INTO audit_chain_heads (chain, hash) VALUES ($1, $2)
         ON CONFLICT (chain) DO UPDATE SET chain = EXCLUDED.chain
         RETURNING hash",
        &[&chain, &GENESIS_HASH],
    )
    .await?
    .ok_or_else(|| bad("audit chain head"))?;
    let mut prev: String = col(&head, 0, "audit chain head")?;
    let mut c = Columns::default();
    for e in events {
        let detail = e.detail.to_string();
        let hash = chain_hash(&prev, &e.chain_fields(&detail));
        c.push(e, detail, std::mem::replace(&mut prev, hash.clone()), hash);
    }
    let inserted = row(
        tx,
        "WITH ev AS (
             INSERT INTO audit_events (chain, tenant_id, at, actor_type, actor_id, action,
                 target, outcome, ip, user_agent, detail, prev_hash, hash, severity)
             SELECT $1, t, a, k, ai, ac, tg, o, ip, ua, d, p, h, sv
             FROM unnest($2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[],
                         $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
                         $12::text[], $13::text[], $16::text[])
                  WITH ORDINALITY AS u(t, a, k, ai, ac, tg, o, ip, ua, d, p, h, sv, n)
             ORDER BY n
             RETURNING id
         ), head AS (
             UPDATE audit_chain_heads SET hash = $14 WHERE chain = $1
         )
         SELECT max(id), pg_notify($15, $1 || ':' || max(id)) FROM ev",
        &[
            &chain,
            &c.tenant,
            &c.at,
            &c.kind,
            &c.actor,
            &c.action,
            &c.target,
            &c.outcome,
            &c.ip,
            &c.agent,
            &c.detail,
            &c.prev,
            &c.hash,
            &prev,
            &AUDIT_CHANNEL,
            &c.severity,
        ],
    )
    .await?;
    inserted.map(|_| ()).ok_or_else(|| bad("audit append"))
}

/// The events of one chain as columns, for `unnest`.
#[derive(Default)]
struct Columns {
    tenant: Vec<Option<String>>,
    at: Vec<chrono::DateTime<chrono::Utc>>,
    kind: Vec<&'static str>,
    actor: Vec<Option<String>>,
    action: Vec<&'static str>,
    target: Vec<Option<String>>,
    outcome: Vec<&'static str>,
    ip: Vec<Option<String>>,
    agent: Vec<Option<String>>,
    detail: Vec<String>,
    prev: Vec<String>,
    hash: Vec<String>,
    severity: Vec<&'static str>,
}

impl Columns {
    fn push(&mut self, e: &NewEvent, detail: String, prev: String, hash: String) {
        self.tenant.push(e.tenant_id.clone());
        self.at.push(e.at);
        self.kind.push(e.actor_kind.as_str());
        self.actor.push(e.actor_id.clone());
        self.action.push(e.action);
        self.target.push(e.target.clone());
        self.outcome.push(e.outcome.as_str());
        self.ip.push(e.ip.clone());
        self.agent.push(e.user_agent.clone());
        self.detail.push(detail);
        self.prev.push(prev);
        self.hash.push(hash);
        self.severity.push(e.severity().as_str());
    }
}
