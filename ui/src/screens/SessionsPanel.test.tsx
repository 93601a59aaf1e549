// Settings → Sessions and lock: the person's sessions (this device marked), "Sign out
// everywhere else" behind the app's confirm and the sudo prompt, and the auto-lock time.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, it, vi } from "vitest";
import { calls, callsBut, commandError, resetScript, setScript } from "../testing/scripted";

const { ReauthHost } = await import("../components/ReauthDialog");
const { Toasts } = await import("../components/Toasts");
vi.mock("../api", async () => ({ call: (await import("../testing/scripted")).scriptedCall }));

const { SessionsPanel } = await import("./SessionsPanel");
const { loadLockSecs } = await import("../lib/autolock");

const NOW = new Date().toISOString();
const SESSIONS = [
  { id: "ses_this", created_at: NOW, last_seen_at: NOW, expires_at: "2099-01-01T00:00:00Z", current: true },
  { id: "ses_laptop", created_at: "2026-01-01T10:00:00Z", last_seen_at: NOW, expires_at: "2099-01-01T00:00:00Z", current: false },
  { id: "ses_cli", created_at: "2026-01-02T10:00:00Z", last_seen_at: NOW, expires_at: "2099-01-01T00:00:00Z", current: false },
];

afterEach(() => {
  cleanup();
  resetScript();
  localStorage.clear();
});

describe("SessionsPanel", () => {
  it("lists the sessions with this device marked, and signs out the others after confirming it's you", async () => {
    let list = SESSIONS;
    let ends = 0;
    setScript({
      listSessions: () => list,
      appInfo: () => ({ version: "1", default_server_url: "http://127.0.0.1:8270", debug_lock_secs: null }),
      endOtherSessions: () => {
        ends += 1;
        if (ends === 1) throw commandError("reauth_required", "Confirm it is you.");
        list = SESSIONS.filter((s) => s.current);
        return 2;
      },
      mfaStatus: () => ({ totp_enabled: true, backup_codes_remaining: 10, enrolled_at: null }),
      reauthenticate: () => null,
    });
    render(<ReauthHost />);
    render(<Toasts />);
    render(<SessionsPanel />);
    await screen.findByTestId("sessions-table");
    expect(screen.getAllByTestId("session-row")).toHaveLength(2);
    expect(screen.getByTestId("session-row-current").textContent).toContain("This device");

    fireEvent.click(screen.getByTestId("end-other-sessions"));
    const dialog = await screen.findByTestId("end-other-sessions-dialog");
    expect(dialog.textContent).toContain("Sign out 2 other sessions?");
    // The safe button has the focus, and the dialog says what happens.
    expect(document.activeElement?.textContent).toBe("Cancel");
    expect(dialog.getAttribute("aria-describedby")).toBeTruthy();
    fireEvent.click(screen.getByTestId("confirm-end-other-sessions"));
    await screen.findByTestId("reauth-dialog");
    fireEvent.input(screen.getByTestId("reauth-proof"), { target: { value: "123456" } });
    await waitFor(() => expect((screen.getByTestId("reauth-submit") as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(screen.getByTestId("reauth-submit"));
    await screen.findByText("Signed out 2 other sessions");
    await waitFor(() => expect(screen.queryAllByTestId("session-row")).toHaveLength(0));
    expect(callsBut("listSessions", "appInfo", "mfaStatus")).toEqual(["endOtherSessions", 'reauthenticate("123456")', "endOtherSessions"]);
    expect((screen.getByTestId("end-other-sessions") as HTMLButtonElement).disabled).toBe(true);
  });

  it("cancelling changes nothing", async () => {
    setScript({ listSessions: () => SESSIONS, appInfo: () => ({ version: "1", default_server_url: "", debug_lock_secs: null }) });
    render(<SessionsPanel />);
    await screen.findByTestId("sessions-table");
    fireEvent.click(screen.getByTestId("end-other-sessions"));
    await screen.findByTestId("end-other-sessions-dialog");
    fireEvent.click(screen.getByText("Cancel"));
    await waitFor(() => expect(screen.queryByTestId("end-other-sessions-dialog")).toBeNull());
    expect(calls).not.toContain("endOtherSessions");
  });

  it("saves the auto-lock time on this computer; a test build's short time is offered only when the app says so", async () => {
    setScript({ listSessions: () => SESSIONS, appInfo: () => ({ version: "1", default_server_url: "", debug_lock_secs: null }) });
    const { unmount } = render(<SessionsPanel />);
    const select = (await screen.findByTestId("autolock-time")) as HTMLSelectElement;
    expect(select.value).toBe(String(15 * 60));
    expect(Array.from(select.options).map((o) => o.value)).toEqual(["0", "300", "900", "1800", "3600"]);
    fireEvent.change(select, { target: { value: "300" } });
    expect(loadLockSecs()).toBe(300);
    unmount();

    setScript({ listSessions: () => SESSIONS, appInfo: () => ({ version: "1", default_server_url: "", debug_lock_secs: 5 }) });
    render(<SessionsPanel />);
    await screen.findByText("After 5 seconds (test build only)");
    fireEvent.change(screen.getByTestId("autolock-time"), { target: { value: "5" } });
    expect(loadLockSecs()).toBe(5);
  });

  it("says why the list could not be read", async () => {
    setScript({
      listSessions: () => {
        throw commandError("offline", "Cannot reach the Keyhold server.");
      },
      appInfo: () => ({ version: "1", default_server_url: "", debug_lock_secs: null }),
    });
    render(<SessionsPanel />);
    expect((await screen.findByTestId("sessions-error")).textContent).toContain("Cannot reach");
  });
});
