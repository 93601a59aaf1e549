// "Forgot password?" on the sign-in screen: the link is asked for by mail, then the pasted
// link or code, a new password and, when the account has 2FA on, a code set the password.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, it, vi } from "vitest";
import { calls, callsBut, commandError, resetScript, setScript } from "../testing/scripted";

vi.mock("../api", async () => ({ call: (await import("../testing/scripted")).scriptedCall }));

const { ForgotPassword } = await import("./ForgotPassword");

const SERVER = "http://127.0.0.1:8270";
const STRONG = { score: 4, acceptable: true, crack_time: "centuries", warning: null, suggestions: [], problems: [] };

afterEach(() => {
  cleanup();
  resetScript();
});

async function typePassword(value: string) {
  fireEvent.input(screen.getByTestId("reset-password"), { target: { value } });
  await waitFor(() => expect(screen.getByTestId("password-score")).toBeTruthy());
}

describe("ForgotPassword", () => {
  it("mails a link, then sets the new password with the pasted link", async () => {
    const back = vi.fn();
    setScript({ requestPasswordReset: () => null, passwordStrength: () => STRONG, resetPassword: () => null });
    render(<ForgotPassword serverUrl={SERVER} email="ada@example.com" onBack={back} />);
    expect((screen.getByTestId("reset-email") as HTMLInputElement).value).toBe("ada@example.com");
    fireEvent.click(screen.getByTestId("reset-request"));
    expect((await screen.findByTestId("reset-mailed")).textContent).toContain("ada@example.com");
    fireEvent.input(screen.getByTestId("reset-token"), { target: { value: "https://vault/reset?token=khr_x" } });
    await typePassword("correct horse battery staple 42");
    fireEvent.click(screen.getByTestId("reset-submit"));
    await screen.findByTestId("reset-done");
    expect(callsBut("passwordStrength")).toEqual([
      `requestPasswordReset("${SERVER}", "ada@example.com")`,
      `resetPassword("${SERVER}", "https://vault/reset?token=khr_x", "correct horse battery staple 42", null)`,
    ]);
    fireEvent.click(screen.getByTestId("reset-back"));
    expect(back).toHaveBeenCalledWith("ada@example.com");
  });

  it("asks for a 2FA code when the account has 2FA on, and sends it", async () => {
    let tries = 0;
    setScript({
      passwordStrength: () => STRONG,
      resetPassword: (_s, _t, _p, code) => {
        tries += 1;
        if (code === null) throw commandError("mfa_required", "A code is required.");
        return null;
      },
    });
    render(<ForgotPassword serverUrl={SERVER} email="" onBack={() => undefined} />);
    fireEvent.click(screen.getByTestId("reset-have-link"));
    fireEvent.input(await screen.findByTestId("reset-token"), { target: { value: "khr_abc" } });
    await typePassword("correct horse battery staple 42");
    fireEvent.click(screen.getByTestId("reset-submit"));
    await screen.findByTestId("reset-code-hint");
    expect(screen.queryByTestId("reset-error")?.textContent ?? "").toBe("");
    expect((screen.getByTestId("reset-submit") as HTMLButtonElement).disabled).toBe(true);
    fireEvent.input(screen.getByTestId("reset-code"), { target: { value: "123 456" } });
    fireEvent.click(screen.getByTestId("reset-submit"));
    await screen.findByTestId("reset-done");
    expect(tries).toBe(2);
    expect(calls.filter((c) => c.startsWith("resetPassword")).at(-1)).toContain('"123 456")');
  });

  it("says what is wrong with a used or expired link and keeps the form", async () => {
    setScript({
      passwordStrength: () => STRONG,
      resetPassword: () => {
        throw commandError("invalid_request", "This reset link is invalid or has expired.");
      },
    });
    render(<ForgotPassword serverUrl={SERVER} email="ada@example.com" onBack={() => undefined} />);
    fireEvent.click(screen.getByTestId("reset-have-link"));
    fireEvent.input(await screen.findByTestId("reset-token"), { target: { value: "khr_old" } });
    await typePassword("correct horse battery staple 42");
    fireEvent.click(screen.getByTestId("reset-submit"));
    expect((await screen.findByTestId("reset-error")).textContent).toContain("expired");
    expect(screen.queryByTestId("reset-done")).toBeNull();
  });

  it("will not send a password the meter rejects", async () => {
    setScript({ passwordStrength: () => ({ ...STRONG, score: 0, acceptable: false, problems: ["Too short."] }) });
    render(<ForgotPassword serverUrl={SERVER} email="ada@example.com" onBack={() => undefined} />);
    fireEvent.click(screen.getByTestId("reset-have-link"));
    fireEvent.input(await screen.findByTestId("reset-token"), { target: { value: "khr_abc" } });
    await typePassword("short");
    expect((screen.getByTestId("reset-submit") as HTMLButtonElement).disabled).toBe(true);
  });
});
