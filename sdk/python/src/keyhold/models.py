"""What the API returns, as typed values. Secret material is a :class:`SecretValue`."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping, NoReturn

from .errors import _parse_time

__all__ = ["SecretValue", "Secret", "SecretSummary", "IssuedToken", "Approval"]

_REDACTED = "**********"


class SecretValue:
    """A secret string that does not show itself.

    ``repr()``, ``str()``, f-strings, ``%`` formatting and logging all print
    ``**********``; only :meth:`reveal` returns the text. Why: agents log what they hold
    (``logger.debug("got %s", secret)``, tracebacks with locals, ``print(obj)``) and a
    vault client must not turn those into leaks. Equality is constant-time; values are
    not hashable and cannot be pickled.
    """

    __slots__ = ("__value",)

    def __init__(self, value: str) -> None:
        self.__value = value

    def reveal(self) -> str:
        """The secret text. Use it where it is needed, do not keep or print it."""
        return self.__value

    def __repr__(self) -> str:
        return f"SecretValue('{_REDACTED}')"

    def __str__(self) -> str:
        return _REDACTED

    def __format__(self, spec: str) -> str:
        return format(_REDACTED, spec)

    def __len__(self) -> int:
        return len(self.__value)

    def __bool__(self) -> bool:
        return bool(self.__value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SecretValue):
            other = other.reveal()
        if not isinstance(other, str):
            return NotImplemented
        return hmac.compare_digest(self.__value.encode(), other.encode())

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> NoReturn:
        raise TypeError("SecretValue cannot be pickled")


@dataclass(frozen=True)
class Secret:
    """``GET /v1/secrets/{path}``: one version of a secret."""

    path: str
    version: int
    value: SecretValue
    type: str
    tier: str

    @classmethod
    def _from(cls, d: Mapping[str, Any]) -> Secret:
        return cls(
            path=str(d["path"]),
            version=int(d["version"]),
            value=SecretValue(str(d["value"])),
            type=str(d.get("type", "generic")),
            tier=str(d.get("tier", "standard")),
        )


@dataclass(frozen=True)
class SecretSummary:
    """One item of ``GET /v1/metadata?prefix=``: never a value."""

    path: str
    type: str
    tier: str
    current_version: int
    updated_at: datetime

    @classmethod
    def _from(cls, d: Mapping[str, Any]) -> SecretSummary:
        return cls(
            path=str(d["path"]),
            type=str(d.get("type", "generic")),
            tier=str(d.get("tier", "standard")),
            current_version=int(d["current_version"]),
            updated_at=_parse_time(str(d["updated_at"])),
        )


@dataclass(frozen=True)
class IssuedToken:
    """``POST /v1/tokens``: a scoped token (its text is a :class:`SecretValue`)."""

    id: str
    token: SecretValue
    expires_at: datetime

    @classmethod
    def _from(cls, d: Mapping[str, Any]) -> IssuedToken:
        return cls(
            id=str(d["id"]),
            token=SecretValue(str(d["token"])),
            expires_at=_parse_time(str(d["expires_at"])),
        )


@dataclass(frozen=True)
class Approval:
    """An approval request as the agent that asked sees it (``GET /v1/approvals/{id}``).

    ``status``: ``pending``, ``approved``, ``denied``, ``expired``, ``used`` or ``voided``.
    An approved request allows its one operation from ``available_at`` (after a critical
    delay) until ``grant_expires_at``.
    """

    id: str
    path: str
    tier: str
    operation: str
    status: str
    required_approvals: int
    approvals: int
    requested_at: datetime
    expires_at: datetime
    available_at: datetime | None
    grant_expires_at: datetime | None
    deny_reason: str | None
    raw: Mapping[str, Any]

    @classmethod
    def _from(cls, d: Mapping[str, Any]) -> Approval:
        def opt_time(k: str) -> datetime | None:
            v = d.get(k)
            return _parse_time(v) if isinstance(v, str) else None

        reason = d.get("deny_reason")
        votes = d.get("approvals")
        return cls(
            id=str(d["id"]),
            path=str(d["path"]),
            tier=str(d.get("tier", "")),
            operation=str(d.get("operation", "read")),
            status=str(d["status"]),
            required_approvals=int(d.get("required_approvals", 0)),
            approvals=len(votes) if isinstance(votes, list) else 0,
            requested_at=_parse_time(str(d["requested_at"])),
            expires_at=_parse_time(str(d["expires_at"])),
            available_at=opt_time("available_at"),
            grant_expires_at=opt_time("grant_expires_at"),
            deny_reason=str(reason) if isinstance(reason, str) else None,
            raw=dict(d),
        )
