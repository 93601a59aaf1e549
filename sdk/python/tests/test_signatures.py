"""Both SDKs' Ed25519 request signatures verify with http-message-signatures (PyPI), an
RFC 9421 implementation nobody here wrote; and a changed method, path or body does not."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import (
    HTTPMessageVerifier,
    InvalidSignature,
    MappingKeyResolver,
    algorithms,
)

from keyhold import Ed25519Signer, Keyhold

KEY_ID = "0193f5c2a7d04c1e9b2a5f6e7d8c9b0a"
TS_DIST = Path(__file__).resolve().parents[2] / "typescript" / "dist" / "index.js"


def verifier(public_pem: bytes) -> HTTPMessageVerifier:
    resolver = MappingKeyResolver(public_keys={KEY_ID: public_pem}, private_keys={})
    return HTTPMessageVerifier(signature_algorithm=algorithms.ED25519, key_resolver=resolver)


def check(req: httpx.Request, public_pem: bytes, body: bytes | None) -> Any:
    """Verify as a server would: required components, the body's digest, the params."""
    required = ["@method", "@target-uri"] + (["content-digest"] if body else [])
    v = verifier(public_pem)
    (result,) = v.verify(req, require_components=required, body=body if body else None)
    params = result.parameters
    assert params["keyid"] == KEY_ID and params["alg"] == "ed25519"
    assert isinstance(params["created"], int)
    assert len(str(params["nonce"])) >= 22  # 128 bits, base64url
    return result


def python_signed() -> tuple[list[httpx.Request], bytes]:
    """Requests the Python SDK sends with an Ed25519 key (captured, not sent)."""
    key = Ed25519PrivateKey.generate()
    signer = Ed25519Signer(KEY_ID, key)
    sent: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        sent.append(req)
        if req.url.path == "/v1/tokens":
            return httpx.Response(
                201, json={"id": "t1", "token": "kht_x", "expires_at": "2099-01-01T00:00:00Z"}
            )
        return httpx.Response(
            200, json={"path": "a/b", "version": 1, "value": "v", "type": "generic", "tier": "standard"}
        )

    with Keyhold("http://127.0.0.1:8270", signer=signer, transport=httpx.MockTransport(handler)) as kh:
        kh.issue_token(["secrets:read:a/*"], ttl="5m")
        kh.get_secret("a/b", version=1)
    return sent, signer.public_key_pem().encode()


def test_python_sdk_signatures_verify_with_http_message_signatures() -> None:
    (post, get), public = python_signed()
    assert "authorization" not in post.headers and "authorization" not in get.headers
    check(post, public, post.content)
    assert post.headers["content-digest"].startswith("sha-256=:")
    check(get, public, None)
    assert "content-digest" not in get.headers
    assert "content-digest" not in get.headers["signature-input"]
    assert str(get.url) == "http://127.0.0.1:8270/v1/secrets/a/b?version=1"
    # Each request has its own nonce.
    assert post.headers["signature-input"].split("nonce=")[1] != get.headers["signature-input"].split("nonce=")[1]


def test_a_changed_request_does_not_verify() -> None:
    (post, get), public = python_signed()
    other_path = httpx.Request("GET", "http://127.0.0.1:8270/v1/secrets/a/c?version=1", headers=get.headers)
    with pytest.raises(InvalidSignature):
        check(other_path, public, None)
    other_method = httpx.Request("DELETE", get.url, headers=get.headers)
    with pytest.raises(InvalidSignature):
        check(other_method, public, None)
    with pytest.raises(InvalidSignature):
        check(post, public, post.content.replace(b"5m", b"9h"))
    stranger = Ed25519PrivateKey.generate().public_key()
    pem = stranger.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(InvalidSignature):
        check(get, pem, None)


TS_SIGN = """
import { generateKeyPairSync } from "node:crypto";
const { Ed25519Signer } = await import(process.argv[1]);
const { privateKey } = generateKeyPairSync("ed25519");
const signer = new Ed25519Signer(process.argv[2], privateKey);
const out = [];
for (const [method, url, body] of JSON.parse(process.argv[3])) {
  const bytes = body === null ? undefined : Buffer.from(body);
  out.push({ method, url, body, headers: signer.headers(method, url, bytes) });
}
console.log(JSON.stringify({ publicPem: signer.publicKeyPem(), requests: out }));
"""


def test_typescript_sdk_signatures_verify_with_http_message_signatures() -> None:
    assert TS_DIST.exists(), f"{TS_DIST} is missing: build the TypeScript SDK first (npm run build)"
    cases = [
        ["POST", "http://127.0.0.1:8270/v1/tokens", json.dumps({"scopes": ["secrets:read:a/*"]})],
        ["GET", "http://127.0.0.1:8270/v1/secrets/a/b?version=2", None],
    ]
    out = subprocess.run(
        ["node", "--input-type=module", "-e", TS_SIGN, str(TS_DIST), KEY_ID, json.dumps(cases)],
        check=True,
        capture_output=True,
        text=True,
    )
    signed = json.loads(out.stdout)
    public = signed["publicPem"].encode()
    for r in signed["requests"]:
        body = r["body"].encode() if r["body"] is not None else None
        req = httpx.Request(r["method"], r["url"], headers=r["headers"], content=body)
        check(req, public, body)
        tampered = httpx.Request(r["method"], r["url"].replace("/a/", "/z/"), headers=r["headers"], content=body)
        if "/a/" in r["url"]:
            with pytest.raises(InvalidSignature):
                check(tampered, public, body)
    post = signed["requests"][0]
    with pytest.raises(InvalidSignature):
        check(
            httpx.Request("POST", post["url"], headers=post["headers"], content=b"{}"),
            public,
            b"{}",
        )


def test_a_key_is_read_from_the_keyring_entry_the_cli_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring
    from keyring.backend import KeyringBackend

    class Memory(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self.items: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.items.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.items[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.items.pop((service, username), None)

    backend = Memory()
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    keyring.set_keyring(backend)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    # Where `keyhold keys create --ed25519` (without --key-file) keeps it.
    backend.set_password("dev.keyhold.cli", f"agent-key-ed25519:{KEY_ID}", pem)
    kh = Keyhold.from_env({"KEYHOLD_URL": "http://127.0.0.1:8270", "KEYHOLD_AGENT_KEY_ID": KEY_ID})
    signer = kh._cred.signer
    assert signer is not None and signer.key_id == KEY_ID
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert signer.public_key_pem().encode() == public
    with pytest.raises(LookupError):
        Ed25519Signer.from_keyring("0" * 32)
