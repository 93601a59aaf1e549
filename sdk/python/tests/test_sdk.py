"""The installed ``keyhold`` wheel against the real server: reads, the scoped token it
keeps for itself, revocation, typed errors, and secrets that never show themselves."""

from __future__ import annotations

import asyncio
import logging
import pickle
import time
import uuid

import httpx
import pytest

import keyhold
from keyhold import AsyncKeyhold, Keyhold

from conftest import Recorder, World


def fresh(prefix: str = "app") -> str:
    return f"{prefix}/{uuid.uuid4().hex[:10]}"


def issued_by(world: World, key_id: str) -> list[dict[str, object]]:
    return [
        e
        for e in world.audit("token.issued")
        if e["actor"]["id"] == key_id and e["outcome"] == "success"  # type: ignore[index]
    ]


def test_installed_from_the_wheel_not_the_source_tree() -> None:
    assert "site-packages" in (keyhold.__file__ or ""), keyhold.__file__


def test_reads_with_a_token_from_the_environment(world: World) -> None:
    path = fresh()
    world.put_secret(path, "s3cr3t-from-env")
    key_id, key = world.agent_key(["secrets:read:app/*"])
    with Keyhold(world.server.url, agent_key=key) as issuer:
        tok = issuer.issue_token(["secrets:read:app/*"], ttl="5m", max_uses=10)
    env = {"KEYHOLD_URL": world.server.url, "KEYHOLD_TOKEN": tok.token.reveal()}
    with Keyhold.from_env(env) as kh:
        s = kh.get_secret(path)
        assert s.value.reveal() == "s3cr3t-from-env"
        assert (s.path, s.version, s.tier, s.type) == (path, 1, "standard", "generic")
        listed = kh.list_secrets(path.split("/")[0] + "/")
        assert path in [x.path for x in listed]
        assert all(not hasattr(x, "value") for x in listed)
        with pytest.raises(keyhold.NotFound) as nf:
            kh.get_secret("app/does-not-exist")
        assert nf.value.code == "not_found" and nf.value.http_status == 404
    reads = [e for e in world.audit("secret.read") if e["target"] == f"secret:{path}"]
    assert reads and reads[-1]["user_agent"] == f"keyhold-python/{keyhold.__version__}"


def test_an_agent_key_from_the_environment_reads_through_its_own_scoped_token(world: World) -> None:
    path = fresh()
    world.put_secret(path, "via-env-key")
    key_id, key = world.agent_key(["secrets:read:app/*"])
    env = {
        "KEYHOLD_URL": world.server.url,
        "KEYHOLD_AGENT_KEY": key,
        "KEYHOLD_SCOPES": "secrets:read:app/*",
        "KEYHOLD_TOKEN_TTL": "1m",
    }
    with Keyhold.from_env(env) as kh:
        assert kh.get_secret(path).value == "via-env-key"
    (issued,) = issued_by(world, key_id)
    assert issued["detail"]["scopes"] == ["secrets:read:app/*"]  # type: ignore[index]
    (read,) = [e for e in world.audit("secret.read") if e["target"] == f"secret:{path}"]
    assert read["actor"]["type"] == "token"  # type: ignore[index]
    with pytest.raises(keyhold.KeyholdError) as e:
        Keyhold.from_env({"KEYHOLD_URL": world.server.url})
    assert e.value.code == "configuration"


def test_errors_are_typed_and_carry_the_contract_code(world: World) -> None:
    _, key = world.agent_key(["secrets:read:app/*"])
    with Keyhold(world.server.url, agent_key=key) as kh:
        with pytest.raises(keyhold.Forbidden) as fb:
            kh.issue_token(["secrets:read:other/*"])
        assert fb.value.code == "forbidden" and fb.value.http_status == 403
        with pytest.raises(keyhold.InvalidRequest) as bad:
            kh.issue_token(["secrets:read:app/*"], ttl="soon")
        assert bad.value.code == "invalid_request" and bad.value.details.get("field") == "ttl"
    with Keyhold(world.server.url, agent_key="kha_" + "0" * 81) as wrong:
        with pytest.raises(keyhold.Unauthenticated) as un:
            wrong.get_secret("app/x")
        assert un.value.code == "unauthenticated" and un.value.http_status == 401


def test_the_scoped_token_is_refreshed_across_its_expiry(world: World) -> None:
    path = fresh()
    world.put_secret(path, "v1")
    key_id, key = world.agent_key(["secrets:read:app/*"])
    rec = Recorder()
    with Keyhold(
        world.server.url, agent_key=key, scopes=["secrets:read:app/*"], token_ttl="2s", transport=rec
    ) as kh:
        assert kh.get_secret(path).value == "v1"
        assert kh.get_secret(path).value == "v1"
        assert len(issued_by(world, key_id)) == 1
        time.sleep(2.2)
        assert kh.get_secret(path).value == "v1"
    assert len(issued_by(world, key_id)) == 2
    # Replaced before it lapsed, not after a refusal: the server never said 401.
    assert 401 not in rec.statuses, list(zip(rec.seen, rec.statuses))
    # The key itself read nothing: every read went out with a scoped token.
    reads = [e for e in world.audit("secret.read") if e["target"] == f"secret:{path}"]
    assert len(reads) == 3 and all(e["actor"]["type"] == "token" for e in reads), reads


