//! Reference servers for the secret-read benchmark (bench/secret_read.py `--floor`). Not
//! part of the product.
//!
//! `http_floor` answers `GET /v1/secrets/...` with a constant body of the same shape and
//! size as the vault's, on the same runtime, allocator and framework, and does nothing else:
//! no credential, no store, no crypto, no audit. Its CPU per request is what any axum
//! server pays on the machine for the socket and HTTP alone.
//!
//! `http_floor --audit DIR` also appends one `secret.read`-shaped event per request to the
//! vault's own store in DIR (`SqliteStore`: hash chain, group commit, `synchronous=FULL`)
//! and answers only once it is durable, which is invariant 7 and nothing more. The
//! difference between the two is the price of the durable audit log on this machine's disk.
//!
//! `http_floor --raw-audit DIR` is the least any SQLite-backed server can do for the same
//! guarantee: one small row per request (no hash chain, no index, no JSON) into a WAL-mode
//! database with `synchronous=FULL`, group-committed by one writer thread, the answer sent
//! once the commit is durable.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use keyhold_vault::audit::{ActorKind, ClientInfo, NewEvent};
use keyhold_vault::clock::{Clock, SystemClock};
use keyhold_vault::store::AuditStore;
use keyhold_vault::store::sqlite::SqliteStore;
use tokio::sync::{mpsc, oneshot};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BODY: &str = concat!(
    r#"{"path":"production/gemini/API_KEY","version":1,"#,
    r#""value":"AIzaxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","type":"api_key","tier":"standard"}"#
);

/// Where each request's event goes before the answer.
#[derive(Clone)]
enum Audit {
    None,
    Store(Arc<SqliteStore>),
    Raw(mpsc::Sender<oneshot::Sender<bool>>),
}

async fn secret(State(audit): State<Audit>) -> Response {
    if let Audit::Raw(queue) = &audit {
        let (done, durable) = oneshot::channel();
        if queue.send(done).await.is_err() || !durable.await.unwrap_or(false) {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    if let Audit::Store(store) = audit {
        let client = ClientInfo {
            ip: Some("127.0.0.1".into()),
            user_agent: None,
        };
        let event = NewEvent::new("secret.read", SystemClock.now(), &client)
            .tenant("00000000-0000-0000-0000-000000000001")
            .actor(ActorKind::Token, "00000000-0000-0000-0000-000000000002")
            .detail("key_id", "00000000-0000-0000-0000-000000000003")
            .target("secret:production/gemini/API_KEY")
            .detail("version", 1);
        if store.append_event(event).await.is_err() {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        BODY,
    )
        .into_response()
}

/// Group commit at its barest: take every waiting request, insert a row for each in one
/// transaction, commit (fsync), then answer them all.
fn raw_writer(dir: &Path) -> anyhow::Result<mpsc::Sender<oneshot::Sender<bool>>> {
    let conn = rusqlite::Connection::open(dir.join("raw.db"))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, at_us INTEGER NOT NULL, target TEXT NOT NULL);",
    )?;
    let (queue, mut jobs) = mpsc::channel::<oneshot::Sender<bool>>(4096);
    std::thread::spawn(move || {
        let mut batch = Vec::new();
        while let Some(first) = jobs.blocking_recv() {
            batch.push(first);
            while let Ok(next) = jobs.try_recv() {
                batch.push(next);
            }
            let at = SystemClock.now().timestamp_micros();
            let ok = (|| -> rusqlite::Result<()> {
                let tx = conn.unchecked_transaction()?;
                {
                    let mut insert = tx.prepare_cached(
                        "INSERT INTO events (at_us, target) VALUES (?1, 'secret:production/gemini/API_KEY')",
                    )?;
                    for _ in &batch {
                        insert.execute([at])?;
                    }
                }
                tx.commit()
            })()
            .is_ok();
            for done in batch.drain(..) {
                let _ = done.send(ok);
            }
        }
    });
    Ok(queue)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let audit = match args.as_slice() {
        [] => Audit::None,
        [flag, dir] if flag == "--audit" => {
            std::fs::create_dir_all(dir)?;
            let path = Path::new(dir).join("audit.db");
            Audit::Store(Arc::new(SqliteStore::open(&path)?))
        }
        [flag, dir] if flag == "--raw-audit" => {
            std::fs::create_dir_all(dir)?;
            Audit::Raw(raw_writer(Path::new(dir))?)
        }
        _ => anyhow::bail!("usage: http_floor [--audit DIR | --raw-audit DIR]"),
    };
    let app = Router::new()
        .route("/v1/secrets/{*path}", get(secret))
        .with_state(audit);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
