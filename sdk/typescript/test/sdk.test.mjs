// The built SDK (dist/) against the real server: reads, the scoped token it keeps for
// itself, revocation, typed errors, and secrets that never show themselves.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { readFileSync } from "node:fs";
import { inspect } from "node:util";

import * as kh from "../dist/index.js";
import { Keyhold, clock } from "../dist/index.js";
import { makeWorld, sleep, startServer, uid } from "./helpers.mjs";

let server;
let world;
before(async () => {
  server = await startServer();
  world = await makeWorld(server);
});
after(() => server?.stop());

/** The platform's fetch, noting each answer's status. */
function statusRecorder() {
  const statuses = [];
  const f = async (url, init) => {
    const r = await fetch(url, init);
    statuses.push(r.status);
    return r;
  };
  return { statuses, fetch: f };
}

const fresh = () => `app/${uid()}`;
const issuedBy = async (keyId) =>
  (await world.audit("token.issued")).filter((e) => e.actor.id === keyId && e.outcome === "success");

test("reads with a token from the environment", async () => {
  const path = fresh();
  await world.putSecret(path, "s3cr3t-from-env");
  const key = await world.agentKey(["secrets:read:app/*"]);
  const tok = await new Keyhold({ url: server.url, agentKey: key.secret }).issueToken(["secrets:read:app/*"], {
    ttl: "5m",
    maxUses: 10,
  });
  const client = Keyhold.fromEnv({ KEYHOLD_URL: server.url, KEYHOLD_TOKEN: tok.token.reveal() });
  const s = await client.getSecret(path);
  assert.equal(s.value.reveal(), "s3cr3t-from-env");
  assert.deepEqual([s.path, s.version, s.tier, s.type], [path, 1, "standard", "generic"]);
  const listed = await client.listSecrets("app/");
  assert.ok(listed.some((x) => x.path === path));
  assert.ok(listed.every((x) => !("value" in x)));
  await assert.rejects(client.getSecret("app/does-not-exist"), (e) => {
    assert.ok(e instanceof kh.NotFound);
    assert.equal(e.code, "not_found");
    assert.equal(e.httpStatus, 404);
    return true;
  });
  const reads = (await world.audit("secret.read")).filter((e) => e.target === `secret:${path}`);
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  assert.equal(kh.VERSION, pkg.version);
  assert.equal(reads.at(-1).user_agent, `keyhold-typescript/${pkg.version}`);
});

test("an agent key from the environment reads through its own scoped token", async () => {
  const path = fresh();
  await world.putSecret(path, "via-env-key");
  const key = await world.agentKey(["secrets:read:app/*"]);
  const client = Keyhold.fromEnv({
    KEYHOLD_URL: server.url,
    KEYHOLD_AGENT_KEY: key.secret,
    KEYHOLD_SCOPES: "secrets:read:app/*",
    KEYHOLD_TOKEN_TTL: "1m",
  });
  assert.ok((await client.getSecret(path)).value.equals("via-env-key"));
  const issued = await issuedBy(key.id);
  assert.equal(issued.length, 1);
  assert.deepEqual(issued[0].detail.scopes, ["secrets:read:app/*"]);
  const reads = (await world.audit("secret.read")).filter((e) => e.target === `secret:${path}`);
  assert.equal(reads.length, 1);
  assert.equal(reads[0].actor.type, "token");
  assert.throws(() => Keyhold.fromEnv({ KEYHOLD_URL: server.url }), (e) => e.code === "configuration");
});

test("errors are typed and carry the contract code", async () => {
  const key = await world.agentKey(["secrets:read:app/*"]);
  const client = new Keyhold({ url: server.url, agentKey: key.secret });
  await assert.rejects(client.issueToken(["secrets:read:other/*"]), (e) => {
    assert.ok(e instanceof kh.Forbidden && e.code === "forbidden" && e.httpStatus === 403);
    return true;
  });
  await assert.rejects(client.issueToken(["secrets:read:app/*"], { ttl: "soon" }), (e) => {
    assert.ok(e instanceof kh.InvalidRequest && e.code === "invalid_request");
    assert.equal(e.details.field, "ttl");
    return true;
  });
  const wrong = new Keyhold({ url: server.url, agentKey: "kha_" + "0".repeat(81) });
  await assert.rejects(wrong.getSecret("app/x"), (e) => e instanceof kh.Unauthenticated && e.httpStatus === 401);
  const nowhere = new Keyhold({ url: "http://127.0.0.1:9", token: "kht_x", timeoutMs: 2000 });
  await assert.rejects(nowhere.getSecret("app/x"), (e) => e instanceof kh.ConnectionFailed);
});

