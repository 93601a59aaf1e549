"""The asyncio client: the same surface as :class:`keyhold.Keyhold`, awaitable."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Mapping, Sequence

import httpx

from . import _core
from .errors import ApprovalRequired, ApprovalTimeout, ConnectionFailed, Unauthenticated
from .models import Approval, IssuedToken, Secret, SecretSummary, SecretValue
from .signing import Ed25519Signer

__all__ = ["AsyncKeyhold"]


class AsyncKeyhold:
    """A Keyhold client for asyncio agents. See :class:`keyhold.Keyhold` for the
    credentials and the scoped token the client keeps for itself."""

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
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._cred = _core.make_credentials(token, agent_key, signer, scopes, token_ttl)
        self._http = httpx.AsyncClient(
            base_url=url.rstrip("/"),
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": _core.USER_AGENT, "Accept": "application/json"},
        )
        self._state = _core.TokenState()
        self._lock = asyncio.Lock()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **kwargs: Any) -> AsyncKeyhold:
        """As :meth:`keyhold.Keyhold.from_env`."""
        url, cred = _core.credentials_from_env(env)
        return cls(url, **cred, **kwargs)

    def __repr__(self) -> str:
        return f"AsyncKeyhold(url={str(self._http.base_url)!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncKeyhold:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- credentials ---------------------------------------------------------------

    async def _managed_token(self) -> SecretValue:
        async with self._lock:
            tok = self._state.usable()
            if tok is not None:
                return tok
            scopes = self._cred.scopes or ()
            issued = await self._issue(scopes, self._cred.token_ttl, None, None)
            self._state.store(issued)
            return issued.token

    async def _send(
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
        for attempt in (1, 2):
            token = None
            if self._cred.manages_token and not with_key:
                token = await self._managed_token()
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
                resp = await self._http.send(req, stream=stream)
            except httpx.TransportError as e:
                raise ConnectionFailed(f"{method} {path}: {type(e).__name__}") from None
            if resp.status_code == 401 and token is not None and attempt == 1:
                await resp.aclose()
                self._state.drop(token)
                continue
            return resp
        raise AssertionError("unreachable")

    async def _call(self, method: str, path: str, **kw: Any) -> Any:
        return _core.answer(await self._send(method, path, **kw))

    # -- the surface ---------------------------------------------------------------

    async def issue_token(
        self,
        scopes: Sequence[str],
        ttl: str | None = None,
        max_uses: int | None = None,
        ip_allowlist: Sequence[str] | None = None,
    ) -> IssuedToken:
        """``POST /v1/tokens``: a scoped token (needs an agent key)."""
        return await self._issue(scopes, ttl, max_uses, ip_allowlist)

    async def _issue(
        self,
        scopes: Sequence[str],
        ttl: str | None,
        max_uses: int | None,
        ip_allowlist: Sequence[str] | None,
    ) -> IssuedToken:
        if self._cred.agent_key is None and self._cred.signer is None:
            raise Unauthenticated("issuing tokens needs an agent key")
        body = _core.token_body(scopes, ttl, max_uses, ip_allowlist)
        return IssuedToken._from(await self._call("POST", "/v1/tokens", json=body, with_key=True))

    async def revoke_token(self, token_id: str) -> None:
        await self._call("DELETE", f"/v1/tokens/{token_id}", with_key=True)

    async def get_secret(
        self, path: str, *, version: int | None = None, wait: float | None = None
    ) -> Secret:
        """As :meth:`keyhold.Keyhold.get_secret`."""
        params = {"version": version} if version is not None else None
        url = _core.secret_url(path)
        try:
            return Secret._from(await self._call("GET", url, params=params))
        except ApprovalRequired as e:
            if wait is None:
                raise
            deadline = time.monotonic() + wait
            a = await self.wait_for_approval(e.approval_id, timeout=wait)
            await _sleep_until_available(a, deadline)
            return Secret._from(await self._call("GET", url, params=params))

    async def list_secrets(self, prefix: str = "") -> list[SecretSummary]:
        out: list[SecretSummary] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 500}
            if prefix:
                params["prefix"] = prefix
            if cursor:
                params["cursor"] = cursor
            page = await self._call("GET", "/v1/metadata", params=params)
            out.extend(SecretSummary._from(i) for i in page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return out

    async def request_approval(self, path: str, reason: str, operation: str = "read") -> Approval:
        body = {"path": path, "reason": reason, "operation": operation}
        return Approval._from(await self._call("POST", "/v1/approvals", json=body))

    async def get_approval(self, approval_id: str) -> Approval:
        return Approval._from(await self._call("GET", f"/v1/approvals/{approval_id}"))

    async def wait_for_approval(self, approval_id: str, timeout: float) -> Approval:
        """As :meth:`keyhold.Keyhold.wait_for_approval`: over the live feed, no polling."""
        try:
            return await asyncio.wait_for(self._wait(approval_id), timeout)
        except asyncio.TimeoutError:
            raise ApprovalTimeout(
                f"approval {approval_id} still pending after {timeout}s"
            ) from None

    async def _wait(self, approval_id: str) -> Approval:
        last_id: str | None = None
        while True:
            try:
                found, last_id = await self._follow(approval_id, last_id)
            except ConnectionFailed:
                # The server went away (a restart, a deploy): try again until the deadline.
                await asyncio.sleep(1.0)
                continue
            if found is not None:
                return found

    async def _follow(
        self, approval_id: str, last_id: str | None
    ) -> tuple[Approval | None, str | None]:
        resp = await self._send(
            "GET",
            "/v1/approvals/stream",
            headers=_core.feed_headers(last_id),
            stream=True,
            timeout=_core.feed_timeout(_core.FEED_READ),
        )
        parser = _core.SseParser()
        parser.last_id = last_id
        try:
            if resp.status_code != 200:
                await resp.aread()
                _core.answer(resp)
            # Subscribed: a decision made before this point is not on the feed, so look once.
            now = _core.settled(await self.get_approval(approval_id))
            if now is not None:
                return now, None
            async for line in resp.aiter_lines():
                ev = parser.feed(line)
                a = _core.approval_in(ev, approval_id) if ev else None
                if a is not None and (done := _core.settled(a)) is not None:
                    return done, None
        except httpx.ReadTimeout:
            pass
        except httpx.TransportError:
            await asyncio.sleep(1.0)
        finally:
            await resp.aclose()
        return None, parser.last_id


async def _sleep_until_available(a: Approval, deadline: float) -> None:
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
    await asyncio.sleep(delay)
