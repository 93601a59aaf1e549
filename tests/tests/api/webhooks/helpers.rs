//! What the webhook tests share: raw JSON calls with a person's session (the webhook
//! routes are exercised over plain HTTP), a server that admits the local receiver, and
//! waiting on the delivery log.

use std::time::{Duration, Instant};

use keyhold_e2e::{Person, TestServer, decode_quoted_printable};
use reqwest::Method;
use serde_json::{Value, json};

/// A server whose deliveries may go to the loopback receiver, polling often.
pub async fn server() -> TestServer {
    TestServer::start_with(|c| {
        c.allow_private_webhooks = true;
        c.outbox_poll_ms = 50;
        c.webhook_timeout_secs = 1;
    })
    .await
}

pub struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    pub fn of(ts: &TestServer, p: &Person) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: ts.url(),
            token: p.client.token().unwrap().to_owned(),
        }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut rb = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    /// Register an endpoint and return its id and secret (`None` for Slack).
    pub async fn endpoint(&self, body: Value) -> (String, Option<String>) {
        let (status, made) = self.post("/v1/webhooks", body).await;
        assert_eq!(status, 201, "{made}");
        let id = made["webhook"]["id"].as_str().unwrap().to_owned();
        (id, made["secret"].as_str().map(str::to_owned))
    }

    pub async fn deliveries(&self, endpoint: &str) -> Vec<Value> {
        let (status, page) = self
            .get(&format!("/v1/webhooks/{endpoint}/deliveries"))
            .await;
        assert_eq!(status, 200, "{page}");
        page["items"].as_array().unwrap().clone()
    }

    /// Wait (up to 20 s) until the newest delivery of `endpoint` satisfies `done`.
    pub async fn wait_delivery(&self, endpoint: &str, done: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let log = self.deliveries(endpoint).await;
            if let Some(d) = log.first().filter(|d| done(d)) {
                return d.clone();
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "delivery log never got there: {log:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// `p` signed in again (after the test clock moved past their session's life).
pub async fn again(ts: &TestServer, p: &Person) -> (Person, Api) {
    let again = Person {
        email: p.email.clone(),
        password: p.password.clone(),
        client: ts.login(&p.email, &p.password).await,
        user_id: p.user_id.clone(),
        tenant_id: p.tenant_id.clone(),
    };
    let api = Api::of(ts, &again);
    (again, api)
}

pub fn create_body(url: &str, events: &[&str]) -> Value {
    json!({ "url": url, "events": events, "description": "test receiver" })
}

/// Every mail to `to` whose subject starts with `subject`, decoded.
pub async fn mails(ts: &TestServer, to: &str, subject: &str) -> Vec<String> {
    ts.outbox()
        .await
        .iter()
        .map(|m| decode_quoted_printable(m))
        .filter(|m| m.contains(&format!("To: {to}")) && m.contains(&format!("Subject: {subject}")))
        .collect()
}

/// Wait (up to 10 s) for a mail to `to` with `subject` to reach the outbox folder.
pub async fn wait_mail(ts: &TestServer, to: &str, subject: &str) -> String {
    let start = Instant::now();
    loop {
        if let Some(m) = mails(ts, to, subject).await.pop() {
            return m;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no mail {subject:?} to {to}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
