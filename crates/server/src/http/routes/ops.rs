//! Health, readiness, metrics and the OpenAPI document.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};

use crate::state::SharedState;

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The store answers (keys are loaded before the listener opens, so they are usable).
async fn readyz(State(st): State<SharedState>) -> impl IntoResponse {
    match st.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
        }
    }
}

async fn metrics(State(st): State<SharedState>) -> impl IntoResponse {
    st.metrics
        .audit_events
        .set(*st.store.audit_watch().borrow());
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        st.http_metrics.render(),
    )
}

async fn openapi() -> Json<serde_json::Value> {
    Json(crate::http::openapi::document())
}
