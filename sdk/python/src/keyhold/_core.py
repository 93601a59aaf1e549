"""What the sync and asyncio clients share: credentials, the scoped token's lifetime,
request preparation, answers to values or exceptions, and the server-sent-events parser.
Nothing here does I/O, so both clients behave the same by construction."""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence
from urllib.parse import quote

import httpx

from ._version import __version__
from .errors import (
    ApprovalDenied,
    ApprovalExpired,
    KeyholdError,
    error_from_body,
)
from .models import Approval, IssuedToken, SecretValue
from .signing import Ed25519Signer

USER_AGENT = f"keyhold-python/{__version__}"

#: The SDK's logger: method, path, status and timings only, never a header or a body.
log = logging.getLogger("keyhold")


def now() -> float:
    """Wall-clock seconds: token expiry is an absolute time the server sets. A module
    function so that tests can skew the client's clock."""
    return time.time()


@dataclass
class Credentials:
    """How the client proves itself. Exactly one of ``token``, ``agent_key`` or
    ``signer``; with an agent key (bearer or Ed25519) and ``scopes``, requests are made
    with a scoped token the client issues and refreshes itself."""

    token: SecretValue | None = None
    agent_key: SecretValue | None = None
    signer: Ed25519Signer | None = None
    scopes: tuple[str, ...] | None = None
    token_ttl: str = "15m"

    def __post_init__(self) -> None:
        given = [x for x in (self.token, self.agent_key, self.signer) if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of token, agent_key or signing key")
        if self.scopes is not None and self.token is not None:
            raise ValueError("scopes need an agent key (a token cannot issue tokens)")
        if self.scopes is not None and not self.scopes:
            raise ValueError("scopes must not be empty")

    @property
    def manages_token(self) -> bool:
        return self.scopes is not None


@dataclass
class TokenState:
    """The scoped token a client issued for itself, and when to replace it."""

    token: SecretValue | None = None
    id: str | None = None
    expires_at: float = 0.0
    lifetime: float = 0.0
    issued: int = field(default=0)

    def usable(self) -> SecretValue | None:
        """The token while it has more than its refresh margin left: a fifth of its
        lifetime, at most a minute, so a request never leaves with a token about to lapse."""
        if self.token is None:
            return None
        margin = min(60.0, self.lifetime / 5)
        return self.token if now() < self.expires_at - margin else None

    def store(self, t: IssuedToken) -> None:
        self.token = t.token
        self.id = t.id
        self.expires_at = t.expires_at.timestamp()
        self.lifetime = max(0.0, self.expires_at - now())
        self.issued += 1

    def drop(self, token: SecretValue) -> None:
        """Forget ``token`` after the server refused it (unless already replaced)."""
        if self.token is not None and self.token == token:
            self.token = None


def credentials_from_env(env: Mapping[str, str] | None = None) -> tuple[str, dict[str, Any]]:
    """``KEYHOLD_URL`` plus, as the CLI reads them, ``KEYHOLD_TOKEN``, else
    ``KEYHOLD_AGENT_KEY``, else ``KEYHOLD_AGENT_KEY_ID`` with its private key in
    ``KEYHOLD_AGENT_KEY_FILE`` (PKCS#8 PEM) or, without it, the OS keyring where
    ``keyhold keys create --ed25519`` keeps it; ``KEYHOLD_SCOPES`` (comma- or
    space-separated) and ``KEYHOLD_TOKEN_TTL`` optional.
    Returns the URL and the client's credential arguments."""
    e = dict(os.environ) if env is None else dict(env)
    url = e.get("KEYHOLD_URL", "").strip()
    if not url:
        raise KeyholdError("KEYHOLD_URL is not set", code="configuration")
    scopes_text = e.get("KEYHOLD_SCOPES", "").replace(",", " ").split()
    key_args: dict[str, Any] = {
        "scopes": tuple(scopes_text) if scopes_text else None,
        "token_ttl": e.get("KEYHOLD_TOKEN_TTL", "").strip() or "15m",
    }
    if e.get("KEYHOLD_TOKEN"):
        return url, {"token": SecretValue(e["KEYHOLD_TOKEN"].strip())}
    if e.get("KEYHOLD_AGENT_KEY"):
        return url, {"agent_key": SecretValue(e["KEYHOLD_AGENT_KEY"].strip()), **key_args}
    key_id = e.get("KEYHOLD_AGENT_KEY_ID", "").strip()
    if key_id and e.get("KEYHOLD_AGENT_KEY_FILE"):
        signer = Ed25519Signer.from_file(key_id, e["KEYHOLD_AGENT_KEY_FILE"])
        return url, {"signer": signer, **key_args}
    if key_id:
        return url, {"signer": Ed25519Signer.from_keyring(key_id), **key_args}
    raise KeyholdError(
        "set KEYHOLD_TOKEN, KEYHOLD_AGENT_KEY, or KEYHOLD_AGENT_KEY_ID (with KEYHOLD_AGENT_KEY_FILE)",
        code="configuration",
    )


def make_credentials(
    token: str | SecretValue | None,
    agent_key: str | SecretValue | None,
    signer: Ed25519Signer | None,
    scopes: Sequence[str] | None,
    token_ttl: str,
) -> Credentials:
    def wrap(v: str | SecretValue | None) -> SecretValue | None:
        return SecretValue(v) if isinstance(v, str) else v

    return Credentials(
        token=wrap(token),
        agent_key=wrap(agent_key),
        signer=signer,
        scopes=tuple(scopes) if scopes is not None else None,
        token_ttl=token_ttl,
    )


def authorize(req: httpx.Request, bearer: SecretValue | None, signer: Ed25519Signer | None) -> None:
    """Attach the credential: a bearer header, or the request's Ed25519 signature."""
    if bearer is not None:
        req.headers["Authorization"] = f"Bearer {bearer.reveal()}"
    elif signer is not None:
        body = req.content if req.content else None
        for k, v in signer.headers(req.method, str(req.url), body).items():
            req.headers[k] = v


def secret_url(path: str) -> str:
    return "/v1/secrets/" + quote(path.strip("/"), safe="/")


def token_body(
    scopes: Sequence[str],
    ttl: str | None,
    max_uses: int | None,
    ip_allowlist: Sequence[str] | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"scopes": list(scopes)}
    if ttl is not None:
        body["ttl"] = ttl
    if max_uses is not None:
        body["max_uses"] = max_uses
    if ip_allowlist is not None:
        body["ip_allowlist"] = list(ip_allowlist)
    return body


def answer(resp: httpx.Response) -> Any:
    """The JSON of a successful answer (``None`` for 204), else the typed exception."""
    log.debug("%s %s -> %s", resp.request.method, resp.request.url.path, resp.status_code)
    if resp.status_code >= 400:
        try:
            body = resp.json()
        except ValueError:
            body = None
        raise error_from_body(resp.status_code, body, resp.headers.get("retry-after"))
    if resp.status_code == 204 or not resp.content:
        return None
    return resp.json()


def settled(a: Approval) -> Approval | None:
    """``a`` when approved, ``None`` while pending; the exception when it cannot be."""
    if a.status == "approved":
        return a
    if a.status == "pending":
        return None
    if a.status == "denied":
        raise ApprovalDenied(
            f"approval {a.id} was denied" + (f": {a.deny_reason}" if a.deny_reason else ""),
            details={"approval_id": a.id, "deny_reason": a.deny_reason},
        )
    raise ApprovalExpired(
        f"approval {a.id} is {a.status}", details={"approval_id": a.id, "status": a.status}
    )


@dataclass
class SseEvent:
    id: str | None
    event: str
    data: str


class SseParser:
    """Server-sent events (WHATWG HTML, "Parsing an event stream"), line by line."""

    def __init__(self) -> None:
        self._data: list[str] = []
        self._event = ""
        self.last_id: str | None = None

    def feed(self, line: str) -> SseEvent | None:
        line = line.rstrip("\r\n")
        if line == "":
            if not self._data:
                self._event = ""
                return None
            ev = SseEvent(self.last_id, self._event or "message", "\n".join(self._data))
            self._data, self._event = [], ""
            return ev
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self.last_id = value
        return None


def approval_in(ev: SseEvent, approval_id: str) -> Approval | None:
    """The request an approvals-feed event carries, when it is ``approval_id``."""
    if not ev.event.startswith("approval."):
        return None
    try:
        d = json.loads(ev.data)
    except ValueError:
        return None
    if not isinstance(d, dict) or d.get("id") != approval_id:
        return None
    return Approval._from(d)


def feed_headers(last_id: str | None) -> dict[str, str]:
    h = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
    if last_id is not None:
        h["Last-Event-ID"] = last_id
    return h


#: How often the server sends a keep-alive comment on a feed.
KEEP_ALIVE = 15.0
#: Longest a feed connection waits for a line: a keep-alive, with slack.
FEED_READ = 20.0


def feed_timeout(remaining: float) -> httpx.Timeout:
    return httpx.Timeout(10.0, read=max(0.05, min(remaining, FEED_READ)))

