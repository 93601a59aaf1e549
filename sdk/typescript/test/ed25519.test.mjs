// Ed25519 agent keys against the real server: the SDK signs every request made with the
// key (RFC 9421) and the server accepts it; scoped tokens, approvals over the feed and
// revocation work as with a kha_ key.
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import * as kh from "../dist/index.js";
import { Ed25519Signer, Keyhold } from "../dist/index.js";
import { http, makeWorld, sleep, startServer, uid } from "./helpers.mjs";

let server;
let world;
before(async () => {
  server = await startServer();
  world = await makeWorld(server);
});
after(() => server?.stop());

/** A new Ed25519 agent key: only its public half is sent. */
async function signingKey(scopes) {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const out = await http(server, "POST", "/v1/keys", {
    token: world.owner,
    body: { name: `ed-${uid()}`, scopes, public_key: publicKey.export({ type: "spki", format: "pem" }) },
  });
  assert.ok(out.secret === undefined || out.secret === null);
  return { id: out.key.id, privateKey };
}

test("signed requests read and issue tokens", async () => {
  const path = `app/${uid()}`;
  await world.putSecret(path, "signed-read");
  const key = await signingKey(["secrets:read:app/*"]);
  const statuses = [];
  const client = new Keyhold({
    url: server.url,
    signer: new Ed25519Signer(key.id, key.privateKey),
    fetch: async (u, i) => {
      const r = await fetch(u, i);
      statuses.push(r.status);
      return r;
    },
  });
  assert.ok((await client.getSecret(path)).value.equals("signed-read"));
  assert.ok((await client.listSecrets("app/")).some((s) => s.path === path));
  const tok = await client.issueToken(["secrets:read:app/*"], { ttl: "1m", maxUses: 1 });
  assert.deepEqual(statuses, [200, 200, 201]);
  assert.ok((await new Keyhold({ url: server.url, token: tok.token }).getSecret(path)).value.equals("signed-read"));

  const dir = mkdtempSync(join(tmpdir(), "keyhold-ed-"));
  try {
    const file = join(dir, "agent.pem");
    writeFileSync(file, key.privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    const fromEnv = Keyhold.fromEnv({
      KEYHOLD_URL: server.url,
      KEYHOLD_AGENT_KEY_ID: key.id,
      KEYHOLD_AGENT_KEY_FILE: file,
      KEYHOLD_SCOPES: "secrets:read:app/*",
      KEYHOLD_TOKEN_TTL: "2s",
    });
    assert.ok((await fromEnv.getSecret(path)).value.equals("signed-read"));
    await sleep(2200);
    assert.ok((await fromEnv.getSecret(path)).value.equals("signed-read"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const issued = (await world.audit("token.issued")).filter((e) => e.actor.id === key.id && e.outcome === "success");
  assert.equal(issued.length, 3);
});

test("a signature by another key is refused", async () => {
  const key = await signingKey(["secrets:read:app/*"]);
  const impostor = new Ed25519Signer(key.id, generateKeyPairSync("ed25519").privateKey);
  await assert.rejects(
    new Keyhold({ url: server.url, signer: impostor }).listSecrets("app/"),
    (e) => e instanceof kh.Unauthenticated && e.httpStatus === 401,
  );
});

test("signed approvals and revocation", async () => {
  const path = `gated/${uid()}`;
  await world.putSecret(path, "signed-gated", "sensitive");
  const key = await signingKey(["secrets:read:gated/*"]);
  const client = new Keyhold({ url: server.url, signer: new Ed25519Signer(key.id, key.privateKey) });
  const err = await client.getSecret(path).catch((e) => e);
  assert.ok(err instanceof kh.ApprovalRequired, String(err));
  const approving = sleep(500).then(() => world.approve(err.approvalId));
  assert.equal((await client.waitForApproval(err.approvalId, 20)).status, "approved");
  await approving;
  assert.equal((await client.getSecret(path)).value.reveal(), "signed-gated");
  await world.revokeKey(key.id);
  await assert.rejects(client.listSecrets("gated/"), (e) => e instanceof kh.Unauthenticated);
});