test("the scoped token is refreshed across its expiry", async () => {
  const path = fresh();
  await world.putSecret(path, "v1");
  const key = await world.agentKey(["secrets:read:app/*"]);
  const rec = statusRecorder();
  const client = new Keyhold({
    url: server.url,
    agentKey: key.secret,
    scopes: ["secrets:read:app/*"],
    tokenTtl: "2s",
    fetch: rec.fetch,
  });
  const first = await Promise.all([1, 2, 3].map(() => client.getSecret(path)));
  assert.ok(first.every((s) => s.value.equals("v1")));
  assert.equal((await issuedBy(key.id)).length, 1, "concurrent first reads share one token");
  await sleep(2200);
  assert.ok((await client.getSecret(path)).value.equals("v1"));
  assert.equal((await issuedBy(key.id)).length, 2);
  const reads = (await world.audit("secret.read")).filter((e) => e.target === `secret:${path}`);
  assert.equal(reads.length, 4);
  assert.ok(reads.every((e) => e.actor.type === "token"));
  // Replaced before it lapsed, not after a refusal: the server never said 401.
  assert.ok(!rec.statuses.includes(401), rec.statuses.join(" "));
});

test("a token that just expired is replaced and the call retried once", async () => {
  const path = fresh();
  await world.putSecret(path, "v1");
  const key = await world.agentKey(["secrets:read:app/*"]);
  const real = clock.now;
  const rec = statusRecorder();
  clock.now = () => Date.now() - 30_000; // the client's clock runs 30 s slow
  try {
    const client = new Keyhold({
      url: server.url,
      agentKey: key.secret,
      scopes: ["secrets:read:app/*"],
      tokenTtl: "1s",
      fetch: rec.fetch,
    });
    assert.ok((await client.getSecret(path)).value.equals("v1"));
    await sleep(1300);
    assert.ok((await client.getSecret(path)).value.equals("v1"));
    assert.deepEqual(rec.statuses, [201, 200, 401, 201, 200]);
  } finally {
    clock.now = real;
  }
  assert.equal((await issuedBy(key.id)).length, 2);
});

test("revocation is seen on the next call", async () => {
  const path = fresh();
  await world.putSecret(path, "v1");
  const key = await world.agentKey(["secrets:read:app/*"]);
  const client = new Keyhold({ url: server.url, agentKey: key.secret, scopes: ["secrets:read:app/*"] });
  assert.ok((await client.getSecret(path)).value.equals("v1"));
  await world.revokeKey(key.id);
  await assert.rejects(client.getSecret(path), (e) => e instanceof kh.Unauthenticated && e.code === "unauthenticated");
  assert.equal((await issuedBy(key.id)).length, 1);
});

test("values never show in inspect, strings, JSON or console output", async () => {
  const path = fresh();
  const value = `hunter2-${uid()}`;
  await world.putSecret(path, value);
  const key = await world.agentKey(["secrets:read:app/*"]);
  const client = new Keyhold({ url: server.url, agentKey: key.secret, scopes: ["secrets:read:app/*"] });
  const s = await client.getSecret(path);
  const tok = await client.issueToken(["secrets:read:app/*"], { ttl: "1m" });
  const logged = [];
  const orig = console.log;
  console.log = (...args) => logged.push(args.map((a) => (typeof a === "string" ? a : inspect(a, { depth: 5 }))).join(" "));
  try {
    console.log("secret", s, s.value, tok, client);
    console.log(`${s.value}`);
  } finally {
    console.log = orig;
  }
  const shown = [
    inspect(s, { depth: 5, showHidden: true }),
    inspect(tok, { depth: 5 }),
    inspect(client, { depth: 5 }),
    JSON.stringify(s),
    JSON.stringify({ tok, client }),
    String(s.value),
    `${s.value}`,
    s.value + "",
    ...logged,
  ].join("\n");
  for (const hidden of [value, key.secret, tok.token.reveal()]) assert.ok(!shown.includes(hidden), shown);
  assert.ok(shown.includes("**********"));
  assert.equal(s.value.reveal(), value);
  assert.ok(s.value.equals(value) && !s.value.equals(value + "x"));
});

test("the User-Agent names the SDK and its version", async () => {
  const seen = [];
  const fake = async (url, init) => {
    seen.push(init.headers["User-Agent"]);
    return new Response(JSON.stringify({ items: [], next_cursor: null }), { status: 200 });
  };
  const client = new Keyhold({ url: "http://keyhold.test", token: "kht_x", fetch: fake });
  assert.deepEqual(await client.listSecrets(), []);
  assert.deepEqual(seen, [`keyhold-typescript/${kh.VERSION}`]);
});
