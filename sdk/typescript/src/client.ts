import {
  ApprovalDenied,
  ApprovalExpired,
  ApprovalRequired,
  ApprovalTimeout,
  ConnectionFailed,
  KeyholdError,
  Unauthenticated,
  errorFromBody,
} from "./errors.js";
import {
  type Approval,
  type IssuedToken,
  type Secret,
  type SecretSummary,
  SecretValue,
  approvalFrom,
  secretFrom,
  summaryFrom,
  tokenFrom,
} from "./models.js";
import { Ed25519Signer } from "./signing.js";
import { SseParser, lines } from "./sse.js";
import { VERSION } from "./version.js";

export const USER_AGENT = `keyhold-typescript/${VERSION}`;

type Json = Record<string, unknown>;

export interface KeyholdOptions {
  /** The server's base URL, e.g. `https://vault.example.com`. */
  url: string;
  /** A `kht_` scoped token. */
  token?: string | SecretValue;
  /** A `kha_` agent key. */
  agentKey?: string | SecretValue;
  /** An Ed25519 agent key. */
  signer?: Ed25519Signer;
  /** With an agent key: issue and refresh a scoped token with these scopes, and make
   * every other request with it. Without: the key authenticates each request itself. */
  scopes?: string[];
  /** The scoped token's lifetime, default `"15m"`. */
  tokenTtl?: string;
  /** Per-request timeout, default 30 s. */
  timeoutMs?: number;
  /** Another fetch (tests, proxies); default the platform's. */
  fetch?: typeof fetch;
}

export interface IssueTokenOptions {
  ttl?: string;
  maxUses?: number;
  ipAllowlist?: string[];
}

export interface GetSecretOptions {
  version?: number;
  /** Seconds to wait for an approval on a gated read (over the live feed), then read. */
  wait?: number;
}

interface SendOptions {
  body?: Json;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  withKey?: boolean;
  signal?: AbortSignal;
}

/** How often the server sends a keep-alive on a feed; a silent feed is reconnected after. */
const FEED_SILENCE_MS = 20_000;

/** The client's clock (ms): token expiry is an absolute time the server sets. Exported
 * on `clock` so that tests can skew it. */
export const clock = { now: (): number => Date.now() };

/**
 * A Keyhold client for an agent. Give one credential: `token`, `agentKey` or `signer`.
 * With an agent key and `scopes`, the client issues a scoped token of `tokenTtl` for
 * itself, replaces it before it lapses, and retries a request once when the server
 * refuses that token (it just expired, ran out of uses, or was revoked).
 */
export class Keyhold {
  readonly url: string;
  readonly #token: SecretValue | undefined;
  readonly #agentKey: SecretValue | undefined;
  readonly #signer: Ed25519Signer | undefined;
  readonly #scopes: string[] | undefined;
  readonly #tokenTtl: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  #managed: { token: SecretValue; expiresAt: number; lifetime: number } | undefined;
  #issuing: Promise<SecretValue> | undefined;

