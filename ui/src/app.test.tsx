// The app shell's session and server flows, over scripted commands: the can't-reach
// screen at launch, a session that ends while a draft is open (the sign-in dialog over the
// kept screen), another account signing in there, auto-lock and unlock.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { calls, commandError, resetScript, setScript } from "./testing/scripted";

vi.mock("./api", async () => {
  const { scriptedCall } = await import("./testing/scripted");
  const { toCommandError } = await import("./lib/errors");
  type L = (e: unknown) => void;
  const listeners: Record<string, Set<L>> = { signed_out: new Set(), offline: new Set(), locked: new Set() };
  const on = (kind: string) => (l: L) => {
    listeners[kind]!.add(l);
    return () => listeners[kind]!.delete(l);
  };
  // As api.ts: the listeners hear every command's signed_out, offline and locked.
  const call = async (run: (c: unknown) => Promise<unknown>, opts?: unknown) => {
    try {
      return await scriptedCall(run, opts as never);
    } catch (raw) {
      const e = toCommandError(raw);
      listeners[e.kind]?.forEach((l) => l(e));
      throw e;
    }
  };
  return { call, onSignedOut: on("signed_out"), onOffline: on("offline"), onLocked: on("locked"), reportFirstScreen: () => undefined };
});
// The live feeds need Tauri channels; the shell's own flows do not.
vi.mock("./lib/useApprovalFeed", () => ({ useApprovalFeed: () => ({ pending: [], live: true, error: null, reload: () => undefined }) }));
vi.mock("./lib/useAlertFeed", () => ({
  seesAlerts: () => false,
  useAlertFeed: () => ({ open: [], changes: 0, live: true, error: null, reload: () => undefined }),
}));

const { App } = await import("./app");

const SERVER = "http://127.0.0.1:8270";
const ADA = { server_url: SERVER, user: { id: "usr_ada", email: "ada@example.com", display_name: "Ada" }, tenant_name: "Ada's team", role: "owner", expires_at: null };
const BOB = { ...ADA, user: { id: "usr_bob", email: "bob@example.com", display_name: "Bob" } };
const POLICY = { sensitive: 1, critical: 2, critical_delay: "10m", request_ttl: "24h", grant_ttl: "1h", max_token_ttl: "24h" };

function status(session: typeof ADA | null, restore_problem: unknown = null) {
  return { server_url: SERVER, last_email: "ada@example.com", keyring: "kernel_keyutils", session, restore_problem, lock: null };
}

const offline = () => {
  throw commandError("offline", `Cannot reach the Keyhold server at ${SERVER}.`);
};

beforeEach(() => localStorage.clear());
afterEach(() => {
  cleanup();
  resetScript();
  localStorage.clear();
});

function input(testid: string): HTMLInputElement {
  return screen.getByTestId(testid) as HTMLInputElement;
}

describe("launch with the server down", () => {
  it("shows the can't-reach screen, then the restored session once the server answers", async () => {
    let up = false;
    setScript({
      sessionStatus: () => (up ? status(ADA) : status(null, commandError("offline", "Cannot reach the server."))),
      securityOverview: offline,
    });
    render(<App />);
    await screen.findByTestId("connect-screen");
    expect(screen.getByRole("heading", { level: 1 }).textContent).toContain("127.0.0.1:8270");
    expect(screen.queryByTestId("first-run")).toBeNull();
    fireEvent.click(screen.getByTestId("connect-retry"));
    await waitFor(() => expect(calls.filter((c) => c === "sessionStatus").length).toBe(2));
    expect(screen.getByTestId("connect-screen")).toBeTruthy();
    await waitFor(() => expect((screen.getByTestId("connect-retry") as HTMLButtonElement).disabled).toBe(false));
    up = true;
    fireEvent.click(screen.getByTestId("connect-retry"));
    await screen.findByTestId("topbar");
    // The launch's failures were the can't-reach screen's: no offline banner now.
    expect(screen.queryByTestId("offline-banner")).toBeNull();
  });

  it("checks the server before offering sign-in, and Change server goes to its address", async () => {
    setScript({ sessionStatus: () => status(null), serverHealth: offline, checkServerUrl: () => ({ ok: true, loopback: true, normalized: SERVER, problem: null }) });
    render(<App />);
    await screen.findByTestId("connect-screen");
    fireEvent.click(screen.getByTestId("connect-change-server"));
    await screen.findByTestId("first-run");
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId("server-url")));
  });
});

/** Signed in as Ada on Settings → Approval policy, with an unsaved change. */
async function draftOnPolicy(save: (p: unknown) => unknown) {
  setScript({
    sessionStatus: () => status(ADA),
    tenantSettings: () => POLICY,
    saveTenantSettings: save,
    signIn: () => ({ step: "mfa_required", email: "ada@example.com" }),
    signInMfa: () => ({ step: "signed_in", session: ADA }),
    signOut: () => status(null),
    checkServerUrl: () => ({ ok: true, loopback: true, normalized: SERVER, problem: null }),
  });
  render(<App />);
  fireEvent.click(await screen.findByTestId("nav-settings"));
  fireEvent.click(await screen.findByTestId("settings-tab-policy"));
  await screen.findByTestId("policy-form");
  fireEvent.input(input("policy-critical"), { target: { value: "3" } });
  fireEvent.click(screen.getByTestId("policy-save"));
  await screen.findByTestId("session-expired-dialog");
}

