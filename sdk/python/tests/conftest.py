"""The real keyhold-server for the SDK's tests: started once per session on an ephemeral
loopback port with a temporary data dir, and set up over plain HTTP (not through the SDK):
an owner, an approver who joined by invitation, secrets of each tier, agent keys."""

from __future__ import annotations

import email
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

PASSWORD = "violet anchor quietly juggles seven kites"
ROOT = Path(__file__).resolve().parents[3]


def server_binary() -> Path:
    env = os.environ.get("KEYHOLD_SERVER_BIN")
    if env:
        return Path(env)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    path = target / "debug" / "keyhold-server"
    assert path.exists(), f"{path} is missing: run `cargo build --workspace --bins` first"
    return path


@dataclass
class Server:
    url: str
    data_dir: Path
    proc: subprocess.Popen[str]
    log: list[str] = field(default_factory=list)

    def http(self, token: str | None = None) -> httpx.Client:
        h = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=h, timeout=10)

    def mailed_link(self, to: str, path: str, wait: float = 10.0) -> str:
        """The newest link to ``path`` mailed to ``to`` (the outbox folder of .eml files)."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            found = None
            outbox = self.data_dir / "outbox"
            for f in sorted(outbox.glob("*.eml")) if outbox.exists() else []:
                msg = email.message_from_bytes(f.read_bytes())
                if to not in str(msg.get("To", "")):
                    continue
                for part in msg.walk():
                    payload = part.get_payload(decode=True)
                    if isinstance(payload, bytes):
                        m = re.search(rf"https?://[^\s\"<>]*{re.escape(path)}\?[^\s\"<>]+", payload.decode())
                        if m:
                            found = m.group(0)
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(f"no {path} link mailed to {to}")


def _drain(stream: Any, sink: list[str]) -> None:
    for line in stream:
        sink.append(line)


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    data = Path(tempfile.mkdtemp(prefix="keyhold-sdk-"))
    env = {k: v for k, v in os.environ.items() if k != "KEYHOLD_MASTER_KEY"}
    env["KEYHOLD_LOG"] = "info"
    proc = subprocess.Popen(
        [str(server_binary()), "--data-dir", str(data), "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    log: list[str] = []
    threading.Thread(target=_drain, args=(proc.stderr, log), daemon=True).start()
    url = None
    for line in proc.stdout:
        log.append(line)
        if line.startswith("listening on "):
            url = line[len("listening on ") :].strip()
            break
    assert url, "server exited before listening:\n" + "".join(log)
    threading.Thread(target=_drain, args=(proc.stdout, log), daemon=True).start()
    srv = Server(url=url, data_dir=data, proc=proc, log=log)
    try:
        yield srv
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(data, ignore_errors=True)


def _ok(r: httpx.Response) -> Any:
    assert r.status_code < 400, f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text}"
    return r.json() if r.content else None


def login(srv: Server, addr: str) -> str:
    with srv.http() as c:
        return str(_ok(c.post("/v1/auth/login", json={"email": addr, "password": PASSWORD}))["session_token"])


@dataclass
class World:
    """A tenant ready for an agent: the owner's and an approver's sessions."""

    server: Server
    owner: str
    approver: str

    def owner_http(self) -> httpx.Client:
        return self.server.http(self.owner)

    def put_secret(self, path: str, value: str, tier: str = "standard") -> None:
        with self.owner_http() as c:
            _ok(c.put(f"/v1/secrets/{path}", json={"value": value, "tier": tier}))

    def agent_key(self, scopes: list[str], name: str | None = None) -> tuple[str, str]:
        """A new ``kha_`` key: (key id, secret)."""
        body = {"name": name or f"sdk-{uuid.uuid4().hex[:8]}", "scopes": scopes}
        with self.owner_http() as c:
            out = _ok(c.post("/v1/keys", json=body))
        return str(out["key"]["id"]), str(out["secret"])

    def revoke_key(self, key_id: str) -> None:
        with self.owner_http() as c:
            r = c.delete(f"/v1/keys/{key_id}")
            assert r.status_code == 204, r.text

    def approve(self, approval_id: str) -> None:
        with self.server.http(self.approver) as c:
            _ok(c.post(f"/v1/approvals/{approval_id}/approve", json={"comment": "ok"}))

    def deny(self, approval_id: str) -> None:
        with self.server.http(self.approver) as c:
            _ok(c.post(f"/v1/approvals/{approval_id}/deny", json={"reason": "not today"}))

    def audit(self, action: str) -> list[dict[str, Any]]:
        with self.owner_http() as c:
            out = _ok(c.get("/v1/audit", params={"action": action, "limit": 500}))
        return list(out["items"])


@pytest.fixture(scope="session")
def world(server: Server) -> World:
    owner = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    with server.http() as c:
        _ok(c.post("/v1/auth/signup", json={"email": owner, "password": PASSWORD}))
    owner_session = login(server, owner)
    approver = f"approver-{uuid.uuid4().hex[:8]}@example.com"
    with server.http(owner_session) as c:
        _ok(c.post("/v1/members/invitations", json={"email": approver, "role": "approver"}))
    link = server.mailed_link(approver, "/signup")
    invitation = link.split("invitation=", 1)[1]
    with server.http() as c:
        _ok(
            c.post(
                "/v1/auth/signup",
                json={"email": approver, "password": PASSWORD, "invitation": invitation},
            )
        )
    return World(server=server, owner=owner_session, approver=login(server, approver))


class Recorder(httpx.HTTPTransport):
    """A real transport that notes each request's method and path, and each status."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []
        self.statuses: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(f"{request.method} {request.url.path}")
        resp = super().handle_request(request)
        self.statuses.append(resp.status_code)
        return resp


def after(seconds: float, fn: Any, *args: Any) -> threading.Thread:
    """Run ``fn(*args)`` in a thread after ``seconds``: a person acting while the agent waits."""

    def run() -> None:
        time.sleep(seconds)
        fn(*args)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t
