// The Settings area's small pure helpers: durations as the server writes them ("10m",
// "24h", "0s") split into a number and a unit for the form, and webhook event choices.

import type { BadgeTone } from "../components/StatusBadge";

export type DurationUnit = "s" | "m" | "h" | "d";

export const DURATION_UNITS: { unit: DurationUnit; label: string }[] = [
  { unit: "s", label: "seconds" },
  { unit: "m", label: "minutes" },
  { unit: "h", label: "hours" },
  { unit: "d", label: "days" },
];

/** "10m" → {amount: "10", unit: "m"}; anything else keeps its text as the amount, in minutes. */
export function splitDuration(text: string): { amount: string; unit: DurationUnit } {
  const m = /^\s*(\d+)\s*([smhd])\s*$/u.exec(text);
  if (m) return { amount: m[1] ?? "", unit: m[2] as DurationUnit };
  return { amount: text.replace(/\D/gu, ""), unit: "m" };
}

/** The server's form: "10m". Empty or non-numeric amounts stay as typed, so the server's check explains them. */
export function joinDuration(amount: string, unit: DurationUnit): string {
  return `${amount.trim()}${unit}`;
}

/** The event families an endpoint can choose from (none chosen: every event type). */
export const EVENT_CHOICES: { value: string; label: string }[] = [
  { value: "approval.*", label: "Approval requests and decisions" },
  { value: "key.*", label: "Agent keys created, revoked or leaked" },
  { value: "member.*", label: "Members joining, changing role or leaving" },
  { value: "mfa.*", label: "Two-factor authentication turned on or off" },
  { value: "secret.deleted", label: "Secrets deleted" },
  { value: "tenant.settings_changed", label: "Settings changed" },
];

/** How a delivery's status reads, and its pill's tone. */
export function deliveryTone(status: string): { word: string; tone: BadgeTone } {
  switch (status) {
    case "delivered":
      return { word: "Delivered", tone: "good" };
    case "failed":
      return { word: "Failed", tone: "bad" };
    case "pending":
      return { word: "Pending", tone: "muted" };
    default:
      return { word: status, tone: "muted" };
  }
}
