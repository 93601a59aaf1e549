// One "Confirm it's you" step for every command. The server's sudo window lapses ten
// minutes after sign-in (or at once for a session restored from the keyring); any change
// then answers `reauth_required`. Rather than each dialog catching that (and most not
// doing so, which left dead ends), `call` hands it here: one prompt is shown (shared by
// calls that fail together), and on success the command runs again, once.
import { toCommandError, type CommandError } from "./errors";

/** The error a cancelled confirmation leaves: the change did not happen. */
export const REAUTH_CANCELLED: CommandError = {
  kind: "reauth_required",
  message: "Not changed: Keyhold needs you to confirm it's you first.",
  details: [],
  retry_after_secs: null,
};

/** Shows the prompt; resolves true once the person proved it is them, false if they cancelled. */
export type ReauthPrompt = () => Promise<boolean>;

export interface CallOptions {
  /**
   * "retry" (default): prompt, then run the command again. "manual": hand the error to the
   * caller, for commands whose own input is a one-time code (a retry would replay a code
   * the confirmation just used; those dialogs ask for the next code instead).
   */
  reauth?: "retry" | "manual";
}

let prompt: ReauthPrompt | null = null;
let asking: Promise<boolean> | null = null;

/** Install the prompt (the app shell's ReauthHost); returns the uninstaller. */
export function setReauthPrompt(p: ReauthPrompt): () => void {
  prompt = p;
  return () => {
    if (prompt === p) prompt = null;
  };
}

/** Run `attempt`; on `reauth_required` ask once, then run it again once. */
export async function withReauth<T>(attempt: () => Promise<T>, opts?: CallOptions): Promise<T> {
  try {
    return await attempt();
  } catch (raw) {
    const e = toCommandError(raw);
    if (e.kind !== "reauth_required" || !prompt || opts?.reauth === "manual") throw e;
    // Concurrent failures share one prompt rather than stacking dialogs.
    asking ??= prompt().finally(() => {
      asking = null;
    });
    if (!(await asking)) throw REAUTH_CANCELLED;
    // Once: a second `reauth_required` (the window lapsed again) is shown as it is.
    return await attempt();
  }
}

/**
 * What a "prove it's you" field sends: a TOTP code may be typed in groups ("123 456"), so
 * its spaces go; a password goes exactly as typed. Shared by Confirm it's you and the
 * lock screen, so both accept the same input.
 */
export function proofToSend(proof: string, totp: boolean | null | "unknown"): string {
  return totp === true ? proof.trim().replace(/\s+/gu, "") : proof;
}
