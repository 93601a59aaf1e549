//! The OpenAPI document against the server, beyond the route list `ops` checks: every
//! operation's credentials and statuses as the server really answers, and no request field
//! left without the constraints the server checks. `make test-openapi` (schemathesis) goes
//! further; these fail fast, in the Rust suite, when a route drifts from its document.

use keyhold_e2e::TestServer;
use serde_json::Value;

/// Operations anyone may call (no `security`): signing up and in, and the links in mails.
const PUBLIC: &[&str] = &[
    "POST /v1/auth/signup",
    "POST /v1/auth/login",
    "POST /v1/auth/login/mfa",
    "POST /v1/auth/verify-email",
    "POST /v1/auth/password-reset",
    "POST /v1/auth/password-reset/confirm",
    "POST /v1/keys/revoke-leaked",
];

/// Request fields that are free text or a credential on purpose: any string is well formed
/// and what matters is whether the server knows it (401/422), or the field's grammar
/// depends on the account (`reauth`'s code is the password when 2FA is off). Every other
/// string field must carry a pattern, an enum, a format or a length.
const FREE_FORM: &[&str] = &[
    "LoginRequest.password",
    "LoginMfaRequest.mfa_ticket",
    "ChangePasswordRequest.current_password",
    "VerifyEmailRequest.token",
    "ReauthRequest.code",
    "RevokeLeakedRequest.secret",
    "PutSecretRequest.value",
    "SignupRequest.invitation",
    "PasswordResetConfirm.token",
    "CreateWebhookRequest.url",
    "UpdateWebhookRequest.url",
];

async fn document(ts: &TestServer) -> Value {
    reqwest::get(format!("{}/openapi.json", ts.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((method.to_uppercase(), path.clone(), op.clone()));
        }
    }
    out
}

fn documented(op: &Value) -> Vec<u16> {
    op["responses"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.parse().unwrap())
        .collect()
}

/// Every operation either names its credentials or is on the public list; every error
/// status it documents has the error body; and a request without credentials gets a
/// status it documents: 401 exactly when it names credentials.
#[tokio::test]
async fn every_operation_documents_its_credentials_and_what_it_answers() {
    let ts = TestServer::start().await;
    let doc = document(&ts).await;
    let http = reqwest::Client::new();
    for (method, path, op) in operations(&doc) {
        let name = format!("{method} {path}");
        let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
        assert_eq!(
            !secured,
            PUBLIC.contains(&name.as_str()),
            "{name}: say its credentials with `security(...)`, or list it as public"
        );
        let statuses = documented(&op);
        for s in statuses.iter().filter(|s| **s >= 400) {
            let schema = &op["responses"][s.to_string()]["content"]["application/json"]["schema"];
            assert_eq!(
                schema["$ref"], "#/components/schemas/ErrorBody",
                "{name}: {s} without the error body"
            );
        }
        if path.ends_with("/stream") && !secured {
            continue;
        }
        let url = format!("{}{}", ts.url(), path.replace(['{', '}'], ""));
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = http.request(m, &url);
        if op.get("requestBody").is_some() {
            req = req.json(&serde_json::json!({}));
        }
        let got = req.send().await.unwrap().status().as_u16();
        assert!(
            statuses.contains(&got),
            "{name} answered {got} without credentials; documented: {statuses:?}"
        );
        assert_eq!(
            got == 401,
            secured,
            "{name} answered {got} without credentials"
        );
    }
}

/// The schema a `$ref` points at, or the schema itself.
fn resolve<'a>(schema: &'a Value, doc: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap()],
        None => schema,
    }
}

/// What a schema says about a string: nothing, unless it has a constraint.
fn constrained(schema: &Value, doc: &Value) -> bool {
    let schema = resolve(schema, doc);
    if let Some(all) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        return all
            .iter()
            .filter(|s| s["type"] != "null")
            .all(|s| constrained(s, doc));
    }
    let is_string = schema["type"] == "string"
        || schema["type"]
            .as_array()
            .is_some_and(|t| t.contains(&Value::from("string")));
    if !is_string {
        if let Some(items) = schema.get("items") {
            return constrained(items, doc);
        }
        return true;
    }
    ["pattern", "enum", "format", "maxLength", "minLength"]
        .iter()
        .any(|k| schema.get(*k).is_some())
}

