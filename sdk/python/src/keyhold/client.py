"""The synchronous client. :mod:`keyhold.aio` has the same surface for asyncio."""

from __future__ import annotations

import threading
import time
from typing import Any, Mapping, Sequence

import httpx

from . import _core
from .errors import ApprovalRequired, ApprovalTimeout, ConnectionFailed, Unauthenticated
from .models import Approval, IssuedToken, Secret, SecretSummary, SecretValue
from .signing import Ed25519Signer

__all__ = ["Keyhold"]


class Keyhold:
    """A Keyhold client for an agent.

    Give one credential: ``token`` (a ``kht_`` scoped token), ``agent_key`` (a ``kha_``
    key) or ``signer`` (an Ed25519 agent key, :class:`~keyhold.signing.Ed25519Signer`).
    With an agent key and ``scopes``, the client issues a scoped token of ``token_ttl``
    for itself, replaces it before it lapses, and retries a request once when the server
    refuses the token (it just expired, ran out of uses, or was revoked); without
    ``scopes`` the key itself authenticates each request.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | SecretValue | None = None,
        agent_key: str | SecretValue | None = None,
        signer: Ed25519Signer | None = None,
        scopes: Sequence[str] | None = None,
        token_ttl: str = "15m",
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._cred = _core.make_credentials(token, agent_key, signer, scopes, token_ttl)
        self._http = httpx.Client(
            base_url=url.rstrip("/"),
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": _core.USER_AGENT, "Accept": "application/json"},
        )
        self._state = _core.TokenState()
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **kwargs: Any) -> Keyhold:
        """From ``KEYHOLD_URL`` and ``KEYHOLD_TOKEN``, ``KEYHOLD_AGENT_KEY`` or
        ``KEYHOLD_AGENT_KEY_ID`` (+ ``KEYHOLD_AGENT_KEY_FILE``), see docs/sdk-python.md; ``kwargs``
        (``timeout``, ``transport``) pass through."""
        url, cred = _core.credentials_from_env(env)
        return cls(url, **cred, **kwargs)

    def __repr__(self) -> str:
        return f"Keyhold(url={str(self._http.base_url)!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Keyhold:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- credentials ---------------------------------------------------------------

    def _managed_token(self) -> SecretValue:
        with self._lock:
            tok = self._state.usable()
            if tok is not None:
                return tok
            scopes = self._cred.scopes or ()
            issued = self._issue(scopes, self._cred.token_ttl, None, None)
            self._state.store(issued)
            return issued.token

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        with_key: bool = False,
        stream: bool = False,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        """Send with the right credential; once more with a new scoped token when the
        server refuses the one the client issued itself."""
        for attempt in (1, 2):
            token = None
            if self._cred.manages_token and not with_key:
                token = self._managed_token()
            bearer = token or self._cred.token or self._cred.agent_key
            req = self._http.build_request(
                method,
                path,
                json=json,
                params=params,
                headers=headers,
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
            _core.authorize(req, bearer, None if bearer else self._cred.signer)
            try:
                resp = self._http.send(req, stream=stream)
            except httpx.TransportError as e:
                raise ConnectionFailed(f"{method} {path}: {type(e).__name__}") from None
            if resp.status_code == 401 and token is not None and attempt == 1:
                resp.close()
                self._state.drop(token)
                continue
            return resp
        raise AssertionError("unreachable")

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        return _core.answer(self._send(method, path, **kw))

    # -- the surface ---------------------------------------------------------------

    def issue_token(
        self,
        scopes: Sequence[str],
        ttl: str | None = None,
        max_uses: int | None = None,
        ip_allowlist: Sequence[str] | None = None,
    ) -> IssuedToken:
        """``POST /v1/tokens``: a scoped token (needs an agent key)."""
        return self._issue(scopes, ttl, max_uses, ip_allowlist)

    def _issue(
        self,
        scopes: Sequence[str],
        ttl: str | None,
        max_uses: int | None,
        ip_allowlist: Sequence[str] | None,
    ) -> IssuedToken:
        if self._cred.agent_key is None and self._cred.signer is None:
            raise Unauthenticated("issuing tokens needs an agent key")
        body = _core.token_body(scopes, ttl, max_uses, ip_allowlist)
        return IssuedToken._from(self._call("POST", "/v1/tokens", json=body, with_key=True))

    def revoke_token(self, token_id: str) -> None:
        """``DELETE /v1/tokens/{id}`` (with the agent key that issued it)."""
        self._call("DELETE", f"/v1/tokens/{token_id}", with_key=True)

    def get_secret(
        self, path: str, *, version: int | None = None, wait: float | None = None
    ) -> Secret:
        """``GET /v1/secrets/{path}``. A gated secret raises :class:`ApprovalRequired`;
        with ``wait`` (seconds) the client waits that long for the approval over the live
        feed instead, then reads."""
        params = {"version": version} if version is not None else None
        try:
            return Secret._from(self._call("GET", _core.secret_url(path), params=params))
        except ApprovalRequired as e:
            if wait is None:
                raise
            deadline = time.monotonic() + wait
            a = self.wait_for_approval(e.approval_id, timeout=wait)
            _sleep_until_available(a, deadline)
            return Secret._from(self._call("GET", _core.secret_url(path), params=params))

    def list_secrets(self, prefix: str = "") -> list[SecretSummary]:
        """``GET /v1/metadata?prefix=``: every secret below ``prefix``, never values."""
        out: list[SecretSummary] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 500}
            if prefix:
                params["prefix"] = prefix
            if cursor:
                params["cursor"] = cursor
            page = self._call("GET", "/v1/metadata", params=params)
            out.extend(SecretSummary._from(i) for i in page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return out

    def request_approval(self, path: str, reason: str, operation: str = "read") -> Approval:
        """``POST /v1/approvals``: ask ahead of the gated call."""
        body = {"path": path, "reason": reason, "operation": operation}
        return Approval._from(self._call("POST", "/v1/approvals", json=body))

    def get_approval(self, approval_id: str) -> Approval:
        """``GET /v1/approvals/{id}``."""
        return Approval._from(self._call("GET", f"/v1/approvals/{approval_id}"))

    def wait_for_approval(self, approval_id: str, timeout: float) -> Approval:
        """Wait up to ``timeout`` seconds for a person to approve request ``approval_id``,
        following ``GET /v1/approvals/stream`` (server-sent events; no polling). Returns the
        approved request; raises :class:`ApprovalDenied`, :class:`ApprovalExpired` or
        :class:`ApprovalTimeout`."""
        deadline = time.monotonic() + timeout
        last_id: str | None = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ApprovalTimeout(f"approval {approval_id} still pending after {timeout}s")
            try:
                found, last_id = self._follow(approval_id, last_id, deadline)
            except ConnectionFailed:
                # The server went away (a restart, a deploy): try again until the deadline.
                time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
                continue
            if found is not None:
                return found

    def _follow(
        self, approval_id: str, last_id: str | None, deadline: float
    ) -> tuple[Approval | None, str | None]:
        """One connection to the feed: ``(approved request, None)`` or, when the
        connection ends first, ``(None, last event id)`` to resume from."""
        read = min(deadline - time.monotonic(), _core.FEED_READ)
        resp = self._send(
            "GET",
            "/v1/approvals/stream",
            headers=_core.feed_headers(last_id),
            stream=True,
            timeout=_core.feed_timeout(read),
        )
        parser = _core.SseParser()
        parser.last_id = last_id
        try:
            if resp.status_code != 200:
                resp.read()
                _core.answer(resp)
            # Subscribed: a decision made before this point is not on the feed, so look once.
            now = _core.settled(self.get_approval(approval_id))
            if now is not None:
                return now, None
            for line in resp.iter_lines():
                ev = parser.feed(line)
                a = _core.approval_in(ev, approval_id) if ev else None
                if a is not None and (done := _core.settled(a)) is not None:
                    return done, None
                left = deadline - time.monotonic()
                # In the last keep-alive interval, a read could outlast the deadline by
                # up to its timeout: reconnect once with a timeout that ends at it.
                if left <= 0 or (left < _core.KEEP_ALIVE and read > left + 1.0):
                    break
        except httpx.ReadTimeout:
            pass
        except httpx.TransportError:
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        finally:
            resp.close()
        return None, parser.last_id


def _sleep_until_available(a: Approval, deadline: float) -> None:
    """A critical request's grant starts after its delay: wait for it if it is due within
    the caller's budget."""
    if a.available_at is None:
        return
    delay = a.available_at.timestamp() - _core.now()
    if delay <= 0:
        return
    if time.monotonic() + delay > deadline:
        raise ApprovalTimeout(
            f"approval {a.id} is approved but usable only from {a.available_at.isoformat()}",
            details={"approval_id": a.id, "available_at": a.available_at.isoformat()},
        )
    time.sleep(delay)
