// Turning whatever a command threw into one shape the UI can show as a sentence.
import type { CommandError, ErrorKind } from "../bindings";

export type { CommandError, ErrorKind };

const KINDS: ReadonlySet<string> = new Set<ErrorKind>([
  "invalid_request",
  "unauthenticated",
  "mfa_required",
  "reauth_required",
  "forbidden",
  "approval_required",
  "not_found",
  "conflict",
  "payload_too_large",
  "rate_limited",
  "unavailable",
  "internal",
  "offline",
  "invalid_server_url",
  "signed_out",
  "not_available",
  "keyring",
  "io",
  "locked",
]);

export function isCommandError(value: unknown): value is CommandError {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.kind === "string" && KINDS.has(v.kind) && typeof v.message === "string";
}

/** Any thrown value → a CommandError whose message is a sentence for people. */
export function toCommandError(value: unknown): CommandError {
  if (isCommandError(value)) {
    return { ...value, details: Array.isArray(value.details) ? value.details : [] };
  }
  // Framework failures (an unknown command, a denied permission) reject with a string.
  const text = typeof value === "string" ? value : value instanceof Error ? value.message : "";
  return {
    kind: "internal",
    message: text ? `Something went wrong inside the app: ${text}` : "Something went wrong inside the app.",
    details: [],
    retry_after_secs: null,
  };
}

/** Whether an error means "not built yet" rather than "something broke". */
export function isNotAvailable(e: CommandError | null | undefined): boolean {
  return e?.kind === "not_available";
}
