// The one "Confirm it's you" step: any command answering `reauth_required` shows one
// prompt, then runs again once; cancelling leaves "not changed".
import { afterEach, describe, expect, it } from "vitest";
import { proofToSend, REAUTH_CANCELLED, setReauthPrompt, withReauth } from "./reauth";

const REAUTH = { kind: "reauth_required", message: "Confirm it is you.", details: [], retry_after_secs: null };

/** A command failing with reauth_required the first `n` times, then answering "done". */
function failing(n: number) {
  let tries = 0;
  const run = async () => {
    tries += 1;
    if (tries <= n) throw REAUTH;
    return "done";
  };
  return { run, tries: () => tries };
}

let uninstall: () => void = () => undefined;
afterEach(() => uninstall());

describe("withReauth", () => {
  it("asks once and retries the command once, for any command", async () => {
    let prompts = 0;
    uninstall = setReauthPrompt(async () => {
      prompts += 1;
      return true;
    });
    const cmd = failing(1);
    await expect(withReauth(cmd.run)).resolves.toBe("done");
    expect([prompts, cmd.tries()]).toEqual([1, 2]);
  });

  it("shares one prompt between commands failing together", async () => {
    let prompts = 0;
    let confirm: (ok: boolean) => void = () => undefined;
    uninstall = setReauthPrompt(
      () =>
        new Promise<boolean>((resolve) => {
          prompts += 1;
          confirm = resolve;
        }),
    );
    const a = failing(1);
    const b = failing(1);
    const both = Promise.all([withReauth(a.run), withReauth(b.run)]);
    await new Promise((r) => setTimeout(r, 0));
    confirm(true);
    await expect(both).resolves.toEqual(["done", "done"]);
    expect(prompts).toBe(1);
  });

  it("leaves the change undone when the person cancels", async () => {
    uninstall = setReauthPrompt(async () => false);
    const cmd = failing(1);
    await expect(withReauth(cmd.run)).rejects.toEqual(REAUTH_CANCELLED);
    expect(cmd.tries()).toBe(1);
  });

  it("shows a second lapse as it is rather than asking in a loop", async () => {
    let prompts = 0;
    uninstall = setReauthPrompt(async () => {
      prompts += 1;
      return true;
    });
    const cmd = failing(5);
    await expect(withReauth(cmd.run)).rejects.toMatchObject({ kind: "reauth_required" });
    expect([prompts, cmd.tries()]).toEqual([1, 2]);
  });

  it("hands the error to callers whose input is a one-time code", async () => {
    let prompts = 0;
    uninstall = setReauthPrompt(async () => {
      prompts += 1;
      return true;
    });
    const cmd = failing(1);
    await expect(withReauth(cmd.run, { reauth: "manual" })).rejects.toMatchObject({ kind: "reauth_required" });
    expect([prompts, cmd.tries()]).toEqual([0, 1]);
  });
});

describe("proofToSend", () => {
  it("drops the spaces of a grouped code, never touches a password", () => {
    expect(proofToSend(" 123 456 ", true)).toBe("123456");
    expect(proofToSend(" pass word ", false)).toBe(" pass word ");
    expect(proofToSend(" pass word ", null)).toBe(" pass word ");
  });
});
