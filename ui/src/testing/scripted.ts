// A scripted stand-in for `call` (../api) in UI unit tests: the Tauri IPC cannot run under
// vitest. Each command a screen runs is recorded in `calls` (with its arguments as JSON)
// and answered by the step of that name in the script; a command without a step fails, so
// a test sees every command a screen sends. The real commands are covered by
// src-tauri/tests and the desktop end-to-end test.

import { withReauth, type CallOptions } from "../lib/reauth";

type Step = (...args: unknown[]) => unknown;

export const calls: string[] = [];
let script: Record<string, Step> = {};

/** Answer commands with these steps (replacing the previous script). */
export function setScript(steps: Record<string, Step>): void {
  script = steps;
}

export function resetScript(): void {
  script = {};
  calls.length = 0;
}

/** The calls, without those named (a list every render reloads, say). */
export function callsBut(...names: string[]): string[] {
  return calls.filter((c) => !names.some((n) => c === n || c.startsWith(`${n}(`)));
}

export function commandError(kind: string, message = "Refused."): unknown {
  return { kind, message, details: [], retry_after_secs: null };
}

/** `call` as the app has it (the same "Confirm it's you" retry), over the script. */
export function scriptedCall<T>(run: (c: unknown) => Promise<T>, opts?: CallOptions): Promise<T> {
  return withReauth(() => scriptedOnce(run), opts);
}

async function scriptedOnce<T>(run: (c: unknown) => Promise<T>): Promise<T> {
  const commands = new Proxy(
    {},
    {
      get:
        (_t, name: string) =>
        async (...args: unknown[]) => {
          calls.push(args.length ? `${name}(${args.map((a) => JSON.stringify(a)).join(", ")})` : name);
          const step = script[name];
          if (!step) throw commandError("internal", `unexpected ${name}`);
          return step(...args);
        },
    },
  );
  return run(commands);
}
