"""Typed exceptions for the contract's error bodies.

The server answers every failure with ``{"error": {"code", "message", ...extra}}``
(docs: API.md "Conventions"). Each code maps to one exception class so that callers can
``except ApprovalRequired`` rather than compare strings; every exception still carries the
raw ``code``, the HTTP ``status`` and the extra fields in ``details``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

__all__ = [
    "KeyholdError",
    "InvalidRequest",
    "Unauthenticated",
    "MfaRequired",
    "ReauthRequired",
    "Forbidden",
    "ApprovalRequired",
    "NotFound",
    "Conflict",
    "PayloadTooLarge",
    "RateLimited",
    "Unavailable",
    "InternalError",
    "ConnectionFailed",
    "ApprovalDenied",
    "ApprovalExpired",
    "ApprovalTimeout",
    "error_from_body",
]


class KeyholdError(Exception):
    """Any failure the SDK reports. ``code`` is the contract's error code, ``http_status``
    the answer's status (``None`` when there was no answer)."""

    code: str = "unknown"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        http_status: int | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.http_status = http_status
        self.details: dict[str, Any] = dict(details or {})

    def __str__(self) -> str:
        where = f" (HTTP {self.http_status})" if self.http_status is not None else ""
        return f"{self.code}{where}: {self.message}"


class InvalidRequest(KeyholdError):
    code = "invalid_request"


class Unauthenticated(KeyholdError):
    """The credential is missing, wrong, expired or revoked."""

    code = "unauthenticated"


class MfaRequired(KeyholdError):
    code = "mfa_required"


class ReauthRequired(KeyholdError):
    code = "reauth_required"


class Forbidden(KeyholdError):
    """The credential stands but may not do this (scope, IP allowlist, role)."""

    code = "forbidden"


class ApprovalRequired(KeyholdError):
    """A gated operation: a person must approve request ``approval_id`` first.

    Wait for it with ``wait_for_approval(err.approval_id, timeout)``, then repeat the call
    (``get_secret(path, wait=...)`` does both).
    """

    code = "approval_required"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        http_status: int | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, code=code, http_status=http_status, details=details)
        d = self.details
        self.approval_id: str = str(d.get("approval_id", ""))
        self.required_approvals: int = int(d.get("required_approvals", 0))
        self.eligible_approvers: int | None = (
            int(d["eligible_approvers"]) if "eligible_approvers" in d else None
        )
        #: The request's status: ``pending``, or ``approved`` while a critical delay runs.
        self.status: str = str(d.get("status", "pending"))
        self.operation: str = str(d.get("operation", "read"))
        at = d.get("available_at")
        self.available_at: datetime | None = _parse_time(at) if isinstance(at, str) else None


class NotFound(KeyholdError):
    code = "not_found"


class Conflict(KeyholdError):
    code = "conflict"


class PayloadTooLarge(KeyholdError):
    code = "payload_too_large"


class RateLimited(KeyholdError):
    """Too many requests; ``retry_after`` seconds from ``Retry-After`` when given."""

    code = "rate_limited"

    @property
    def retry_after(self) -> float | None:
        v = self.details.get("retry_after")
        return float(v) if isinstance(v, (int, float)) else None


class Unavailable(KeyholdError):
    code = "unavailable"


class InternalError(KeyholdError):
    code = "internal"


class ConnectionFailed(KeyholdError):
    """The server could not be reached or the connection broke (no HTTP answer)."""

    code = "connection_failed"


class ApprovalDenied(KeyholdError):
    """An approver denied the request; ``details['deny_reason']`` says why."""

    code = "approval_denied"


class ApprovalExpired(KeyholdError):
    """The request expired, was voided or its grant was used before the wait ended."""

    code = "approval_expired"


class ApprovalTimeout(KeyholdError, TimeoutError):
    """``wait_for_approval`` gave up: the request is still pending."""

    code = "approval_timeout"


_BY_CODE: dict[str, type[KeyholdError]] = {
    cls.code: cls
    for cls in (
        InvalidRequest,
        Unauthenticated,
        MfaRequired,
        ReauthRequired,
        Forbidden,
        ApprovalRequired,
        NotFound,
        Conflict,
        PayloadTooLarge,
        RateLimited,
        Unavailable,
        InternalError,
    )
}

_BY_STATUS: dict[int, type[KeyholdError]] = {
    400: InvalidRequest,
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    422: InvalidRequest,
    429: RateLimited,
    503: Unavailable,
}


def error_from_body(status: int, body: Any, retry_after: str | None = None) -> KeyholdError:
    """The exception for an error answer: by its ``code``, else by its status."""
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict) and isinstance(err.get("code"), str):
        code = str(err["code"])
        message = str(err.get("message", ""))
        details = {k: v for k, v in err.items() if k not in ("code", "message")}
    else:
        code = ""
        message = f"HTTP {status} without an error body"
        details = {}
    if retry_after is not None and "retry_after" not in details:
        try:
            details["retry_after"] = int(retry_after)
        except ValueError:
            pass
    cls = _BY_CODE.get(code) or _BY_STATUS.get(status) or (
        InternalError if status >= 500 else KeyholdError
    )
    return cls(message, code=code or cls.code, http_status=status, details=details)


def _parse_time(text: str) -> datetime:
    # fromisoformat on 3.10 takes neither "Z" nor more than 6 fractional digits.
    t = text.strip()
    if t.endswith("Z") or t.endswith("z"):
        t = t[:-1] + "+00:00"
    head, sep, rest = t.partition(".")
    if sep:
        digits = ""
        i = 0
        while i < len(rest) and rest[i].isdigit():
            digits += rest[i]
            i += 1
        t = f"{head}.{(digits + '000000')[:6]}{rest[i:]}"
    return datetime.fromisoformat(t)
