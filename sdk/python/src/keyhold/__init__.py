"""Keyhold for Python agents: read secrets, issue scoped tokens, wait for approvals.

>>> from keyhold import Keyhold
>>> kh = Keyhold.from_env()
>>> db = kh.get_secret("production/db/PASSWORD", wait=300)
>>> connect(password=db.value.reveal())
"""

from ._version import __version__
from .aio import AsyncKeyhold
from .client import Keyhold
from .errors import (
    ApprovalDenied,
    ApprovalExpired,
    ApprovalRequired,
    ApprovalTimeout,
    Conflict,
    ConnectionFailed,
    Forbidden,
    InternalError,
    InvalidRequest,
    KeyholdError,
    MfaRequired,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ReauthRequired,
    Unauthenticated,
    Unavailable,
)
from .models import Approval, IssuedToken, Secret, SecretSummary, SecretValue
from .signing import Ed25519Signer

__all__ = [
    "__version__",
    "Keyhold",
    "AsyncKeyhold",
    "Ed25519Signer",
    "Secret",
    "SecretValue",
    "SecretSummary",
    "IssuedToken",
    "Approval",
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
]
