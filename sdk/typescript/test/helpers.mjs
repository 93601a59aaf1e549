// The real keyhold-server for the SDK's tests: started on an ephemeral loopback port with
// a temporary data dir and set up over plain HTTP (not through the SDK): an owner, an
// approver who joined by invitation, secrets, agent keys.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { randomUUID } from "node:crypto";

export const PASSWORD = "violet anchor quietly juggles seven kites";
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

function serverBinary() {
  if (process.env.KEYHOLD_SERVER_BIN) return process.env.KEYHOLD_SERVER_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? join(ROOT, "target");
  const bin = join(target, "debug", "keyhold-server");
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run cargo build --workspace --bins first`);
  return bin;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const uid = () => randomUUID().replaceAll("-", "").slice(0, 10);

export async function startServer() {
  const dataDir = mkdtempSync(join(tmpdir(), "keyhold-sdk-ts-"));
  const env = { ...process.env, KEYHOLD_LOG: "info" };
  delete env.KEYHOLD_MASTER_KEY;
  const proc = spawn(serverBinary(), ["--data-dir", dataDir, "--listen", "127.0.0.1:0"], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log = [];
  proc.stderr.on("data", (d) => log.push(String(d)));
  const url = await new Promise((ok, fail) => {
    const rl = createInterface({ input: proc.stdout });
    rl.on("line", (l) => {
      log.push(l);
      if (l.startsWith("listening on ")) ok(l.slice("listening on ".length).trim());
    });
    proc.on("exit", () => fail(new Error("server exited before listening:\n" + log.join(""))));
  });
  return {
    url,
    dataDir,
    log,
    async stop() {
      proc.kill("SIGTERM");
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.on("exit", r)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function http(server, method, path, { token, body, query } = {}) {
  const url = new URL(server.url + path);
  for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, String(v));
  const resp = await fetch(url, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body ? { "Content-Type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await resp.text();
  if (resp.status >= 400) throw new Error(`${method} ${path}: ${resp.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** The newest link to `path` mailed to `to` (the outbox folder of .eml files). */
async function mailedLink(server, to, path) {
  const deadline = Date.now() + 10_000;
  const outbox = join(server.dataDir, "outbox");
  while (Date.now() < deadline) {
    let found;
    for (const f of existsSync(outbox) ? readdirSync(outbox).sort() : []) {
      if (!f.endsWith(".eml")) continue;
      // Undo quoted-printable soft breaks and =3D before looking for the link.
      const text = readFileSync(join(outbox, f), "utf8").replace(/=\r?\n/g, "").replace(/=3D/g, "=");
      if (!text.includes(to)) continue;
      const m = text.match(new RegExp(`https?://[^\\s"<>]*${path}\\?[^\\s"<>]+`));
      if (m) found = m[0];
    }
    if (found) return found;
    await sleep(100);
  }
  throw new Error(`no ${path} link mailed to ${to}`);
}

async function login(server, email) {
  return (await http(server, "POST", "/v1/auth/login", { body: { email, password: PASSWORD } })).session_token;
}

/** A tenant ready for an agent: the owner's and an approver's sessions. */
export async function makeWorld(server) {
  const owner = `owner-${uid()}@example.com`;
  await http(server, "POST", "/v1/auth/signup", { body: { email: owner, password: PASSWORD } });
  const ownerSession = await login(server, owner);
  const approver = `approver-${uid()}@example.com`;
  await http(server, "POST", "/v1/members/invitations", {
    token: ownerSession,
    body: { email: approver, role: "approver" },
  });
  const invitation = (await mailedLink(server, approver, "/signup")).split("invitation=")[1];
  await http(server, "POST", "/v1/auth/signup", { body: { email: approver, password: PASSWORD, invitation } });
  const approverSession = await login(server, approver);
  return {
    server,
    owner: ownerSession,
    approver: approverSession,
    putSecret: (path, value, tier = "standard") =>
      http(server, "PUT", `/v1/secrets/${path}`, { token: ownerSession, body: { value, tier } }),
    async agentKey(scopes) {
      const out = await http(server, "POST", "/v1/keys", {
        token: ownerSession,
        body: { name: `sdk-ts-${uid()}`, scopes },
      });
      return { id: out.key.id, secret: out.secret };
    },
    revokeKey: (id) => http(server, "DELETE", `/v1/keys/${id}`, { token: ownerSession }),
    approve: (id) =>
      http(server, "POST", `/v1/approvals/${id}/approve`, { token: approverSession, body: { comment: "ok" } }),
    deny: (id) =>
      http(server, "POST", `/v1/approvals/${id}/deny`, { token: approverSession, body: { reason: "not today" } }),
    async audit(action) {
      return (await http(server, "GET", "/v1/audit", { token: ownerSession, query: { action, limit: 500 } })).items;
    },
  };
}