/// Every string a request may carry (body field or parameter) says what the server takes:
/// a pattern, an enum, a format or a length; free text and credentials are listed above.
/// And the limits that have a constant say its value.
#[tokio::test]
async fn every_request_string_carries_its_constraints() {
    let ts = TestServer::start().await;
    let doc = document(&ts).await;
    let mut bodies = std::collections::BTreeSet::new();
    for (method, path, op) in operations(&doc) {
        for p in op["parameters"].as_array().into_iter().flatten() {
            let name = format!("{method} {path} ?{}", p["name"].as_str().unwrap());
            let schema = resolve(&p["schema"], &doc);
            let free = p["name"] == "id"
                || p["name"] == "delivery_id"
                || p["name"] == "action"
                || p["name"] == "actor";
            assert!(
                free || constrained(schema, &doc),
                "{name} has no constraint"
            );
            if p["name"] == "limit" {
                assert_eq!(schema["minimum"], 1, "{name}");
                assert_eq!(
                    schema["maximum"],
                    keyhold_core::api::MAX_PAGE_LIMIT,
                    "{name}"
                );
            }
            if p["name"] == "path" {
                assert_eq!(schema["pattern"], keyhold_core::path::PATTERN, "{name}");
                assert_eq!(schema["maxLength"], keyhold_core::path::MAX_BYTES, "{name}");
            }
        }
        let body = &op["requestBody"]["content"]["application/json"]["schema"]["$ref"];
        if let Some(r) = body.as_str() {
            bodies.insert(r.rsplit('/').next().unwrap().to_owned());
        }
    }
    let schemas = &doc["components"]["schemas"];
    let mut seen = std::collections::BTreeSet::new();
    let mut stack: Vec<String> = bodies.into_iter().collect();
    while let Some(name) = stack.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        for (field, schema) in schemas[&name]["properties"]
            .as_object()
            .into_iter()
            .flatten()
        {
            let key = format!("{name}.{field}");
            if let Some(r) = schema["$ref"].as_str() {
                stack.push(r.rsplit('/').next().unwrap().to_owned());
                continue;
            }
            assert!(
                FREE_FORM.contains(&key.as_str()) || constrained(schema, &doc),
                "{key} has no constraint: give it a pattern, enum, format or length \
                 (keyhold_core::api::schema), or list it in FREE_FORM with the reason"
            );
        }
    }
    let token = &schemas["IssueTokenRequest"]["properties"];
    assert_eq!(
        token["max_uses"]["maximum"],
        keyhold_core::api::schema::MAX_USES
    );
    assert_eq!(
        token["scopes"]["maxItems"],
        keyhold_core::api::schema::MAX_SCOPES
    );
    assert_eq!(
        token["ttl"]["pattern"],
        keyhold_core::duration::pattern(1, keyhold_core::api::schema::settings::MAX_MAX_TOKEN_TTL)
    );
}

/// A body is a JSON object: serde would read a struct from an array (`[true]` fills
/// the fields in order), which the document does not allow; schemathesis found a PATCH
/// accepted that way.
#[tokio::test]
async fn a_body_that_is_not_an_object_is_refused() {
    let ts = TestServer::start().await;
    let p = ts.person("array-body").await;
    let http = reqwest::Client::new();
    for body in ["[true]", " [false]"] {
        let r = http
            .put(format!("{}/v1/me/notifications", ts.url()))
            .bearer_auth(p.client.token().unwrap())
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{body}");
    }
    let r = http
        .put(format!("{}/v1/me/notifications", ts.url()))
        .bearer_auth(p.client.token().unwrap())
        .header("content-type", "application/json")
        .body("[oops")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "unreadable JSON stays 400");
}