describe("a session that ends while in use", () => {
  it("asks to sign in over the kept screen (password, then code) and keeps the draft", async () => {
    let saves = 0;
    await draftOnPolicy((p) => {
      saves += 1;
      if (saves === 1) throw commandError("signed_out", "Your session has ended.");
      return p;
    });
    // The page and its draft are still there, inert under the dialog.
    expect(input("policy-critical").value).toBe("3");
    expect(screen.getByTestId("shell").hasAttribute("inert")).toBe(true);
    expect(input("expired-email").value).toBe("ada@example.com");
    fireEvent.input(input("expired-password"), { target: { value: "correct horse" } });
    fireEvent.click(screen.getByTestId("expired-submit"));
    await screen.findByTestId("expired-code");
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId("expired-code")));
    fireEvent.input(input("expired-code"), { target: { value: "123 456" } });
    fireEvent.click(screen.getByTestId("expired-submit"));
    await waitFor(() => expect(screen.queryByTestId("session-expired-dialog")).toBeNull());
    expect(calls).toContain(`signIn("${SERVER}", "ada@example.com", "correct horse")`);
    expect(calls).toContain('signInMfa("123 456")');
    expect(input("policy-critical").value).toBe("3");
    expect(screen.getByTestId("shell").hasAttribute("inert")).toBe(false);
    // The kept draft saves now.
    fireEvent.click(screen.getByTestId("policy-save"));
    await screen.findByTestId("policy-saved");
  });

  it("starts over on the dashboard when another account signs in", async () => {
    await draftOnPolicy(() => {
      throw commandError("signed_out", "Your session has ended.");
    });
    setScript({
      signIn: () => ({ step: "signed_in", session: BOB }),
      securityOverview: offline,
    });
    fireEvent.input(input("expired-email"), { target: { value: "bob@example.com" } });
    fireEvent.input(input("expired-password"), { target: { value: "bobs password" } });
    fireEvent.click(screen.getByTestId("expired-submit"));
    await waitFor(() => expect(screen.queryByTestId("session-expired-dialog")).toBeNull());
    expect(screen.queryByTestId("policy-form")).toBeNull();
    expect(screen.getByTestId("nav-vault").getAttribute("aria-current")).toBe("page");
  });

  it("signs out properly on Sign out", async () => {
    await draftOnPolicy(() => {
      throw commandError("signed_out", "Your session has ended.");
    });
    fireEvent.click(screen.getByTestId("expired-sign-out"));
    await screen.findByTestId("first-run");
    expect(calls).toContain("signOut");
  });
});

describe("auto-lock", () => {
  it("locks after the idle time, hides the screen, and unlocks with a code the server checks", async () => {
    localStorage.setItem("keyhold.autolock", "1");
    let unlocks = 0;
    setScript({
      sessionStatus: () => status(ADA),
      securityOverview: offline,
      lockApp: () => ({ totp_enabled: true }),
      unlockApp: () => {
        unlocks += 1;
        if (unlocks === 1) throw commandError("unauthenticated", "That code is not right.");
        return null;
      },
    });
    render(<App />);
    await screen.findByTestId("topbar");
    const lock = await screen.findByTestId("lock-screen", undefined, { timeout: 3000 });
    expect(calls).toContain("lockApp");
    expect(screen.getByTestId("shell").hidden).toBe(true);
    await waitFor(() => expect(screen.getByLabelText("Code from your authenticator app")).toBeTruthy());
    expect(lock.textContent).toContain("Ada");
    fireEvent.input(input("unlock-proof"), { target: { value: "000000" } });
    fireEvent.click(screen.getByTestId("unlock-submit"));
    await screen.findByTestId("unlock-error");
    expect(screen.getByTestId("shell").hidden).toBe(true);
    fireEvent.input(input("unlock-proof"), { target: { value: "123456" } });
    fireEvent.click(screen.getByTestId("unlock-submit"));
    await waitFor(() => expect(screen.queryByTestId("lock-screen")).toBeNull());
    expect(calls).toContain('unlockApp("123456")');
    expect(screen.getByTestId("shell").hidden).toBe(false);
  });

  it("does not lock when auto-lock is off, and shows the lock screen when a command is refused as locked", async () => {
    localStorage.setItem("keyhold.autolock", "0");
    setScript({
      sessionStatus: () => status(ADA),
      securityOverview: () => {
        throw commandError("locked", "Keyhold is locked.");
      },
    });
    render(<App />);
    await screen.findByTestId("lock-screen");
    expect(calls).not.toContain("lockApp");
    expect(screen.getByLabelText("Your password, or a code from your authenticator app")).toBeTruthy();
  });
});
