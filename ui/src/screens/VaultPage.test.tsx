// The Security Vault with detection: the score's reasons from the server (an open critical
// alert, a suspended key) render with a way to fix them, and owners and admins get the
// alerts panel and the blocks list while others get neither.
import { cleanup, fireEvent, render, screen } from "@testing-library/preact";
import { afterEach, describe, expect, it, vi } from "vitest";
import { calls, resetScript, setScript } from "../testing/scripted";

vi.mock("../api", async () => ({ call: (await import("../testing/scripted")).scriptedCall, reportFirstScreen: () => undefined }));

const { VaultPage } = await import("./VaultPage");

const SESSION = { server_url: "http://127.0.0.1:8200", user: { id: "usr_ada", email: "ada@example.com", display_name: null }, tenant_name: null, role: "owner", expires_at: null };

function overview() {
  return {
    score: 50,
    status: "at_risk",
    factors: [],
    email: "ada@example.com",
    email_verified: true,
    recommendations: [
      { id: "acknowledge_alerts", severity: "critical", message: "1 critical alert is open: acknowledge it once handled.", target: null },
      { id: "key_suspended", severity: "critical", message: 'Agent key "edge-agent" is suspended.', target: "01a24194-e30e-77ab-8a1a-3bcd0c5ac2bb" },
    ],
  };
}

const FEED = { open: [], live: true, error: null, changes: 0, reload: () => undefined };

afterEach(() => {
  cleanup();
  resetScript();
});

describe("VaultPage", () => {
  it("shows the score's detection reasons and leads a suspended key's to the Keys page", async () => {
    setScript({ securityOverview: overview, listBlocks: () => [] });
    const navigate = vi.fn();
    const openKey = vi.fn();
    render(<VaultPage session={SESSION as never} onNavigate={navigate} onOpenKey={openKey} alerts={FEED} />);
    const rec = await screen.findByTestId("rec-key_suspended");
    expect(rec.textContent).toContain("edge-agent");
    expect(screen.getByTestId("rec-acknowledge_alerts").textContent).toContain("critical alert");
    fireEvent.click(rec.querySelector("button") as HTMLButtonElement);
    expect(openKey).toHaveBeenCalledWith({ id: "01a24194-e30e-77ab-8a1a-3bcd0c5ac2bb", action: "details" });
    expect(screen.getByTestId("alerts-panel")).toBeTruthy();
    await screen.findByTestId("blocks-empty");
  });

  it("has no alerts panel or blocks list for a member", async () => {
    setScript({ securityOverview: overview });
    render(<VaultPage session={{ ...SESSION, role: "member" } as never} onNavigate={() => undefined} onOpenKey={() => undefined} alerts={null} />);
    await screen.findByTestId("rec-key_suspended");
    expect(screen.queryByTestId("alerts-panel")).toBeNull();
    expect(screen.queryByTestId("blocks-panel")).toBeNull();
    expect(calls).toEqual(["securityOverview"]);
  });

  it("gives every recommendation the server sends a button that does something", async () => {
    const recs = [
      ["verify_email", null],
      ["enable_mfa", null],
      ["strengthen_password", null],
      ["regenerate_backup_codes", null],
      ["pending_approvals", null],
      ["acknowledge_alerts", null],
      ["key_without_expiry", "key_1"],
      ["key_broad_scope", "key_2"],
      ["key_unused", "key_3"],
      ["key_old", "key_4"],
    ].map(([id, target]) => ({ id, severity: "warning", message: `about ${id}`, target }));
    setScript({
      securityOverview: () => ({ ...overview(), email_verified: false, recommendations: recs }),
      listBlocks: () => [],
      requestEmailVerification: () => null,
      mfaBeginEnrollment: () => new Promise(() => undefined),
      mfaStatus: () => new Promise(() => undefined),
    });
    const navigate = vi.fn();
    const openKey = vi.fn();
    render(<VaultPage session={SESSION as never} onNavigate={navigate} onOpenKey={openKey} alerts={FEED} />);
    await screen.findByTestId("rec-verify_email");
    const press = (id: string) => fireEvent.click(screen.getByTestId(`rec-action-${id}`));

    press("verify_email");
    await vi.waitFor(() => expect(calls).toContain("requestEmailVerification"));
    press("pending_approvals");
    expect(navigate).toHaveBeenCalledWith("approvals");
    const opens = { key_without_expiry: "edit", key_broad_scope: "details", key_unused: "details", key_old: "rotate" };
    for (const [i, [id, action]] of Object.entries(opens).entries()) {
      press(id);
      expect(openKey).toHaveBeenLastCalledWith({ id: `key_${i + 1}`, action });
    }
    press("strengthen_password");
    expect(await screen.findByRole("dialog")).toBeTruthy();
    expect(screen.getByRole("dialog").textContent).toContain("password");
  });
});
