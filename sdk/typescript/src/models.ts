import { timingSafeEqual } from "node:crypto";

const REDACTED = "**********";
const inspectSymbol = Symbol.for("nodejs.util.inspect.custom");

/**
 * A secret string that does not show itself: `String()`, template literals,
 * `console.log`/`util.inspect` and `JSON.stringify` all give `**********`; only
 * `reveal()` returns the text. Why: agents log what they hold, and a vault client must
 * not turn a stray `console.log(secret)` into a leak. The text sits in a private field.
 */
export class SecretValue {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The secret text. Use it where it is needed; do not keep or print it. */
  reveal(): string {
    return this.#value;
  }

  get length(): number {
    return this.#value.length;
  }

  /** Constant-time comparison with another value or a string. */
  equals(other: SecretValue | string): boolean {
    const a = Buffer.from(this.#value);
    const b = Buffer.from(typeof other === "string" ? other : other.reveal());
    return a.length === b.length && timingSafeEqual(a, b);
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [inspectSymbol](): string {
    return `SecretValue(${REDACTED})`;
  }
}

/** `GET /v1/secrets/{path}`: one version of a secret. */
export interface Secret {
  path: string;
  version: number;
  value: SecretValue;
  type: string;
  tier: string;
}

/** One item of `GET /v1/metadata?prefix=`: never a value. */
export interface SecretSummary {
  path: string;
  type: string;
  tier: string;
  currentVersion: number;
  updatedAt: Date;
}

/** `POST /v1/tokens`: a scoped token, its text a `SecretValue`. */
export interface IssuedToken {
  id: string;
  token: SecretValue;
  expiresAt: Date;
}

/**
 * An approval request as the agent that asked sees it. `status`: `pending`, `approved`,
 * `denied`, `expired`, `used` or `voided`. An approved request allows its one operation
 * from `availableAt` (after a critical delay) until `grantExpiresAt`.
 */
export interface Approval {
  id: string;
  path: string;
  tier: string;
  operation: string;
  status: string;
  requiredApprovals: number;
  approvals: number;
  requestedAt: Date;
  expiresAt: Date;
  availableAt: Date | undefined;
  grantExpiresAt: Date | undefined;
  denyReason: string | undefined;
}

type Json = Record<string, unknown>;

const optDate = (v: unknown): Date | undefined => (typeof v === "string" ? new Date(v) : undefined);

export function secretFrom(d: Json): Secret {
  return {
    path: String(d["path"]),
    version: Number(d["version"]),
    value: new SecretValue(String(d["value"])),
    type: String(d["type"] ?? "generic"),
    tier: String(d["tier"] ?? "standard"),
  };
}

export function summaryFrom(d: Json): SecretSummary {
  return {
    path: String(d["path"]),
    type: String(d["type"] ?? "generic"),
    tier: String(d["tier"] ?? "standard"),
    currentVersion: Number(d["current_version"]),
    updatedAt: new Date(String(d["updated_at"])),
  };
}

export function tokenFrom(d: Json): IssuedToken {
  return {
    id: String(d["id"]),
    token: new SecretValue(String(d["token"])),
    expiresAt: new Date(String(d["expires_at"])),
  };
}

export function approvalFrom(d: Json): Approval {
  const votes = d["approvals"];
  const reason = d["deny_reason"];
  return {
    id: String(d["id"]),
    path: String(d["path"]),
    tier: String(d["tier"] ?? ""),
    operation: String(d["operation"] ?? "read"),
    status: String(d["status"]),
    requiredApprovals: Number(d["required_approvals"] ?? 0),
    approvals: Array.isArray(votes) ? votes.length : 0,
    requestedAt: new Date(String(d["requested_at"])),
    expiresAt: new Date(String(d["expires_at"])),
    availableAt: optDate(d["available_at"]),
    grantExpiresAt: optDate(d["grant_expires_at"]),
    denyReason: typeof reason === "string" ? reason : undefined,
  };
}
