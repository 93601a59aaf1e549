// The Team page's pending invitations: listed, refreshed after an invitation is sent, and
// revoked behind the app's own confirmation and the sudo prompt. The Tauri IPC cannot run
// under vitest, so `call` is replaced by a scripted stand-in; the real commands are
// covered by src-tauri/tests/members.rs and the desktop end-to-end test.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, it, vi } from "vitest";

const calls: string[] = [];
let script: Record<string, (...args: unknown[]) => unknown> = {};

vi.mock("../api", () => ({
  call: async (run: (c: unknown) => Promise<unknown>) => {
    const commands = new Proxy(
      {},
      {
        get:
          (_t, name: string) =>
          async (...args: unknown[]) => {
            calls.push(args.length ? `${name}(${args.map((a) => JSON.stringify(a)).join(", ")})` : name);
            const step = script[name];
            if (!step) throw { kind: "internal", message: `unexpected ${name}`, details: [], retry_after_secs: null };
            return step(...args);
          },
      },
    );
    return run(commands);
  },
}));

const { TeamPage } = await import("./TeamPage");

const REAUTH = { kind: "reauth_required", message: "Confirm it is you.", details: [], retry_after_secs: null };

function invitation(id: string, email: string, role = "approver") {
  return {
    id,
    email,
    role,
    invited_by: "Ada Lovelace",
    invited_by_id: "usr_ada",
    created_at: "2026-01-01T00:00:00Z",
    expires_at: "2026-01-08T00:00:00Z",
  };
}

afterEach(() => {
  cleanup();
  calls.length = 0;
  script = {};
  vi.unstubAllGlobals();
});

describe("TeamPage", () => {
  it("lists pending invitations with role, sender and expiry", async () => {
    script = { listInvitations: () => [invitation("inv_1", "bob@example.com"), invitation("inv_2", "carol@example.com", "admin")] };
    render(<TeamPage />);
    const row = await screen.findByTestId("invitation-row-inv_2");
    expect(row.textContent).toContain("carol@example.com");
    expect(row.textContent).toContain("admin");
    expect(row.textContent).toContain("Ada Lovelace");
    expect(screen.getByTestId("invitation-expires-inv_2").textContent).toContain("2026");
    expect(screen.getByTestId("invitation-row-inv_1").textContent).toContain("bob@example.com");
  });

  it("refreshes the list as soon as an invitation is sent", async () => {
    let sent = false;
    script = {
      listInvitations: () => (sent ? [invitation("inv_9", "dave@example.com", "member")] : []),
      inviteMember: (email, role) => {
        sent = true;
        return { id: "inv_9", email, role, expires_at: "2026-01-08T00:00:00Z" };
      },
    };
    render(<TeamPage />);
    await screen.findByTestId("invitations-empty");
    fireEvent.click(screen.getByTestId("team-invite-button"));
    fireEvent.input(screen.getByTestId("invite-email"), { target: { value: "dave@example.com" } });
    fireEvent.change(screen.getByTestId("invite-role"), { target: { value: "member" } });
    fireEvent.click(screen.getByTestId("invite-submit"));
    await screen.findByTestId("invite-sent");
    await screen.findByTestId("invitation-row-inv_9");
    expect(calls).toEqual(["listInvitations", 'inviteMember("dave@example.com", "member")', "listInvitations"]);
  });

  it("revokes after the app's own confirmation, through the sudo prompt, then reloads", async () => {
    // A browser prompt would be the wrong dialog: the app asks in its own.
    const confirm = vi.fn(() => true);
    vi.stubGlobal("confirm", confirm);
    let revokes = 0;
    script = {
      listInvitations: () => (revokes < 2 ? [invitation("inv_1", "bob@example.com")] : []),
      revokeInvitation: () => {
        revokes += 1;
        if (revokes === 1) throw REAUTH;
        return null;
      },
      mfaStatus: () => ({ totp_enabled: true, backup_codes_remaining: 10, enrolled_at: null }),
      reauthenticate: () => null,
    };
    render(<TeamPage />);
    fireEvent.click(await screen.findByTestId("revoke-invitation-inv_1"));
    expect(screen.getByTestId("revoke-invitation-dialog").textContent).toContain("bob@example.com");
    expect(calls).toEqual(["listInvitations"]);
    fireEvent.click(screen.getByTestId("confirm-revoke-invitation"));

    await screen.findByTestId("reauth-dialog");
    fireEvent.input(screen.getByTestId("reauth-proof"), { target: { value: "123 456" } });
    await waitFor(() => expect((screen.getByTestId("reauth-submit") as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(screen.getByTestId("reauth-submit"));
    await screen.findByTestId("invitations-empty");
    expect(screen.queryByTestId("revoke-invitation-dialog")).toBeNull();
    expect(confirm).not.toHaveBeenCalled();
    expect(calls).toEqual([
      "listInvitations",
      'revokeInvitation("inv_1")',
      "mfaStatus",
      'reauthenticate("123456")',
      'revokeInvitation("inv_1")',
      "listInvitations",
    ]);
  });

  it("keeps the invitation when the revoke is not confirmed", async () => {
    script = { listInvitations: () => [invitation("inv_1", "bob@example.com")] };
    render(<TeamPage />);
    fireEvent.click(await screen.findByTestId("revoke-invitation-inv_1"));
    fireEvent.click(screen.getByText("Keep it"));
    await waitFor(() => expect(screen.queryByTestId("revoke-invitation-dialog")).toBeNull());
    expect(screen.getByTestId("invitation-row-inv_1")).toBeTruthy();
    expect(calls).toEqual(["listInvitations"]);
  });

  it("tells members and approvers that only owners and admins see invitations", async () => {
    script = {
      listInvitations: () => {
        throw { kind: "forbidden", message: "Only owners and admins.", details: [], retry_after_secs: null };
      },
    };
    render(<TeamPage />);
    await screen.findByTestId("invitations-forbidden");
    expect(screen.queryByTestId("invitations-table")).toBeNull();
  });
});
