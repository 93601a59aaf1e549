//! Operations: health, readiness, metrics, OpenAPI, request ids, caching headers.

use keyhold_e2e::{STRONG_PASSWORD, TestServer};

#[tokio::test]
async fn health_ready_and_metrics() {
    let ts = TestServer::start().await;
    let get = |p: &str| reqwest::get(format!("{}{p}", ts.url()));
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    assert_eq!(get("/readyz").await.unwrap().status(), 200);
    let p = ts.person("metrics").await;
    let _ = ts
        .client()
        .login(&p.email, "wrong password, twice over")
        .await;
    // The audit count is the newest event id the store has signalled: SQLite's writer
    // signals before it answers, PostgreSQL's listener once the database's notification of
    // the commit arrives, just after the answer.
    let mut m = String::new();
    for _ in 0..50 {
        m = get("/metrics").await.unwrap().text().await.unwrap();
        if m.contains("keyhold_audit_events 3") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for needle in [
        "keyhold_http_requests_total{method=\"POST\",route=\"/v1/auth/login\",status=\"200\"} 1",
        "keyhold_http_requests_total{method=\"POST\",route=\"/v1/auth/login\",status=\"401\"} 1",
        "keyhold_http_request_duration_seconds_bucket{le=",
        "keyhold_auth_attempts_total{result=\"success\"} 1",
        "keyhold_auth_attempts_total{result=\"failure\"} 1",
        "keyhold_rate_limited_total 0",
        "keyhold_audit_events 3",
    ] {
        assert!(m.contains(needle), "missing {needle} in\n{m}");
    }
    // The store's own figures. An event with no write of its own (a failed sign-in) goes
    // through the store's group commit on either store: SQLite's writer takes every write,
    // PostgreSQL's appender those. Two more failed sign-ins make three such writes,
    // sharing commits or not.
    for _ in 0..2 {
        let _ = ts
            .client()
            .login(&p.email, "wrong password, twice over")
            .await;
    }
    let m = get("/metrics").await.unwrap().text().await.unwrap();
    let commits = metric(&m, "keyhold_store_commit_duration_seconds_count");
    let jobs = metric(&m, "keyhold_store_commit_batch_jobs_sum");
    assert!(
        commits >= 1.0 && jobs >= 3.0 && jobs >= commits,
        "{commits} commits, {jobs} jobs"
    );
}

/// What only SQLite has, on SQLite whatever the suite's store (PostgreSQL checkpoints
/// itself; `make test` leaves these out of its PostgreSQL pass).
mod sqlite_only {
    use keyhold_e2e::TestServer;

    /// The checkpointer runs after commits and reports its passive checkpoints.
    #[tokio::test]
    async fn the_checkpointer_reports_passive_checkpoints() {
        let ts = TestServer::start_on_sqlite().await;
        ts.person("checkpoint").await;
        let passive = "keyhold_store_checkpoint_duration_seconds_count{mode=\"passive\"}";
        let mut checkpoints = 0.0;
        for _ in 0..50 {
            let m = reqwest::get(format!("{}/metrics", ts.url()))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            checkpoints = m
                .lines()
                .find_map(|l| l.strip_prefix(passive))
                .map_or(0.0, |v| v.trim().parse().unwrap());
            if checkpoints >= 1.0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(checkpoints >= 1.0, "no passive checkpoint reported");
    }
}

/// The value of an unlabelled sample `name` in the OpenMetrics text `m`.
fn metric(m: &str, name: &str) -> f64 {
    m.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {name} in\n{m}"))
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn every_response_has_a_request_id_and_credentials_are_not_cached() {
    let ts = TestServer::start().await;
    let p = ts.person("reqid").await;
    let r = reqwest::Client::new()
        .post(format!("{}/v1/auth/login", ts.url()))
        .json(&serde_json::json!({"email": p.email, "password": STRONG_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let id = r.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let r2 = reqwest::get(format!("{}/v1/nope", ts.url())).await.unwrap();
    assert!(r2.headers().contains_key("x-request-id"));
}

/// Every endpoint this server implements appears in /openapi.json, with the method API.md
/// gives it.
#[tokio::test]
async fn openapi_lists_the_implemented_contract() {
    let ts = TestServer::start().await;
    let doc: serde_json::Value = reqwest::get(format!("{}/openapi.json", ts.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/v1/auth/signup", "post"),
        ("/v1/auth/login", "post"),
        ("/v1/auth/logout", "post"),
        ("/v1/auth/verify-email", "post"),
        ("/v1/me", "get"),
        ("/v1/me/password", "put"),
        ("/v1/me/email/verification", "post"),
        ("/v1/audit", "get"),
        ("/v1/audit/export", "get"),
        ("/v1/audit/stream", "get"),
        ("/v1/audit/verify", "get"),
        ("/v1/approvals", "get"),
        ("/v1/approvals", "post"),
        ("/v1/approvals/{id}", "get"),
        ("/v1/approvals/{id}/approve", "post"),
        ("/v1/approvals/{id}/deny", "post"),
        ("/v1/approvals/stream", "get"),
        ("/v1/tenant/settings", "get"),
        ("/v1/tenant/settings", "put"),
        ("/v1/members", "get"),
        ("/v1/members/invitations", "post"),
        ("/v1/members/{id}/role", "put"),
        ("/v1/members/{id}", "delete"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from /openapi.json"
        );
    }
    // And API.md names each of them.
    let api_md = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/design/API.md"),
    );
    if let Ok(md) = api_md {
        // Endpoints the issues asked for beyond API.md, each documented in docs/.
        let extensions = ["/v1/admin/kek/rotate", "/v1/approvals/stream"];
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
        // Issue 18's routes are documented in docs/webhooks.md (API.md predates them).
        let issue_18 = std::fs::read_to_string(docs.join("webhooks.md")).unwrap();
        // Issue 19's (alerts, blocks, alert rules, reinstating a key) in docs/alerts.md.
        let issue_19 = std::fs::read_to_string(docs.join("alerts.md")).unwrap();
        for path in paths.keys().filter(|p| !extensions.contains(&p.as_str())) {
            let generic = path.split('{').next().unwrap();
            assert!(
                md.contains(generic)
                    || issue_18.contains(path.as_str())
                    || issue_19.contains(path.as_str()),
                "{path} is served but neither in API.md nor in docs/webhooks.md or docs/alerts.md"
            );
        }
    }
}
