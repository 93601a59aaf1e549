// Background mode, as this device remembers it: whether closing the window keeps Keyhold
// running in the tray (src-tauri/src/background.rs). On by default for the people who
// decide approval requests, so that an approver on call hears of a new request with the
// window closed; off by default for everyone else, for whom closing means quitting.
import type { BackgroundView } from "../bindings";
import { call } from "../api";

const KEY = "keyhold.backgroundMode";
const APPROVER_ROLES = new Set(["owner", "admin", "approver"]);

export function backgroundDefault(role: string | null): boolean {
  return role !== null && APPROVER_ROLES.has(role);
}

/** The person's choice on this device, or the default for their role. */
export function loadBackground(role: string | null): boolean {
  const v = localStorage.getItem(KEY);
  return v === null ? backgroundDefault(role) : v === "on";
}

/** Remember the choice and tell the app (Rust decides what a close does). */
export async function applyBackground(on: boolean, remember: boolean): Promise<BackgroundView> {
  if (remember) localStorage.setItem(KEY, on ? "on" : "off");
  return call((c) => c.setBackgroundMode(on));
}
