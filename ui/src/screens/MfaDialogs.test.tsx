// The 2FA dialogs' logic. The Tauri IPC cannot run under vitest, so `call` is replaced by
// a scripted stand-in; the real commands are covered by src-tauri/tests/backend.rs and the
// desktop end-to-end test.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, it, vi } from "vitest";

const calls: string[] = [];
let script: Record<string, (arg?: string) => unknown> = {};

vi.mock("../api", async () => ({
  call: async (run: (c: unknown) => Promise<unknown>, opts?: { reauth?: "retry" | "manual" }) => (await import("../lib/reauth")).withReauth(async () => {
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
  }, opts),
}));

const { ReauthHost } = await import("../components/ReauthDialog");
const { BackupCodesPanel, MfaEnrollDialog, MfaManageDialog } = await import("./MfaDialogs");

const REAUTH = { kind: "reauth_required", message: "Confirm it is you.", details: [], retry_after_secs: null };

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

describe("MfaManageDialog closing", () => {
  it("asks in the app, not the browser, before closing over unsaved new backup codes", async () => {
    const confirm = vi.fn(() => true);
    vi.stubGlobal("confirm", confirm);
    const close = vi.fn();
    script = {
      mfaStatus: () => ({ totp_enabled: true, backup_codes_remaining: 3, enrolled_at: null }),
      mfaRegenerateBackupCodes: () => ({ codes: ["new1-code"] }),
    };
    render(<MfaManageDialog account="ada@example.com" onClose={close} />);
    await waitFor(() => expect(screen.getByTestId("backup-codes-remaining").textContent).toBe("3"));
    fireEvent.click(screen.getByTestId("mfa-regenerate"));
    fireEvent.input(screen.getByTestId("mfa-manage-code"), { target: { value: "111111" } });
    fireEvent.click(screen.getByTestId("mfa-manage-submit"));
    await screen.findByTestId("backup-codes-panel");
    fireEvent.click(screen.getByTestId("dialog-close"));
    await screen.findByTestId("show-once-leave");
    fireEvent.click(screen.getByTestId("show-once-back"));
    expect(screen.getByTestId("backup-codes").textContent).toContain("new1-code");
    fireEvent.click(screen.getByTestId("dialog-close"));
    fireEvent.click(await screen.findByTestId("show-once-leave-anyway"));
    expect(close).toHaveBeenCalledOnce();
    expect(confirm).not.toHaveBeenCalled();
    vi.unstubAllGlobals();
  });
});

describe("MfaEnrollDialog", () => {
  it("asks for the password when starting or confirming needs the sudo window, then retries once", async () => {
    let begins = 0;
    let confirms = 0;
    script = {
      mfaStatus: () => ({ totp_enabled: false, backup_codes_remaining: 0, enrolled_at: null }),
      mfaBeginEnrollment: () => {
        begins += 1;
        if (begins === 1) throw REAUTH;
        return { qr_data_url: "data:image/svg+xml;base64,", manual_key: "JBSW Y3DP", issuer: "Keyhold", account: "ada@example.com" };
      },
      mfaConfirmEnrollment: () => {
        confirms += 1;
        if (confirms === 1) throw REAUTH;
        return { codes: ["aaaa-bbbb"] };
      },
      reauthenticate: () => null,
    };
    render(<ReauthHost />);
    render(<MfaEnrollDialog account="ada@example.com" onClose={() => undefined} />);

    // Starting: the sudo window lapsed, so the app's own dialog asks for the password.
    await screen.findByTestId("reauth-dialog");
    await waitFor(() => expect((screen.getByTestId("reauth-proof") as HTMLInputElement).type).toBe("password"));
    expect(screen.queryByTestId("mfa-enroll-error")).toBeNull();
    fireEvent.input(screen.getByTestId("reauth-proof"), { target: { value: "my long password" } });
    fireEvent.click(screen.getByTestId("reauth-submit"));
    await waitFor(() => expect(screen.getByTestId("mfa-manual-key").textContent).toBe("JBSW Y3DP"));
    expect(screen.queryByTestId("reauth-dialog")).toBeNull();

    // Confirming: lapsed again; the same code goes once more after the password.
    fireEvent.input(screen.getByTestId("mfa-confirm-code"), { target: { value: "123456" } });
    fireEvent.click(screen.getByTestId("mfa-confirm-button"));
    await screen.findByTestId("reauth-dialog");
    fireEvent.input(screen.getByTestId("reauth-proof"), { target: { value: "my long password" } });
    await waitFor(() => expect((screen.getByTestId("reauth-submit") as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(screen.getByTestId("reauth-submit"));
    await screen.findByTestId("backup-codes-panel");
    expect(calls).toEqual([
      "mfaBeginEnrollment",
      "mfaStatus",
      "reauthenticate(my long password)",
      "mfaBeginEnrollment",
      "mfaConfirmEnrollment(123456)",
      "mfaStatus",
      "reauthenticate(my long password)",
      "mfaConfirmEnrollment(123456)",
    ]);
  });

  it("says the enrollment did not start when the confirmation is cancelled", async () => {
    script = {
      mfaStatus: () => ({ totp_enabled: false, backup_codes_remaining: 0, enrolled_at: null }),
      mfaBeginEnrollment: () => {
        throw REAUTH;
      },
    };
    render(<ReauthHost />);
    render(<MfaEnrollDialog account="ada@example.com" onClose={() => undefined} />);
    await screen.findByTestId("reauth-dialog");
    fireEvent.click(screen.getByText("Cancel"));
    await screen.findByTestId("mfa-enroll-error");
    expect(screen.queryByTestId("mfa-qr")).toBeNull();
    expect(calls.filter((c) => c === "mfaBeginEnrollment")).toHaveLength(1);
  });
});
