#!/usr/bin/env python3
"""The OpenAPI document against the real server, by schemathesis (run by `make test-openapi`).

Starts the real `keyhold-server` binary on an ephemeral loopback port with a throwaway data
dir, makes the credentials every operation needs, then lets schemathesis (PyPI; nobody here
wrote it) generate requests from /openapi.json with every check on (`--checks all`): no
5xx, every status and body as documented, schema-valid requests accepted, schema-invalid
ones refused, no operation that ignores its credentials. The stateful phase follows the
document's links (and what schemathesis infers from responses).

The credentials:
- an owner who signed up, turned on 2FA (the code computed here by RFC 6238) and confirmed
  it is them again: a session inside the sudo window, which privileged routes need. Each
  run below re-enters the sudo window first (10 minutes) with a fresh code, so no run
  ever sees it close halfway;
- an agent key (`kha_…`) the owner made, scoped to everything;
- a scoped token (`kht_…`) that key issued.

Four runs, one per credential and one without, each over the operations that credential
may call (the document's `security` says which; the public ones name none). Left out, and
why:
- `POST /v1/auth/logout` and `PUT /v1/me/password`: they end the session the run uses;
- the SSE streams (`/v1/audit/stream`, `/v1/approvals/stream`): they never finish, so a
  request to them times out by design.
Fuzzing a second-factor or password endpoint with made-up values fails the sign-in checks,
which the server counts: the throttles are raised for this throwaway server (flags below) so
the run tests the contract rather than the lockout; 429 stays documented everywhere.

Run with .venv-tools/bin/python (scripts/install-deps.sh); exits 1 when schemathesis
reports any failure. `KEYHOLD_SERVER_BIN` overrides where the binary is looked up;
`OPENAPI_MAX_EXAMPLES` how many cases per operation and phase (default 12).
"""
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv-tools", "bin")
MAX_EXAMPLES = os.environ.get("OPENAPI_MAX_EXAMPLES", "12")
PASSWORD = "correct horse battery staple orbit"
# Operations no run may call (see the module doc for why).
EXCLUDED = r"^/v1/auth/logout$|^/v1/me/password$|/stream$"
CONFIG = os.path.join(ROOT, "tests", "openapi", "schemathesis.toml")
SEED = os.environ.get("OPENAPI_SEED", "20261204")


def server_binary():
    if os.environ.get("KEYHOLD_SERVER_BIN"):
        return os.environ["KEYHOLD_SERVER_BIN"]
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    return os.path.join(target, "debug", "keyhold-server")


