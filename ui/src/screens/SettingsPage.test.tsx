// The Settings area: its tabs, the approval policy (edited, checked, saved through the sudo
// prompt, read-only for people who may not change it) and the notification preferences.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, it, vi } from "vitest";
import { calls, callsBut, commandError, resetScript, setScript } from "../testing/scripted";

const { ReauthHost } = await import("../components/ReauthDialog");
vi.mock("../api", async () => ({ call: (await import("../testing/scripted")).scriptedCall }));

const { ApprovalPolicy, Notifications, SettingsPage } = await import("./SettingsPage");

const POLICY = { sensitive: 1, critical: 2, critical_delay: "10m", request_ttl: "24h", grant_ttl: "1h", max_token_ttl: "24h" };
const SESSION = {
  server_url: "http://127.0.0.1:8270",
  user: { id: "usr_ada", email: "ada@example.com", display_name: "Ada" },
  tenant_name: "Ada's team",
  role: "owner",
  expires_at: null,
};

afterEach(() => {
  cleanup();
  resetScript();
});

function input(testid: string): HTMLInputElement {
  return screen.getByTestId(testid) as HTMLInputElement;
}

describe("ApprovalPolicy", () => {
  it("shows the policy, saves a change through the sudo prompt, and keeps what the server kept", async () => {
    let saves = 0;
    let saved = POLICY;
    setScript({
      tenantSettings: () => saved,
      saveTenantSettings: (s) => {
        saves += 1;
        if (saves === 1) throw commandError("reauth_required", "Confirm it is you.");
        saved = s as typeof POLICY;
        return saved;
      },
      mfaStatus: () => ({ totp_enabled: true, backup_codes_remaining: 10, enrolled_at: null }),
      reauthenticate: () => null,
    });
    render(<ReauthHost />);
    render(<ApprovalPolicy canManage />);
    await screen.findByTestId("policy-form");
    expect(input("policy-critical").value).toBe("2");
    expect(input("policy-critical-delay").value).toBe("10");
    expect((screen.getByTestId("policy-critical-delay-unit") as HTMLSelectElement).value).toBe("m");
    expect((screen.getByTestId("policy-save") as HTMLButtonElement).disabled).toBe(true);

    fireEvent.input(input("policy-critical"), { target: { value: "3" } });
    fireEvent.input(input("policy-critical-delay"), { target: { value: "0" } });
    fireEvent.change(screen.getByTestId("policy-grant-ttl-unit"), { target: { value: "m" } });
    fireEvent.click(screen.getByTestId("policy-save"));

    await screen.findByTestId("reauth-dialog");
    fireEvent.input(screen.getByTestId("reauth-proof"), { target: { value: "123456" } });
    await waitFor(() => expect((screen.getByTestId("reauth-submit") as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(screen.getByTestId("reauth-submit"));
    await screen.findByTestId("policy-saved");
    const sent = JSON.stringify({ ...POLICY, critical: 3, critical_delay: "0m", grant_ttl: "1m" });
    await waitFor(() => expect(calls).toEqual(["tenantSettings", `saveTenantSettings(${sent})`, "mfaStatus", 'reauthenticate("123456")', `saveTenantSettings(${sent})`, "tenantSettings"]));
  });

  it("refuses fewer approvals than the floors before anything is sent", async () => {
    setScript({ tenantSettings: () => POLICY });
    render(<ApprovalPolicy canManage />);
    await screen.findByTestId("policy-form");
    fireEvent.input(input("policy-critical"), { target: { value: "1" } });
    await screen.findByTestId("policy-invalid");
    expect((screen.getByTestId("policy-save") as HTMLButtonElement).disabled).toBe(true);
    fireEvent.input(input("policy-sensitive"), { target: { value: "0" } });
    fireEvent.submit(screen.getByTestId("policy-form"));
    expect(callsBut("tenantSettings")).toEqual([]);
  });

  it("shows the server's refusal and keeps the form as typed", async () => {
    setScript({
      tenantSettings: () => POLICY,
      saveTenantSettings: () => {
        throw commandError("invalid_request", "request_ttl: not a duration.");
      },
    });
    render(<ApprovalPolicy canManage />);
    await screen.findByTestId("policy-form");
    fireEvent.input(input("policy-request-ttl"), { target: { value: "" } });
    fireEvent.click(screen.getByTestId("policy-save"));
    expect((await screen.findByTestId("policy-save-error")).textContent).toContain("not a duration");
    expect(screen.queryByTestId("policy-saved")).toBeNull();
  });

  it("is read-only for people who may not change it", async () => {
    setScript({ tenantSettings: () => POLICY });
    render(<ApprovalPolicy canManage={false} />);
    await screen.findByTestId("policy-read-only");
    expect(input("policy-critical").disabled).toBe(true);
    expect(screen.queryByTestId("policy-save")).toBeNull();
  });
});

describe("Notifications", () => {
  it("saves approval mail as it is switched", async () => {
    setScript({ notificationPrefs: () => ({ approval_mail: true }), saveNotificationPrefs: (p) => p });
    render(<Notifications />);
    const box = (await screen.findByTestId("notifications-approval-mail")) as HTMLInputElement;
    expect(box.checked).toBe(true);
    fireEvent.click(box);
    expect((await screen.findByTestId("notifications-saved")).textContent).toContain("off");
    expect(calls).toEqual(["notificationPrefs", 'saveNotificationPrefs({"approval_mail":false})']);
    expect((screen.getByTestId("notifications-approval-mail") as HTMLInputElement).checked).toBe(false);
  });

  it("puts the switch back when saving fails", async () => {
    setScript({
      notificationPrefs: () => ({ approval_mail: true }),
      saveNotificationPrefs: () => {
        throw commandError("offline", "Cannot reach the server.");
      },
    });
    render(<Notifications />);
    fireEvent.click(await screen.findByTestId("notifications-approval-mail"));
    await screen.findByTestId("notifications-save-error");
    expect((screen.getByTestId("notifications-approval-mail") as HTMLInputElement).checked).toBe(true);
  });
});

describe("SettingsPage", () => {
  it("opens on the team and switches tabs", async () => {
    setScript({ listMembers: () => [], listInvitations: () => [], tenantSettings: () => POLICY, notificationPrefs: () => ({ approval_mail: true }), listWebhooks: () => [] });
    render(<SettingsPage session={SESSION} />);
    await screen.findByTestId("team-page");
    fireEvent.click(screen.getByTestId("settings-tab-policy"));
    await screen.findByTestId("policy-form");
    expect(screen.queryByTestId("team-page")).toBeNull();
    fireEvent.click(screen.getByTestId("settings-tab-webhooks"));
    await screen.findByTestId("webhooks-empty");
    fireEvent.click(screen.getByTestId("settings-tab-notifications"));
    await screen.findByTestId("notifications-panel");
    expect(screen.getByTestId("settings-tab-notifications").getAttribute("aria-selected")).toBe("true");
  });
});
