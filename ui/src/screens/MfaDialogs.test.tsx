// The 2FA dialogs' logic. The Tauri IPC cannot run under vitest, so `call` is replaced by
// a scripted stand-in; the real commands are covered by src-tauri/tests/backend.rs and the
// desktop end-to-end test.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, it, vi } from "vitest";

const calls: string[] = [];
let script: Record<string, (arg?: string) => unknown> = {};

vi.mock("../api", () => ({
  call: async (run: (c: unknown) => Promise<unknown>) => {
    const commands = new Proxy(
      {},
      {
        get: (_t, name: string) => async (arg?: string) => {
          calls.push(arg === undefined ? name : `${name}(${arg})`);
          const step = script[name];
          if (!step) throw { kind: "internal", message: `unexpected ${name}`, details: [], retry_after_secs: null };
          return step(arg);
        },
      },
    );
    return run(commands);
  },
}));

const { BackupCodesPanel, MfaManageDialog } = await import("./MfaDialogs");

afterEach(() => {
  cleanup();
  calls.length = 0;
  script = {};
});

describe("BackupCodesPanel", () => {
  it("lists the codes and closes only after 'I saved them'", () => {
    const done = vi.fn();
    render(<BackupCodesPanel codes={["aaaa-bbbb", "cccc-dddd"]} account="ada@example.com" onDone={done} />);
    expect(screen.getByTestId("backup-codes").textContent).toContain("aaaa-bbbb");
    const button = screen.getByTestId("backup-codes-done") as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    fireEvent.click(button);
    expect(done).not.toHaveBeenCalled();
    fireEvent.click(screen.getByTestId("backup-codes-saved"));
    expect(button.disabled).toBe(false);
    fireEvent.click(button);
    expect(done).toHaveBeenCalledOnce();
  });
});

describe("MfaManageDialog", () => {
  it("asks to confirm it's you when the sudo window lapsed, then repeats the change", async () => {
    let regenerations = 0;
    script = {
      mfaStatus: () => ({ totp_enabled: true, backup_codes_remaining: 3, enrolled_at: null }),
      mfaRegenerateBackupCodes: () => {
        regenerations += 1;
        if (regenerations === 1) throw { kind: "reauth_required", message: "Confirm it is you.", details: [], retry_after_secs: null };
        return { codes: ["new1-code", "new2-code"] };
      },
      reauthenticate: () => null,
    };
    render(<MfaManageDialog account="ada@example.com" onClose={() => undefined} />);
    await waitFor(() => expect(screen.getByTestId("backup-codes-remaining").textContent).toBe("3"));
    fireEvent.click(screen.getByTestId("mfa-regenerate"));
    fireEvent.input(screen.getByTestId("mfa-manage-code"), { target: { value: "111111" } });
    fireEvent.click(screen.getByTestId("mfa-manage-submit"));
    await screen.findByTestId("mfa-reauth-notice");
    expect((screen.getByTestId("mfa-manage-code") as HTMLInputElement).value).toBe("");

    fireEvent.input(screen.getByTestId("mfa-manage-code"), { target: { value: "222222" } });
    fireEvent.click(screen.getByTestId("mfa-manage-submit"));
    await screen.findByTestId("mfa-reauth-done");

    fireEvent.input(screen.getByTestId("mfa-manage-code"), { target: { value: "333333" } });
    fireEvent.click(screen.getByTestId("mfa-manage-submit"));
    await screen.findByTestId("backup-codes-panel");
    expect(screen.getByTestId("backup-codes").textContent).toContain("new1-code");
    expect(calls).toEqual(["mfaStatus", "mfaRegenerateBackupCodes(111111)", "reauthenticate(222222)", "mfaRegenerateBackupCodes(333333)"]);
  });
});
