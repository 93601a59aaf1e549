// Gated reads: ApprovalRequired, then waiting on the live approvals feed while a person
// (the test's approver, over HTTP) decides.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import * as kh from "../dist/index.js";
import { Keyhold } from "../dist/index.js";
import { http, makeWorld, sleep, startServer, uid } from "./helpers.mjs";

let server;
let world;
before(async () => {
  server = await startServer();
  world = await makeWorld(server);
});
after(() => server?.stop());

async function sensitive(value) {
  const path = `gated/${uid()}`;
  await world.putSecret(path, value, "sensitive");
  return path;
}

/** The platform's fetch, noting each request's method and path. */
function recorder() {
  const seen = [];
  const f = (url, init) => {
    seen.push(`${init.method} ${new URL(url).pathname}`);
    return fetch(url, init);
  };
  return { seen, fetch: f };
}

const later = (ms, fn) => sleep(ms).then(fn);

test("a gated read throws, then the wait follows the feed while a person approves", async () => {
  const path = await sensitive("behind-the-gate");
  const key = await world.agentKey(["secrets:read:gated/*"]);
  const rec = recorder();
  const client = new Keyhold({ url: server.url, agentKey: key.secret, scopes: ["secrets:read:gated/*"], fetch: rec.fetch });
  const err = await client.getSecret(path).then(
    () => assert.fail("read without approval"),
    (e) => e,
  );
  assert.ok(err instanceof kh.ApprovalRequired);
  assert.equal(err.code, "approval_required");
  assert.equal(err.httpStatus, 403);
  assert.ok(err.approvalId);
  assert.equal(err.requiredApprovals, 1);
  assert.equal(err.status, "pending");
  const started = performance.now();
  const approving = later(1000, () => world.approve(err.approvalId));
  const a = await client.waitForApproval(err.approvalId, 20);
  const waited = performance.now() - started;
  await approving;
  assert.equal(a.status, "approved");
  assert.equal(a.id, err.approvalId);
  assert.ok(waited > 900 && waited < 10_000, String(waited));
  assert.equal((await client.getSecret(path)).value.reveal(), "behind-the-gate");
  assert.equal(rec.seen.filter((r) => r === "GET /v1/approvals/stream").length, 1, rec.seen.join("\n"));
  assert.equal(rec.seen.filter((r) => r === `GET /v1/approvals/${err.approvalId}`).length, 1, rec.seen.join("\n"));
});

test("getSecret with wait does both", async () => {
  const path = await sensitive("waited-for");
  const key = await world.agentKey(["secrets:read:gated/*"]);
  const client = new Keyhold({ url: server.url, agentKey: key.secret });
  const approver = (async () => {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      await sleep(200);
      const items = (await http(server, "GET", "/v1/approvals", { token: world.approver, query: { status: "pending" } })).items;
      const mine = items.find((i) => i.path === path);
      if (mine) return world.approve(mine.id);
    }
    throw new Error("no request to approve");
  })();
  const s = await client.getSecret(path, { wait: 20 });
  await approver;
  assert.equal(s.value.reveal(), "waited-for");
});

test("a denial and a timeout end the wait", async () => {
  const key = await world.agentKey(["secrets:read:gated/*"]);
  const client = new Keyhold({ url: server.url, agentKey: key.secret, scopes: ["secrets:read:gated/*"] });
  const err = await client.getSecret(await sensitive("never")).catch((e) => e);
  assert.ok(err instanceof kh.ApprovalRequired);
  const started = performance.now();
  await assert.rejects(client.waitForApproval(err.approvalId, 1), (e) => e instanceof kh.ApprovalTimeout);
  assert.ok(performance.now() - started < 4000);
  const denying = later(500, () => world.deny(err.approvalId));
  const denyStarted = performance.now();
  await assert.rejects(client.waitForApproval(err.approvalId, 20), (e) => {
    assert.ok(e instanceof kh.ApprovalDenied && e.code === "approval_denied");
    assert.match(e.message, /not today/);
    return true;
  });
  await denying;
  assert.ok(performance.now() - denyStarted < 5000, "told by the feed, not found on a reconnect");
});

test("an approval decided before the wait is not missed", async () => {
  const path = await sensitive("early");
  const key = await world.agentKey(["secrets:read:gated/*"]);
  const client = new Keyhold({ url: server.url, agentKey: key.secret });
  const err = await client.getSecret(path).catch((e) => e);
  assert.ok(err instanceof kh.ApprovalRequired);
  await world.approve(err.approvalId);
  const started = performance.now();
  assert.equal((await client.waitForApproval(err.approvalId, 20)).status, "approved");
  assert.ok(performance.now() - started < 3000);
  assert.equal((await client.getSecret(path)).value.reveal(), "early");
});
