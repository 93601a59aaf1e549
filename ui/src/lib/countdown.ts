// Waiting, shown: the seconds left before something may be tried again. One hook for the
// server's Retry-After (a `rate_limited` error's `retry_after_secs`) and for the app's own
// reconnect backoff, so every place counts down the same way.
import { useEffect, useState } from "preact/hooks";
import type { CommandError } from "./errors";

/**
 * Seconds left of a wait of `seconds`, counting down once a second to 0. A new `seconds` or
 * a new `key` (another error, another attempt) starts the count again; null means no wait.
 */
export function useCountdown(seconds: number | null | undefined, key?: unknown): number {
  const [left, setLeft] = useState(seconds ?? 0);
  useEffect(() => {
    const total = Math.max(0, Math.ceil(seconds ?? 0));
    setLeft(total);
    if (total === 0) return;
    const end = Date.now() + total * 1000;
    const t = setInterval(() => {
      const now = Math.max(0, Math.ceil((end - Date.now()) / 1000));
      setLeft(now);
      if (now === 0) clearInterval(t);
    }, 250);
    return () => clearInterval(t);
  }, [seconds, key]);
  return left;
}

/** Seconds left before a rate-limited command may be tried again (0: no wait). */
export function useRetryAfter(error: CommandError | null | undefined): number {
  return useCountdown(error?.kind === "rate_limited" ? (error.retry_after_secs ?? null) : null, error);
}

/** "42 s", "1 min 05 s": a wait as people read it. */
export function formatWait(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  const rest = s % 60;
  return rest ? `${m} min ${String(rest).padStart(2, "0")} s` : `${m} min`;
}

/**
 * Seconds before reconnect attempt `attempt` (1-based): 2, 4, 8, 16, then every 30 s, so a
 * server that is back is found soon and one that stays down is not hammered.
 */
export function backoffSecs(attempt: number): number {
  const n = Math.max(1, Math.floor(attempt));
  return Math.min(30, 2 ** n);
}