class Server:
    """The real binary on 127.0.0.1:0; its log is kept for the report on failure."""

    def __init__(self, data_dir):
        env = dict(os.environ)
        env.pop("KEYHOLD_MASTER_KEY", None)
        env["KEYHOLD_LOG"] = "warn"
        self.proc = subprocess.Popen(
            [server_binary(), "--data-dir", data_dir, "--listen", "127.0.0.1:0",
             "--login-failures-per-minute", "100000", "--rate-limit-anonymous", "100000",
             "--rate-limit-login", "100000", "--rate-limit-session", "100000",
             "--rate-limit-agent", "100000",
             # Webhook endpoints on any address, so the document's example URL creates one
             # and the stateful phase reaches the routes of `/v1/webhooks/{id}`.
             "--allow-private-webhooks"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.log = []
        self.url = None
        for line in self.proc.stdout:
            self.log.append(line)
            m = re.search(r"listening on (\S+)", line)
            if m:
                self.url = "http://" + m.group(1).removeprefix("http://")
                break
        if self.url is None:
            sys.exit("keyhold-server exited before listening:\n" + "".join(self.log))
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.proc.stdout:
            self.log.append(line)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def call(url, method, path, body=None, bearer=None):
    req = urllib.request.Request(url + path, method=method)
    if body is not None:
        req.data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    if bearer:
        req.add_header("Authorization", f"Bearer {bearer}")
    with urllib.request.urlopen(req, timeout=30) as r:
        text = r.read()
        return json.loads(text) if text else None


def totp(secret_b32, at=None):
    """RFC 6238 with the defaults Keyhold uses (SHA-1, 6 digits, 30 s)."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = int((at or time.time()) // 30)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


class Authenticator:
    """The owner's TOTP secret; each code once (the server refuses a replayed time step)."""

    def __init__(self, secret):
        self.secret = secret
        self.last_step = None

    def code(self):
        while int(time.time() // 30) == self.last_step:
            time.sleep(0.5)
        self.last_step = int(time.time() // 30)
        return totp(self.secret)


def reauth(url, session, app):
    call(url, "POST", "/v1/auth/reauth", {"code": app.code()}, bearer=session)


def credentials(url):
    """The owner's session (2FA on, sudo window open), its authenticator, an agent key,
    and a token."""
    call(url, "POST", "/v1/auth/signup",
         {"email": "owner@openapi.test", "password": PASSWORD, "display_name": "Owner"})
    s = call(url, "POST", "/v1/auth/login",
             {"email": "owner@openapi.test", "password": PASSWORD})["session_token"]
    enrol = call(url, "POST", "/v1/me/mfa/totp", bearer=s)
    app = Authenticator(enrol["secret"])
    call(url, "POST", "/v1/me/mfa/totp/confirm", {"code": app.code()}, bearer=s)
    key = call(url, "POST", "/v1/keys",
               {"name": "openapi", "scopes": ["secrets:read:*", "secrets:write:*", "secrets:delete:*"]},
               bearer=s)["secret"]
    token = call(url, "POST", "/v1/tokens",
                 {"scopes": ["secrets:read:*", "secrets:write:*", "secrets:delete:*"], "ttl": "1h"}, bearer=key)["token"]
    return s, app, key, token


def operations_for(doc, scheme):
    """The `METHOD path` of every operation whose `security` accepts `scheme` (None: the
    public operations, which name no credentials)."""
    ops = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            schemes = {name for req in op.get("security", []) for name in req}
            wanted = scheme in schemes if scheme else not schemes
            if wanted and not re.search(EXCLUDED, path):
                ops.append((method.upper(), path))
    return ops


def schemathesis(url, name, bearer, ops, report_dir):
    """One run over `ops` with `bearer`; True when schemathesis found nothing."""
    cmd = [os.path.join(VENV, "st"), "--config-file", CONFIG, "run", f"{url}/openapi.json",
           "--checks", "all",
           # The public operations have no links between them: no stateful phase.
           "--phases", "examples,coverage,fuzzing" + (",stateful" if bearer else ""),
           # A loaded machine (CI, two cores shared) can take seconds over a request;
           # response times are not what this run checks.
           "--request-timeout", "60",
           "--max-examples", MAX_EXAMPLES,
           "--workers", "2",
           "--seed", SEED,
           "--report", "junit", "--report-dir", os.path.join(report_dir, "reports", name),
           "--no-color"]
    if bearer:
        cmd += ["-H", f"Authorization: Bearer {bearer}"]
    for method, path in ops:
        cmd += ["--include-name", f"{method} {path}"]
    env = dict(os.environ, SCHEMATHESIS_HOOKS="hooks", PYTHONDONTWRITEBYTECODE="1",
               PYTHONPATH=os.path.dirname(CONFIG))
    print(f"== schemathesis as {name}: {len(ops)} operations", flush=True)
    p = subprocess.run(cmd, cwd=report_dir, text=True, capture_output=True, env=env)
    out = p.stdout + p.stderr
    # The summary on success; everything on a failure.
    print(out if p.returncode else out[out.rfind("=== SUMMARY"):], flush=True)
    return p.returncode == 0


def main():
    binary = server_binary()
    if not os.path.exists(binary):
        sys.exit(f"{binary} is missing: run `cargo build --workspace --bins` first")
    data = tempfile.mkdtemp(prefix="keyhold-openapi-")
    server = Server(data)
    ok = True
    try:
        url = server.url
        s, app, key, token = credentials(url)
        doc = json.loads(urllib.request.urlopen(url + "/openapi.json").read())
        # The token first and the session last: the session's run may revoke keys and
        # tokens it finds in listings.
        for name, bearer, scheme in [("token", token, "token"), ("agent key", key, "agent_key"),
                                     ("session", s, "session"), ("public", None, None)]:
            if scheme:
                reauth(url, s, app)
            if scheme == "agent_key":
                # Any `ttl` the schema allows (up to the ceiling of `max_token_ttl`) is then
                # within the tenant's limit too.
                settings = call(url, "GET", "/v1/tenant/settings", bearer=s)
                settings["max_token_ttl"] = "30d"
                call(url, "PUT", "/v1/tenant/settings", settings, bearer=s)
            ops = operations_for(doc, scheme)
            ok = schemathesis(url, name, bearer, ops, data) and ok
    finally:
        server.stop()
        if not ok:
            print("--- server log (tail) ---\n" + "".join(server.log[-60:]))
        shutil.rmtree(data, ignore_errors=True)
    print("openapi: schemathesis found nothing" if ok else "openapi: FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
