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

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use keyhold_server::audit::{ActorKind, ClientInfo, NewEvent};
use keyhold_server::store::AccountStore;
use keyhold_server::store::sqlite::SqliteStore;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BODY: &str = concat!(
    r#"{"path":"production/gemini/API_KEY","version":1,"#,
    r#""value":"AIzaxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","type":"api_key","tier":"standard"}"#
);

async fn secret(State(audit): State<Option<Arc<SqliteStore>>>) -> Response {
    if let Some(store) = audit {
        let client = ClientInfo {
            ip: Some("127.0.0.1".into()),
            user_agent: None,
        };
        let event = NewEvent::new("secret.read", chrono::Utc::now(), &client)
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let audit = match args.as_slice() {
        [] => None,
        [flag, dir] if flag == "--audit" => {
            std::fs::create_dir_all(dir)?;
            let path = std::path::Path::new(dir).join("audit.db");
            Some(Arc::new(SqliteStore::open(&path)?))
        }
        _ => anyhow::bail!("usage: http_floor [--audit DIR]"),
    };
    let app = Router::new()
        .route("/v1/secrets/{*path}", get(secret))
        .with_state(audit);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
