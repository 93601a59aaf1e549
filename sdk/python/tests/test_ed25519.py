"""Ed25519 agent keys against the real server: the SDK signs every request made with the
key (RFC 9421) and the server accepts it; scoped tokens, approvals over the feed and
revocation work as with a ``kha_`` key. The private key never leaves this process."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import keyhold
from keyhold import AsyncKeyhold, Ed25519Signer, Keyhold

from conftest import Recorder, World, _ok, after


def signing_key(world: World, scopes: list[str]) -> tuple[str, Ed25519PrivateKey]:
    """A new Ed25519 agent key: only its public half is sent."""
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    body = {"name": f"ed-{uuid.uuid4().hex[:8]}", "scopes": scopes, "public_key": public.decode()}
    with world.owner_http() as c:
        out = _ok(c.post("/v1/keys", json=body))
    assert "secret" not in out or out["secret"] is None
    return str(out["key"]["id"]), private


def test_signed_requests_read_and_issue_tokens(world: World, tmp_path: Path) -> None:
    path = f"app/{uuid.uuid4().hex[:10]}"
    world.put_secret(path, "signed-read")
    key_id, private = signing_key(world, ["secrets:read:app/*"])
    signer = Ed25519Signer(key_id, private)
    rec = Recorder()
    with Keyhold(world.server.url, signer=signer, transport=rec) as kh:
        assert kh.get_secret(path).value == "signed-read"
        assert path in [s.path for s in kh.list_secrets("app/")]
        tok = kh.issue_token(["secrets:read:app/*"], ttl="1m", max_uses=1)
    assert set(rec.statuses) <= {200, 201}, list(zip(rec.seen, rec.statuses))
    with Keyhold(world.server.url, token=tok.token) as kh:
        assert kh.get_secret(path).value == "signed-read"
    pem = tmp_path / "agent.pem"
    pem.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    pem.chmod(0o600)
    env = {
        "KEYHOLD_URL": world.server.url,
        "KEYHOLD_AGENT_KEY_ID": key_id,
        "KEYHOLD_AGENT_KEY_FILE": str(pem),
        "KEYHOLD_SCOPES": "secrets:read:app/*",
        "KEYHOLD_TOKEN_TTL": "2s",
    }
    with Keyhold.from_env(env) as kh:
        assert kh.get_secret(path).value == "signed-read"
        time.sleep(2.2)
        assert kh.get_secret(path).value == "signed-read"
    issued = [e for e in world.audit("token.issued") if e["actor"]["id"] == key_id and e["outcome"] == "success"]
    assert len(issued) == 3


def test_a_signature_by_another_key_is_refused(world: World) -> None:
    key_id, _ = signing_key(world, ["secrets:read:app/*"])
    impostor = Ed25519Signer(key_id, Ed25519PrivateKey.generate())
    with Keyhold(world.server.url, signer=impostor) as kh:
        with pytest.raises(keyhold.Unauthenticated) as e:
            kh.list_secrets("app/")
    assert e.value.http_status == 401


def test_signed_approvals_and_revocation(world: World) -> None:
    path = f"gated/{uuid.uuid4().hex[:10]}"
    world.put_secret(path, "signed-gated", tier="sensitive")
    key_id, private = signing_key(world, ["secrets:read:gated/*"])

    async def run() -> str:
        async with AsyncKeyhold(world.server.url, signer=Ed25519Signer(key_id, private)) as kh:
            with pytest.raises(keyhold.ApprovalRequired) as e:
                await kh.get_secret(path)
            after(0.5, world.approve, e.value.approval_id)
            assert (await kh.wait_for_approval(e.value.approval_id, timeout=20)).status == "approved"
            return (await kh.get_secret(path)).value.reveal()

    import asyncio

    assert asyncio.run(run()) == "signed-gated"
    with Keyhold(world.server.url, signer=Ed25519Signer(key_id, private)) as kh:
        kh.list_secrets("gated/")
        world.revoke_key(key_id)
        with pytest.raises(keyhold.Unauthenticated):
            kh.list_secrets("gated/")
