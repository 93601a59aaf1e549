// The UI's only door to the backend: the generated bindings, with errors normalised.
// Arguments are never logged here (they include passwords and codes).
import { commands, type FirstScreen } from "./bindings";
import { toCommandError, type CommandError } from "./lib/errors";
import { withReauth, type CallOptions } from "./lib/reauth";

type Listener = (e: CommandError) => void;
const signedOutListeners = new Set<Listener>();
const offlineListeners = new Set<Listener>();
const lockedListeners = new Set<Listener>();

/** Called when any command reports the session ended, so the app can return to sign-in. */
export function onSignedOut(listener: Listener): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

/** Called when any command finds the server unreachable, so the app can show it and retry. */
export function onOffline(listener: Listener): () => void {
  offlineListeners.add(listener);
  return () => offlineListeners.delete(listener);
}

/** Called when a command is refused because the app is locked (see src-tauri commands/lock.rs). */
export function onLocked(listener: Listener): () => void {
  lockedListeners.add(listener);
  return () => lockedListeners.delete(listener);
}

/**
 * Run a command; throws a CommandError. A lapsed sudo window (`reauth_required`) shows the
 * one "Confirm it's you" prompt and runs the command again (see lib/reauth.ts).
 */
export function call<T>(run: (c: typeof commands) => Promise<T>, opts?: CallOptions): Promise<T> {
  return withReauth(() => callOnce(run), opts);
}

async function callOnce<T>(run: (c: typeof commands) => Promise<T>): Promise<T> {
  try {
    return await run(commands);
  } catch (raw) {
    const e = toCommandError(raw);
    if (e.kind === "signed_out") signedOutListeners.forEach((l) => l(e));
    if (e.kind === "offline") offlineListeners.forEach((l) => l(e));
    if (e.kind === "locked") lockedListeners.forEach((l) => l(e));
    throw e;
  }
}

let firstScreenReported = false;

/**
 * Tell the app which screen came up first with its content, once per page load; the app
 * logs the time since launch (a slow start shows in the logs, and bench/desktop.py reads
 * that line). Never fails: it is a log line, not a feature.
 */
export function reportFirstScreen(screen: FirstScreen): void {
  if (firstScreenReported) return;
  firstScreenReported = true;
  commands.firstScreenShown(screen).catch(() => undefined);
}

export { commands };
