"""Ed25519 request signatures (RFC 9421 HTTP Message Signatures, RFC 9530 digests).

An Ed25519 agent key's private half stays on the agent's machine: every request made with
the key carries a signature over its method, target URI and (with a body) its
``Content-Digest``, a creation time and a fresh nonce, instead of a bearer secret.
See docs/credentials.md for the exact format the server checks.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["Ed25519Signer", "content_digest", "KEYRING_SERVICE"]

#: The OS keyring service under which ``keyhold keys create --ed25519`` keeps private keys
#: (the CLI's), each under the user name ``agent-key-ed25519:<key id>``.
KEYRING_SERVICE = "dev.keyhold.cli"

LABEL = "sig1"


def content_digest(body: bytes) -> str:
    """The RFC 9530 ``Content-Digest`` value of ``body``: ``sha-256=:<base64>:``."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


class Ed25519Signer:
    """Signs requests as agent key ``key_id`` with its Ed25519 private key."""

    __slots__ = ("key_id", "__key")

    def __init__(self, key_id: str, private_key: Ed25519PrivateKey) -> None:
        if not key_id or '"' in key_id or "\\" in key_id:
            raise ValueError("key_id must be a non-empty agent key id")
        self.key_id = key_id
        self.__key = private_key

    def __repr__(self) -> str:
        return f"Ed25519Signer(key_id={self.key_id!r})"

    @classmethod
    def from_pem(cls, key_id: str, pem: bytes | str) -> Ed25519Signer:
        """From a PKCS#8 PEM (``-----BEGIN PRIVATE KEY-----``) holding an Ed25519 key."""
        data = pem.encode() if isinstance(pem, str) else pem
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the PEM does not hold an Ed25519 private key")
        return cls(key_id, key)

    @classmethod
    def from_file(cls, key_id: str, path: str | os.PathLike[str]) -> Ed25519Signer:
        """From a PKCS#8 PEM file (as ``keyhold keys create --ed25519`` writes it, 0600)."""
        return cls.from_pem(key_id, Path(path).read_bytes())

    @classmethod
    def from_keyring(cls, key_id: str, service: str = KEYRING_SERVICE) -> Ed25519Signer:
        """From the OS keyring (needs the ``keyring`` extra): the PEM that
        ``keyhold keys create --ed25519`` stored there."""
        try:
            import keyring
        except ImportError as e:  # pragma: no cover - depends on the extra
            raise RuntimeError("install keyhold[keyring] to read keys from the OS keyring") from e
        pem = keyring.get_password(service, f"agent-key-ed25519:{key_id}")
        if pem is None:
            raise LookupError(f"no key {key_id!r} in the OS keyring (service {service!r})")
        return cls.from_pem(key_id, pem)

    def public_key_pem(self) -> str:
        """The public half as SPKI PEM: what ``POST /v1/keys`` takes as ``public_key``."""
        return (
            self.__key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    def headers(
        self,
        method: str,
        url: str,
        body: bytes | None,
        *,
        created: int | None = None,
        nonce: str | None = None,
    ) -> dict[str, str]:
        """The headers that sign this request: ``Signature-Input``, ``Signature`` and,
        when there is a body, ``Content-Digest``."""
        out: dict[str, str] = {}
        components = ['"@method"', '"@target-uri"']
        lines = [f'"@method": {method.upper()}', f'"@target-uri": {url}']
        if body:
            digest = content_digest(body)
            out["Content-Digest"] = digest
            components.append('"content-digest"')
            lines.append(f'"content-digest": {digest}')
        created = int(time.time()) if created is None else created
        nonce = nonce or base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()
        params = (
            f"({' '.join(components)});created={created};keyid=\"{self.key_id}\""
            f';nonce="{nonce}";alg="ed25519"'
        )
        lines.append(f'"@signature-params": {params}')
        base = "\n".join(lines).encode()
        sig = base64.b64encode(self.__key.sign(base)).decode()
        out["Signature-Input"] = f"{LABEL}={params}"
        out["Signature"] = f"{LABEL}=:{sig}:"
        return out