def test_a_token_that_just_expired_is_replaced_and_the_call_retried_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = fresh()
    world.put_secret(path, "v1")
    key_id, key = world.agent_key(["secrets:read:app/*"])
    # The client's clock runs 30 s slow: it believes its token still good after expiry.
    monkeypatch.setattr(keyhold._core, "now", lambda: time.time() - 30)
    rec = Recorder()
    with Keyhold(
        world.server.url, agent_key=key, scopes=["secrets:read:app/*"], token_ttl="1s", transport=rec
    ) as kh:
        assert kh.get_secret(path).value == "v1"
        time.sleep(1.3)
        assert kh.get_secret(path).value == "v1"
    assert len(issued_by(world, key_id)) == 2
    assert rec.statuses == [201, 200, 401, 201, 200], list(zip(rec.seen, rec.statuses))


def test_revocation_is_seen_on_the_next_call(world: World) -> None:
    path = fresh()
    world.put_secret(path, "v1")
    key_id, key = world.agent_key(["secrets:read:app/*"])
    with Keyhold(world.server.url, agent_key=key, scopes=["secrets:read:app/*"]) as kh:
        assert kh.get_secret(path).value == "v1"
        world.revoke_key(key_id)
        with pytest.raises(keyhold.Unauthenticated) as e:
            kh.get_secret(path)
        assert e.value.code == "unauthenticated"
    # One retry, no more: the refused token was replaced once, and that was refused too.
    refused = [e for e in world.audit("token.issued") if e["actor"]["id"] == key_id]
    assert len([e for e in refused if e["outcome"] == "success"]) == 1


def test_async_client_has_the_same_surface(world: World) -> None:
    path = fresh()
    world.put_secret(path, "async-value")
    key_id, key = world.agent_key(["secrets:read:app/*"])

    async def run() -> None:
        async with AsyncKeyhold(
            world.server.url, agent_key=key, scopes=["secrets:read:app/*"], token_ttl="2s"
        ) as kh:
            got = await asyncio.gather(*(kh.get_secret(path) for _ in range(5)))
            assert {s.value.reveal() for s in got} == {"async-value"}
            assert path in [s.path for s in await kh.list_secrets("app/")]
            await asyncio.sleep(2.2)
            assert (await kh.get_secret(path)).value == "async-value"
            with pytest.raises(keyhold.NotFound):
                await kh.get_secret("app/nothing-here")

    asyncio.run(run())
    # Five concurrent first reads shared one token (the lock), then one refresh.
    assert len(issued_by(world, key_id)) == 2


def test_values_never_show_in_repr_str_or_logs(world: World, caplog: pytest.LogCaptureFixture) -> None:
    path = fresh()
    value = "hunter2-" + uuid.uuid4().hex
    world.put_secret(path, value)
    _, key = world.agent_key(["secrets:read:app/*"])
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("agent")
    with Keyhold(world.server.url, agent_key=key, scopes=["secrets:read:app/*"]) as kh:
        s = kh.get_secret(path)
        tok = kh.issue_token(["secrets:read:app/*"], ttl="1m")
        shown = [repr(s), str(s), f"{s}", "%s" % s.value, repr(s.value), str(s.value), f"{s.value:>20}", repr(tok), repr(kh)]
        log.info("secret %s value %s token %r", s, s.value, tok)
        log.debug("all: %r", [s, tok])
    everything = "\n".join(shown) + "\n" + caplog.text
    for hidden in (value, key, tok.token.reveal()):
        assert hidden not in everything
    assert "**********" in repr(s.value)
    assert s.value.reveal() == value and s.value == value and len(s.value) == len(value)
    with pytest.raises(TypeError):
        pickle.dumps(s.value)
    with pytest.raises(TypeError):
        hash(s.value)


def test_transport_errors_are_typed() -> None:
    with Keyhold("http://127.0.0.1:9", token="kht_x", timeout=2) as kh:
        with pytest.raises(keyhold.ConnectionFailed) as e:
            kh.get_secret("app/x")
    assert e.value.code == "connection_failed"


def test_user_agent_names_the_sdk_and_version() -> None:
    seen: list[str] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req.headers["user-agent"])
        return httpx.Response(200, json={"items": [], "next_cursor": None})

    with Keyhold("http://keyhold.test", token="kht_x", transport=httpx.MockTransport(handler)) as kh:
        assert kh.list_secrets() == []
    assert seen == [f"keyhold-python/{keyhold.__version__}"]
