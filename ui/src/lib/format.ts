// Pure helpers for display. No I/O; tested with vitest.

/** Up to two initials for the avatar: "Ada Lovelace" → "AL", "ada@x.io" → "A". */
export function initials(displayName: string | null | undefined, email: string): string {
  const name = (displayName ?? "").trim();
  if (name) {
    const parts = name.split(/\s+/u).filter(Boolean);
    const first = Array.from(parts[0] ?? "")[0] ?? "";
    const last = parts.length > 1 ? (Array.from(parts[parts.length - 1] ?? "")[0] ?? "") : "";
    return (first + last).toLocaleUpperCase();
  }
  const local = email.split("@")[0] ?? "";
  const letters = local.split(/[._-]+/u).filter(Boolean);
  if (letters.length >= 2) {
    return ((Array.from(letters[0]!)[0] ?? "") + (Array.from(letters[1]!)[0] ?? "")).toLocaleUpperCase();
  }
  return (Array.from(local)[0] ?? "?").toLocaleUpperCase();
}

export type Status = "protected" | "at_risk" | "exposed";

export function statusWord(status: Status): string {
  switch (status) {
    case "protected":
      return "Protected";
    case "at_risk":
      return "At risk";
    case "exposed":
      return "Exposed";
  }
}

/** The ring's colour class for a status. */
export function statusTone(status: Status): "good" | "warn" | "bad" {
  return status === "protected" ? "good" : status === "at_risk" ? "warn" : "bad";
}

/** Stroke offsets for a ring of `radius` showing `score` out of 100. */
export function ringDash(score: number, radius: number): { circumference: number; offset: number } {
  const clamped = Math.max(0, Math.min(100, Number.isFinite(score) ? score : 0));
  const circumference = 2 * Math.PI * radius;
  return { circumference, offset: circumference * (1 - clamped / 100) };
}

const STRENGTH_WORDS = ["Very weak", "Weak", "Fair", "Strong", "Very strong"] as const;

export function strengthWord(score: number): string {
  return STRENGTH_WORDS[Math.max(0, Math.min(4, Math.round(score)))] ?? "Very weak";
}

/** "3 minutes ago", "in 2 hours", "just now". `now` is a parameter for tests. */
export function relativeTime(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return "Never";
  const then = new Date(iso);
  if (Number.isNaN(then.getTime())) return "—";
  const seconds = Math.round((then.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return "just now";
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ["year", 31_536_000],
    ["month", 2_592_000],
    ["week", 604_800],
    ["day", 86_400],
    ["hour", 3_600],
    ["minute", 60],
  ];
  const rtf = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
  for (const [unit, size] of units) {
    if (abs >= size) return rtf.format(Math.round(seconds / size), unit);
  }
  return rtf.format(Math.round(seconds / 60), "minute");
}

/** "2h 5m left" for a deadline; "expired" once past. */
export function timeLeft(iso: string, now: Date = new Date()): string {
  const ms = new Date(iso).getTime() - now.getTime();
  if (!Number.isFinite(ms)) return "—";
  if (ms <= 0) return "expired";
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return "under a minute left";
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h > 0 ? `${h}h ${m}m left` : `${m}m left`;
}

/** A date and time in the system's locale (its order, month names and 12/24-hour clock). */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  return d.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

/** The text file offered for download with the backup codes. */
export function backupCodesFile(codes: string[], account: string, now: Date = new Date()): string {
  return [
    "Keyhold backup codes",
    `Account: ${account}`,
    `Created: ${now.toISOString()}`,
    "",
    "Each code works once, in place of a code from your authenticator app.",
    "Keep them somewhere safe and offline.",
    "",
    ...codes.map((c, i) => `${String(i + 1).padStart(2, " ")}. ${c}`),
    "",
  ].join("\n");
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/giu;

/** Long ids are noise in a table: keep their first 8 characters ("01a2013c…"). */
export function shortenIds(text: string): string {
  return text.replace(UUID, (id) => `${id.slice(0, 8)}…`);
}

/** Who did it, as a person reads it: "You", "user 01a2013c…", "agent key 9f1e…". */
export function actorLabel(actorType: string, actorId: string, myId: string | null): string {
  if (myId && actorId === myId) return "You";
  const kind = actorType.replace(/_/gu, " ");
  return actorId ? `${kind} ${shortenIds(actorId)}` : kind;
}

/** A past event never reads "in 1 minute" when the server's clock runs a little ahead. */
export function notAfterNow(iso: string, now: Date = new Date()): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) || t <= now.getTime() ? iso : now.toISOString();
}
