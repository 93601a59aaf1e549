"""Gated reads: ``ApprovalRequired``, then waiting on the live approvals feed while a
person (the test's approver, over HTTP) decides."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

import keyhold
from keyhold import AsyncKeyhold, Keyhold

from conftest import Recorder, World, after


def sensitive(world: World, value: str) -> str:
    path = f"gated/{uuid.uuid4().hex[:10]}"
    world.put_secret(path, value, tier="sensitive")
    return path


def test_gated_read_raises_then_waits_on_the_feed_while_a_person_approves(world: World) -> None:
    path = sensitive(world, "behind-the-gate")
    _, key = world.agent_key(["secrets:read:gated/*"])
    rec = Recorder()
    with Keyhold(world.server.url, agent_key=key, scopes=["secrets:read:gated/*"], transport=rec) as kh:
        with pytest.raises(keyhold.ApprovalRequired) as e:
            kh.get_secret(path)
        err = e.value
        assert err.code == "approval_required" and err.http_status == 403
        assert err.approval_id and err.required_approvals == 1 and err.status == "pending"
        started = time.monotonic()
        after(1.0, world.approve, err.approval_id)
        a = kh.wait_for_approval(err.approval_id, timeout=20)
        waited = time.monotonic() - started
        assert a.status == "approved" and a.id == err.approval_id and a.path == path
        assert 0.9 < waited < 10, waited
        assert kh.get_secret(path).value.reveal() == "behind-the-gate"
    # One feed connection and one look at the request after subscribing: no polling.
    assert rec.seen.count("GET /v1/approvals/stream") == 1, rec.seen
    assert rec.seen.count(f"GET /v1/approvals/{err.approval_id}") == 1, rec.seen


def test_get_secret_wait_does_both(world: World) -> None:
    path = sensitive(world, "waited-for")
    _, key = world.agent_key(["secrets:read:gated/*"])
    with Keyhold(world.server.url, agent_key=key) as kh:
        pending = {"id": ""}

        def approve_when_asked() -> None:
            deadline = time.monotonic() + 10
            with world.server.http(world.approver) as c:
                while time.monotonic() < deadline:
                    items = c.get("/v1/approvals", params={"status": "pending"}).json()["items"]
                    mine = [i for i in items if i["path"] == path]
                    if mine:
                        pending["id"] = mine[0]["id"]
                        world.approve(mine[0]["id"])
                        return
                    time.sleep(0.2)

        after(0.5, approve_when_asked)
        assert kh.get_secret(path, wait=20).value.reveal() == "waited-for"
        assert pending["id"]


def test_a_denial_and_a_timeout_end_the_wait(world: World) -> None:
    _, key = world.agent_key(["secrets:read:gated/*"])
    with Keyhold(world.server.url, agent_key=key, scopes=["secrets:read:gated/*"]) as kh:
        with pytest.raises(keyhold.ApprovalRequired) as e:
            kh.get_secret(sensitive(world, "never"))
        started = time.monotonic()
        with pytest.raises(keyhold.ApprovalTimeout):
            kh.wait_for_approval(e.value.approval_id, timeout=1.0)
        assert time.monotonic() - started < 4
        after(0.5, world.deny, e.value.approval_id)
        started = time.monotonic()
        with pytest.raises(keyhold.ApprovalDenied) as d:
            kh.wait_for_approval(e.value.approval_id, timeout=20)
        assert d.value.code == "approval_denied" and "not today" in str(d.value)
        assert time.monotonic() - started < 5  # told by the feed, not found on a reconnect


def test_async_wait_for_approval(world: World) -> None:
    path = sensitive(world, "async-gated")
    _, key = world.agent_key(["secrets:read:gated/*"])

    async def run() -> str:
        async with AsyncKeyhold(world.server.url, agent_key=key, scopes=["secrets:read:gated/*"]) as kh:
            with pytest.raises(keyhold.ApprovalRequired) as e:
                await kh.get_secret(path)
            after(1.0, world.approve, e.value.approval_id)
            a = await kh.wait_for_approval(e.value.approval_id, timeout=20)
            assert a.status == "approved"
            with pytest.raises(keyhold.ApprovalTimeout):
                other = sensitive(world, "x")
                try:
                    await kh.get_secret(other)
                except keyhold.ApprovalRequired as again:
                    await kh.wait_for_approval(again.approval_id, timeout=0.5)
            return (await kh.get_secret(path)).value.reveal()

    assert asyncio.run(run()) == "async-gated"


def test_an_approval_decided_before_the_wait_is_not_missed(world: World) -> None:
    path = sensitive(world, "early")
    _, key = world.agent_key(["secrets:read:gated/*"])
    with Keyhold(world.server.url, agent_key=key) as kh:
        with pytest.raises(keyhold.ApprovalRequired) as e:
            kh.get_secret(path)
        world.approve(e.value.approval_id)
        started = time.monotonic()
        assert kh.wait_for_approval(e.value.approval_id, timeout=20).status == "approved"
        assert time.monotonic() - started < 3
        assert kh.get_secret(path).value.reveal() == "early"
