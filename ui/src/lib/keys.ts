// The Keys page's rules, without I/O: a key's one status, the revoked filter, the compact
// scope cell, the rotation overlaps, the edit dialog's expiry text, and which key (and
// which action) a Security Vault recommendation opens. Tested with vitest.
import type { AgentKeyView } from "../bindings";
import type { BadgeTone } from "../components/StatusBadge";

/** One status per key, in sentence case: revoked wins over suspended, suspended over expired. */
export function keyStatus(k: AgentKeyView, now = new Date()): { word: string; tone: BadgeTone } {
  if (k.revoked_at) return { word: "Revoked", tone: "muted" };
  if (k.suspended_at) return { word: "Suspended", tone: "bad" };
  if (k.expires_at && new Date(k.expires_at) <= now) return { word: "Expired", tone: "muted" };
  return { word: "Active", tone: "good" };
}

export type KeyFilter = "active" | "revoked" | "all";

export const KEY_FILTERS: { value: KeyFilter; label: string }[] = [
  { value: "active", label: "Active" },
  { value: "revoked", label: "Revoked" },
  { value: "all", label: "All" },
];

/** "active" is every key not revoked (expired and suspended ones can still be fixed). */
export function filterKeys(keys: AgentKeyView[], filter: KeyFilter): AgentKeyView[] {
  if (filter === "all") return keys;
  return keys.filter((k) => (filter === "revoked" ? Boolean(k.revoked_at) : !k.revoked_at));
}

/** The filter that shows `k`: its own group, so a focused revoked key is not hidden. */
export function filterShowing(k: AgentKeyView, current: KeyFilter): KeyFilter {
  return filterKeys([k], current).length > 0 ? current : k.revoked_at ? "revoked" : "active";
}

/** A table cell's worth of scopes: the first one and how many more. */
export function scopeSummary(scopes: string[]): { first: string; more: number } {
  return { first: scopes[0] ?? "", more: Math.max(0, scopes.length - 1) };
}

/** Ed25519 keys rotate by adding a public key (CLI), not with a new secret. */
export function isSigningKey(k: AgentKeyView): boolean {
  return k.prefix.startsWith("ed25519:");
}

export const OVERLAPS: { value: string; label: string; hint: string }[] = [
  { value: "0s", label: "Now", hint: "The old key and its tokens stop working at once." },
  { value: "1h", label: "1 hour", hint: "Time to switch one agent over." },
  { value: "24h", label: "24 hours", hint: "For agents deployed once a day." },
  { value: "7d", label: "7 days", hint: "For agents you cannot reach quickly." },
];

export const DEFAULT_OVERLAP = "1h";

const pad = (n: number) => String(n).padStart(2, "0");

/** An expiry as the edit field shows it, in local time: "2027-01-31 18:30". */
export function expiryText(iso: string | null): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** `days` from `now`, as the edit field shows it. */
export function expiryInDays(days: number, now = new Date()): string {
  return expiryText(new Date(now.getTime() + days * 86_400_000).toISOString());
}

export type ExpiryParse = { ok: true; iso: string | null } | { ok: false; problem: string };

/**
 * The edit field's text → an RFC 3339 expiry (null: never). "YYYY-MM-DD" means the end of
 * that day, local time; "YYYY-MM-DD HH:MM" that minute. Text left as `original` showed it
 * keeps the original instant, so editing only the allowlist never moves the expiry.
 */
export function parseExpiry(text: string, original: string | null, now = new Date()): ExpiryParse {
  const t = text.trim();
  if (!t) return { ok: true, iso: null };
  if (original && t === expiryText(original)) return { ok: true, iso: original };
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}))?$/u.exec(t);
  if (!m) return { ok: false, problem: "Write the date as YYYY-MM-DD, optionally with a time (YYYY-MM-DD HH:MM)." };
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [h, mi, s] = m[4] === undefined ? [23, 59, 59] : [Number(m[4]), Number(m[5]), 0];
  const at = new Date(y, mo - 1, d, h, mi, s);
  const real = at.getFullYear() === y && at.getMonth() === mo - 1 && at.getDate() === d && at.getHours() === h && at.getMinutes() === mi;
  if (!real) return { ok: false, problem: "That date does not exist." };
  if (at <= now) return { ok: false, problem: "Pick a time in the future. To stop the key now, revoke it." };
  return { ok: true, iso: at.toISOString() };
}

/** "10.0.0.0/8, 203.0.113.7" (commas, spaces or lines) → the entries. */
export function parseAllowlist(text: string): string[] {
  return text
    .split(/[\s,]+/u)
    .map((s) => s.trim())
    .filter(Boolean);
}

export type KeyAction = "details" | "rotate" | "edit";

/** Open the Keys page on this key, with this dialog. */
export interface KeyFocus {
  id: string;
  action: KeyAction;
}

/**
 * What a Security Vault recommendation about one key opens: an old key its rotation, a key
 * without expiry the edit dialog, anything else (unused, broad scopes, suspended) its
 * details, where revoke and reinstate are. `null` when it names no key.
 */
export function focusForRecommendation(recId: string, target: string | null | undefined): KeyFocus | null {
  if (!target || !recId.startsWith("key_") || target === "keys") return null;
  const action: KeyAction = recId === "key_old" ? "rotate" : recId === "key_without_expiry" ? "edit" : "details";
  return { id: target, action };
}

/** The download's file name for a key's secret: "keyhold-key-deploy-bot.txt". */
export function keyFileName(name: string): string {
  return `keyhold-key-${name.replace(/[^A-Za-z0-9_-]/gu, "-").slice(0, 40) || "agent"}.txt`;
}
