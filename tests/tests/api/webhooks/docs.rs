//! The verification examples of docs/webhooks.md, run as written against a real delivery:
//! the Python one with `standardwebhooks`, the TypeScript one transpiled by the UI's own
//! TypeScript compiler and run on Node. A forged body must be refused by both.

use std::path::Path;
use std::process::Command;

use keyhold_e2e::receiver::Receiver;

use super::helpers::{Api, create_body, server};
use crate::support::key;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Run `program` with `script` on stdin and the delivery in the environment; its stdout.
fn run(program: &Path, args: &[&str], script: &str, env: &[(&str, &str)]) -> String {
    use std::io::Write;
    let mut child = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const PYTHON: &str = r#"
import json, os, re
doc = open("docs/webhooks.md").read()
code = re.search(r"```python\n(.*?)```", doc, re.S).group(1)
ns = {"os": os, "seen": lambda i: False}
exec(code, ns)
headers = json.loads(os.environ["HEADERS"])
body = os.environ["BODY"].encode()
ns["handle"](body, headers)
try:
    ns["handle"](body.replace(b"key.created", b"key.revoked"), headers)
    print("FORGERY ACCEPTED")
except Exception as e:
    print("forgery refused:", type(e).__name__)
"#;

const NODE: &str = r#"
const fs = require("fs");
const ts = require("./ui/node_modules/typescript");
const doc = fs.readFileSync("docs/webhooks.md", "utf8");
const code = /```typescript\n([\s\S]*?)```/.exec(doc)[1];
const js = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.CommonJS } }).outputText;
const mod = { exports: {} };
new Function("require", "module", "exports", js)(require, mod, mod.exports);
const headers = JSON.parse(process.env.HEADERS), body = process.env.BODY;
console.log("type", mod.exports.verifyKeyhold(process.env.KEYHOLD_WEBHOOK_SECRET, body, headers).type);
try {
  mod.exports.verifyKeyhold(process.env.KEYHOLD_WEBHOOK_SECRET, body.replace("key.created", "key.revoked"), headers);
  console.log("FORGERY ACCEPTED");
} catch (e) { console.log("forgery refused:", e.message); }
"#;

#[tokio::test]
async fn the_documented_verifiers_accept_a_real_delivery_and_refuse_a_forgery() {
    let ts = server().await;
    let rx = Receiver::start();
    let owner = ts.person("whdocs").await;
    let (_, secret) = Api::of(&ts, &owner)
        .endpoint(create_body(&rx.url("d"), &["key.created"]))
        .await;
    let secret = secret.unwrap();
    key(&owner, &["secrets:read:a/*"]).await;
    let r = rx.wait_for(1).await.remove(0);
    let headers = serde_json::to_string(&r.headers).unwrap();
    let env = [
        ("KEYHOLD_WEBHOOK_SECRET", secret.as_str()),
        ("HEADERS", headers.as_str()),
        ("BODY", r.body.as_str()),
    ];
    let python = root().join(".venv-tools/bin/python");
    let out = run(&python, &["-"], PYTHON, &env);
    assert!(
        out.contains("key.created") && out.contains("forgery refused"),
        "{out}"
    );
    let out = run(Path::new("node"), &["-"], NODE, &env);
    assert!(
        out.contains("type key.created") && out.contains("forgery refused"),
        "{out}"
    );
}
