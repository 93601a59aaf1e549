// Auto-lock: after the chosen idle time (no key, pointer or wheel input in the window) the
// app locks (src-tauri commands/lock.rs). The choice is this computer's, kept in local
// storage like the theme: Off, 5, 15 (the default), 30 or 60 minutes. Debug builds may
// offer one more, in seconds, for the end-to-end test (KEYHOLD_DEBUG_LOCK_SECS); a release
// build never does.
import { useEffect, useState } from "preact/hooks";

const KEY = "keyhold.autolock";
export const DEFAULT_LOCK_SECS = 15 * 60;

/** The choices, in seconds (0: never lock). */
export const LOCK_CHOICES: { secs: number; label: string }[] = [
  { secs: 0, label: "Off" },
  { secs: 5 * 60, label: "After 5 minutes" },
  { secs: 15 * 60, label: "After 15 minutes" },
  { secs: 30 * 60, label: "After 30 minutes" },
  { secs: 60 * 60, label: "After 1 hour" },
];

/** The choices with the debug build's short one, when it has one. */
export function lockChoices(debugSecs: number | null | undefined): { secs: number; label: string }[] {
  if (!debugSecs) return LOCK_CHOICES;
  return [...LOCK_CHOICES, { secs: debugSecs, label: `After ${debugSecs} seconds (test build only)` }];
}

const listeners = new Set<(secs: number) => void>();

/** The saved idle time in seconds; anything unreadable is the default. */
export function loadLockSecs(): number {
  try {
    const raw = localStorage.getItem(KEY);
    if (raw === null) return DEFAULT_LOCK_SECS;
    const n = Number(raw);
    return Number.isInteger(n) && n >= 0 && n <= 24 * 3600 ? n : DEFAULT_LOCK_SECS;
  } catch {
    return DEFAULT_LOCK_SECS;
  }
}

export function saveLockSecs(secs: number): void {
  try {
    localStorage.setItem(KEY, String(secs));
  } catch {
    // Storage refused: the choice lasts until the app quits.
  }
  listeners.forEach((l) => l(secs));
}

/** The idle time in seconds, following changes made in Settings. */
export function useLockSecs(): number {
  const [secs, setSecs] = useState(loadLockSecs);
  useEffect(() => {
    listeners.add(setSecs);
    return () => {
      listeners.delete(setSecs);
    };
  }, []);
  return secs;
}

const ACTIVITY = ["keydown", "pointerdown", "pointermove", "wheel", "touchstart"] as const;

/**
 * Call `onIdle` once after `secs` seconds without input in the window (0 or !active: never).
 * Every input starts the wait again.
 */
export function useIdle(secs: number, active: boolean, onIdle: () => void): void {
  useEffect(() => {
    if (!active || secs <= 0) return;
    let timer = setTimeout(onIdle, secs * 1000);
    const reset = () => {
      clearTimeout(timer);
      timer = setTimeout(onIdle, secs * 1000);
    };
    ACTIVITY.forEach((e) => window.addEventListener(e, reset, { capture: true, passive: true }));
    return () => {
      clearTimeout(timer);
      ACTIVITY.forEach((e) => window.removeEventListener(e, reset, { capture: true }));
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [secs, active]);
}
