//! OpenAPI links: which response names the resource another operation acts on (a created
//! webhook's `id` for `GET /v1/webhooks/{id}`, …). Clients and generators read them to
//! chain calls; schemathesis's stateful phase follows them, creating a resource and then
//! exercising the operations on it instead of guessing ids.

/// (source method, source path, status, target method, target path, parameter, value).
type LinkSpec = (
    &'static str,
    &'static str,
    u16,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const WEBHOOK: &[(&str, &str)] = &[("id", "$response.body#/webhook/id")];
const BY_ID: &[(&str, &str)] = &[("id", "$response.body#/id")];
const KEY: &[(&str, &str)] = &[("id", "$response.body#/key/id")];
const SECRET: &[(&str, &str)] = &[("path", "$response.body#/path")];
const DELIVERY: &[(&str, &str)] = &[
    ("id", "$request.path.id"),
    ("delivery_id", "$response.body#/id"),
];

const LINKS: &[LinkSpec] = &[
    (
        "post",
        "/v1/webhooks",
        201,
        "get",
        "/v1/webhooks/{id}",
        WEBHOOK,
    ),
    (
        "post",
        "/v1/webhooks",
        201,
        "patch",
        "/v1/webhooks/{id}",
        WEBHOOK,
    ),
    (
        "post",
        "/v1/webhooks",
        201,
        "delete",
        "/v1/webhooks/{id}",
        WEBHOOK,
    ),
    (
        "post",
        "/v1/webhooks",
        201,
        "post",
        "/v1/webhooks/{id}/rotate-secret",
        WEBHOOK,
    ),
    (
        "post",
        "/v1/webhooks",
        201,
        "post",
        "/v1/webhooks/{id}/test",
        WEBHOOK,
    ),
    (
        "post",
        "/v1/webhooks",
        201,
        "get",
        "/v1/webhooks/{id}/deliveries",
        WEBHOOK,
    ),
    (
        "post",
        "/v1/webhooks/{id}/test",
        202,
        "post",
        "/v1/webhooks/{id}/deliveries/{delivery_id}/retry",
        DELIVERY,
    ),
    (
        "post",
        "/v1/approvals",
        201,
        "get",
        "/v1/approvals/{id}",
        BY_ID,
    ),
    (
        "post",
        "/v1/approvals",
        201,
        "post",
        "/v1/approvals/{id}/approve",
        BY_ID,
    ),
    (
        "post",
        "/v1/approvals",
        201,
        "post",
        "/v1/approvals/{id}/deny",
        BY_ID,
    ),
    ("post", "/v1/keys", 201, "get", "/v1/keys/{id}", KEY),
    ("post", "/v1/keys", 201, "patch", "/v1/keys/{id}", KEY),
    ("post", "/v1/keys", 201, "post", "/v1/keys/{id}/rotate", KEY),
    ("post", "/v1/keys", 201, "delete", "/v1/keys/{id}", KEY),
    (
        "post",
        "/v1/keys/{id}/rotate",
        201,
        "get",
        "/v1/keys/{id}",
        KEY,
    ),
    (
        "post",
        "/v1/tokens",
        201,
        "delete",
        "/v1/tokens/{id}",
        BY_ID,
    ),
    (
        "post",
        "/v1/members/invitations",
        201,
        "delete",
        "/v1/members/invitations/{id}",
        BY_ID,
    ),
    (
        "put",
        "/v1/secrets/{path}",
        200,
        "get",
        "/v1/secrets/{path}",
        SECRET,
    ),
    (
        "put",
        "/v1/secrets/{path}",
        200,
        "get",
        "/v1/metadata/{path}",
        SECRET,
    ),
    (
        "put",
        "/v1/secrets/{path}",
        200,
        "delete",
        "/v1/secrets/{path}",
        SECRET,
    ),
];

/// A JSON pointer to an operation: `#/paths/~1v1~1keys~1{id}/delete`.
fn operation_ref(method: &str, path: &str) -> String {
    format!(
        "#/paths/{}/{method}",
        path.replace('~', "~0").replace('/', "~1")
    )
}

/// Adds the links to the served document. Written into the JSON rather than through
/// utoipa's `Link`, which (utoipa 5.5) serializes `operationRef` as `operation_ref`, a key
/// no OpenAPI reader knows.
pub fn add(doc: &mut serde_json::Value) {
    for (method, path, status, target_method, target, params) in LINKS {
        let response = &mut doc["paths"][*path][*method]["responses"][status.to_string()];
        if !response.is_object() {
            continue;
        }
        let parameters: serde_json::Map<String, serde_json::Value> = params
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).into()))
            .collect();
        let name = format!("{}{}", target_method, target.replace(['/', '{', '}'], "_"));
        response["links"][name] = serde_json::json!({
            "operationRef": operation_ref(target_method, target),
            "parameters": parameters,
        });
    }
}