  constructor(opts: KeyholdOptions) {
    const wrap = (v: string | SecretValue | undefined) => (typeof v === "string" ? new SecretValue(v) : v);
    this.url = opts.url.replace(/\/+$/, "");
    this.#token = wrap(opts.token);
    this.#agentKey = wrap(opts.agentKey);
    this.#signer = opts.signer;
    const given = [this.#token, this.#agentKey, this.#signer].filter((x) => x !== undefined);
    if (given.length !== 1) throw new TypeError("give exactly one of token, agentKey or signer");
    if (opts.scopes !== undefined && this.#token) throw new TypeError("scopes need an agent key");
    if (opts.scopes !== undefined && opts.scopes.length === 0) throw new TypeError("scopes must not be empty");
    this.#scopes = opts.scopes;
    this.#tokenTtl = opts.tokenTtl ?? "15m";
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#fetch = opts.fetch ?? globalThis.fetch;
  }

  /**
   * From `KEYHOLD_URL` and, as the CLI reads them, `KEYHOLD_TOKEN`, else
   * `KEYHOLD_AGENT_KEY`, else `KEYHOLD_AGENT_KEY_ID` with `KEYHOLD_AGENT_KEY_FILE` (PKCS#8
   * PEM); `KEYHOLD_SCOPES` (comma- or space-separated) and `KEYHOLD_TOKEN_TTL` optional.
   */
  static fromEnv(
    env: Record<string, string | undefined> = process.env,
    opts: Partial<Pick<KeyholdOptions, "timeoutMs" | "fetch">> = {},
  ): Keyhold {
    const url = env["KEYHOLD_URL"]?.trim();
    if (!url) throw new KeyholdError("KEYHOLD_URL is not set", "configuration");
    const scopes = (env["KEYHOLD_SCOPES"] ?? "").split(/[\s,]+/).filter(Boolean);
    const keyOpts = {
      ...(scopes.length ? { scopes } : {}),
      tokenTtl: env["KEYHOLD_TOKEN_TTL"]?.trim() || "15m",
    };
    if (env["KEYHOLD_TOKEN"]) return new Keyhold({ url, ...opts, token: env["KEYHOLD_TOKEN"].trim() });
    if (env["KEYHOLD_AGENT_KEY"]) {
      return new Keyhold({ url, ...opts, ...keyOpts, agentKey: env["KEYHOLD_AGENT_KEY"].trim() });
    }
    const keyId = env["KEYHOLD_AGENT_KEY_ID"]?.trim();
    const file = env["KEYHOLD_AGENT_KEY_FILE"];
    if (keyId && file) {
      return new Keyhold({ url, ...opts, ...keyOpts, signer: Ed25519Signer.fromFile(keyId, file) });
    }
    throw new KeyholdError(
      "set KEYHOLD_TOKEN, KEYHOLD_AGENT_KEY, or KEYHOLD_AGENT_KEY_ID with KEYHOLD_AGENT_KEY_FILE",
      "configuration",
    );
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `Keyhold(${this.url})`;
  }

  toJSON(): { url: string } {
    return { url: this.url };
  }

  // -- credentials -----------------------------------------------------------------

  /** The scoped token while it has more than its refresh margin left (a fifth of its
   * lifetime, at most a minute), else a new one; concurrent callers share one issue. */
  async #managedToken(): Promise<SecretValue> {
    const m = this.#managed;
    if (m && clock.now() < m.expiresAt - Math.min(60_000, m.lifetime / 5)) return m.token;
    if (!this.#issuing) {
      this.#issuing = (async () => {
        try {
          const t = await this.#issue(this.#scopes ?? [], { ttl: this.#tokenTtl });
          const expiresAt = t.expiresAt.getTime();
          this.#managed = { token: t.token, expiresAt, lifetime: Math.max(0, expiresAt - clock.now()) };
          return t.token;
        } finally {
          this.#issuing = undefined;
        }
      })();
    }
    return this.#issuing;
  }

  async #send(method: string, path: string, opts: SendOptions = {}): Promise<Response> {
    for (let attempt = 1; attempt <= 2; attempt++) {
      const token = this.#scopes && !opts.withKey ? await this.#managedToken() : undefined;
      const bearer = token ?? this.#token ?? this.#agentKey;
      const url = new URL(this.url + path);
      for (const [k, v] of Object.entries(opts.query ?? {})) {
        if (v !== undefined) url.searchParams.set(k, String(v));
      }
      const body = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
      const headers: Record<string, string> = {
        "User-Agent": USER_AGENT,
        Accept: "application/json",
        ...(body ? { "Content-Type": "application/json" } : {}),
        ...opts.headers,
      };
      if (bearer) headers["Authorization"] = `Bearer ${bearer.reveal()}`;
      else if (this.#signer) Object.assign(headers, this.#signer.headers(method, url.toString(), body));
      let resp: Response;
      try {
        resp = await this.#fetch(url, {
          method,
          headers,
          ...(body ? { body } : {}),
          signal: opts.signal ?? AbortSignal.timeout(this.#timeoutMs),
        });
      } catch (e) {
        if (opts.signal?.aborted) throw e;
        throw new ConnectionFailed(`${method} ${path}: ${(e as Error).name}`, "connection_failed");
      }
      if (resp.status === 401 && token && attempt === 1) {
        await resp.body?.cancel();
        if (this.#managed?.token === token) this.#managed = undefined;
        continue;
      }
      return resp;
    }
    throw new Error("unreachable");
  }

  async #call(method: string, path: string, opts: SendOptions = {}): Promise<Json | undefined> {
    return answer(await this.#send(method, path, opts));
  }

  // -- the surface -----------------------------------------------------------------

  /** `POST /v1/tokens`: a scoped token (needs an agent key). */
  issueToken(scopes: string[], opts: IssueTokenOptions = {}): Promise<IssuedToken> {
    return this.#issue(scopes, opts);
  }

  async #issue(scopes: string[], opts: IssueTokenOptions): Promise<IssuedToken> {
    if (!this.#agentKey && !this.#signer) {
      throw new Unauthenticated("issuing tokens needs an agent key", "unauthenticated");
    }
    const body: Json = { scopes };
    if (opts.ttl !== undefined) body["ttl"] = opts.ttl;
    if (opts.maxUses !== undefined) body["max_uses"] = opts.maxUses;
    if (opts.ipAllowlist !== undefined) body["ip_allowlist"] = opts.ipAllowlist;
    return tokenFrom(must(await this.#call("POST", "/v1/tokens", { body, withKey: true })));
  }

  /** `DELETE /v1/tokens/{id}` (with the agent key that issued it). */
  async revokeToken(id: string): Promise<void> {
    await this.#call("DELETE", `/v1/tokens/${encodeURIComponent(id)}`, { withKey: true });
  }

  /** `GET /v1/secrets/{path}`. A gated secret throws `ApprovalRequired`; with `wait`
   * (seconds) the client waits that long for the approval over the live feed, then reads. */
  async getSecret(path: string, opts: GetSecretOptions = {}): Promise<Secret> {
    const url = secretUrl(path);
    const query = { version: opts.version };
    try {
      return secretFrom(must(await this.#call("GET", url, { query })));
    } catch (e) {
      if (!(e instanceof ApprovalRequired) || opts.wait === undefined) throw e;
      const deadline = performance.now() + opts.wait * 1000;
      const a = await this.waitForApproval(e.approvalId, opts.wait);
      await untilAvailable(a, deadline);
      return secretFrom(must(await this.#call("GET", url, { query })));
    }
  }

  /** `GET /v1/metadata?prefix=`: every secret below `prefix`, never values. */
  async listSecrets(prefix = ""): Promise<SecretSummary[]> {
    const out: SecretSummary[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = must(
        await this.#call("GET", "/v1/metadata", { query: { limit: 500, prefix: prefix || undefined, cursor } }),
      );
      out.push(...(page["items"] as Json[]).map(summaryFrom));
      const next = page["next_cursor"];
      if (typeof next !== "string" || !next) return out;
      cursor = next;
    }
  }

  /** `POST /v1/approvals`: ask ahead of the gated call. */
  async requestApproval(path: string, reason: string, operation = "read"): Promise<Approval> {
    return approvalFrom(must(await this.#call("POST", "/v1/approvals", { body: { path, reason, operation } })));
  }

  /** `GET /v1/approvals/{id}`. */
  async getApproval(id: string): Promise<Approval> {
    return approvalFrom(must(await this.#call("GET", `/v1/approvals/${encodeURIComponent(id)}`)));
  }

  /**
   * Wait up to `timeout` seconds for a person to approve request `id`, following
   * `GET /v1/approvals/stream` (server-sent events; no polling). Resolves with the approved
   * request; rejects with `ApprovalDenied`, `ApprovalExpired` or `ApprovalTimeout`.
   */
  async waitForApproval(id: string, timeout: number): Promise<Approval> {
    const overall = AbortSignal.timeout(Math.max(1, Math.round(timeout * 1000)));
    let lastId: string | undefined;
    try {
      for (;;) {
        const [found, resume] = await this.#follow(id, lastId, overall);
        if (found) return found;
        lastId = resume;
        if (overall.aborted) break;
      }
    } catch (e) {
      if (!overall.aborted) throw e;
    }
    throw new ApprovalTimeout(`approval ${id} still pending after ${timeout}s`, "approval_timeout");
  }

  /** One connection to the feed: the approved request, or where to resume when the
   * connection ends (or stays silent past the keep-alive interval) first. */
  async #follow(id: string, lastId: string | undefined, overall: AbortSignal): Promise<[Approval | undefined, string | undefined]> {
    const conn = new AbortController();
    const stop = () => conn.abort();
    overall.addEventListener("abort", stop, { once: true });
    let silence = setTimeout(stop, FEED_SILENCE_MS);
    const parser = new SseParser(lastId);
    try {
      const headers: Record<string, string> = { Accept: "text/event-stream", "Cache-Control": "no-cache" };
      if (lastId !== undefined) headers["Last-Event-ID"] = lastId;
      const resp = await this.#send("GET", "/v1/approvals/stream", { headers, signal: conn.signal });
      if (resp.status !== 200 || !resp.body) await answer(resp);
      // Subscribed: a decision made before this point is not on the feed, so look once.
      const now = settled(await this.getApproval(id));
      if (now) return [now, undefined];
      for await (const line of lines(resp.body as ReadableStream<Uint8Array>)) {
        clearTimeout(silence);
        silence = setTimeout(stop, FEED_SILENCE_MS);
        const ev = parser.feed(line);
        if (!ev || !ev.event.startsWith("approval.")) continue;
        let d: unknown;
        try {
          d = JSON.parse(ev.data);
        } catch {
          continue;
        }
        if (d && typeof d === "object" && (d as Json)["id"] === id) {
          const a = settled(approvalFrom(d as Json));
          if (a) return [a, undefined];
        }
      }
    } catch (e) {
      if (!conn.signal.aborted) {
        if (!(e instanceof KeyholdError) || e instanceof ConnectionFailed) {
          await new Promise((r) => setTimeout(r, 1000));
        } else {
          throw e;
        }
      }
    } finally {
      clearTimeout(silence);
      overall.removeEventListener("abort", stop);
      conn.abort();
    }
    return [undefined, parser.lastId];
  }
}

function secretUrl(path: string): string {
  return "/v1/secrets/" + path.replace(/^\/+|\/+$/g, "").split("/").map(encodeURIComponent).join("/");
}

function must(v: Json | undefined): Json {
  if (v === undefined) throw new KeyholdError("the server answered without a body", "internal");
  return v;
}

/** The JSON of a successful answer (`undefined` for 204), else the typed error. */
async function answer(resp: Response): Promise<Json | undefined> {
  const text = await resp.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (resp.status >= 400) throw errorFromBody(resp.status, body, resp.headers.get("retry-after"));
  return resp.status === 204 ? undefined : (body as Json);
}

/** `a` when approved, undefined while pending; the error when it cannot be. */
function settled(a: Approval): Approval | undefined {
  if (a.status === "approved") return a;
  if (a.status === "pending") return undefined;
  if (a.status === "denied") {
    throw new ApprovalDenied(
      `approval ${a.id} was denied${a.denyReason ? `: ${a.denyReason}` : ""}`,
      "approval_denied",
      undefined,
      { approval_id: a.id, deny_reason: a.denyReason },
    );
  }
  throw new ApprovalExpired(`approval ${a.id} is ${a.status}`, "approval_expired", undefined, {
    approval_id: a.id,
    status: a.status,
  });
}

/** A critical request's grant starts after its delay: wait for it within the budget. */
async function untilAvailable(a: Approval, deadline: number): Promise<void> {
  if (!a.availableAt) return;
  const delay = a.availableAt.getTime() - clock.now();
  if (delay <= 0) return;
  if (performance.now() + delay > deadline) {
    throw new ApprovalTimeout(
      `approval ${a.id} is approved but usable only from ${a.availableAt.toISOString()}`,
      "approval_timeout",
    );
  }
  await new Promise((r) => setTimeout(r, delay));
}
