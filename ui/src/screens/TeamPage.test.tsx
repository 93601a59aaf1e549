// The Team tab of Settings: members (role changed, removed, a lost 2FA reset) and pending
// invitations (listed, refreshed after an invitation is sent, revoked), each change behind
// the app's own confirmation and the sudo prompt. The Tauri IPC cannot run
// under vitest, so `call` is replaced by a scripted stand-in; the real commands are
// covered by src-tauri/tests/members.rs and the desktop end-to-end test.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, it, vi } from "vitest";
import { calls, callsBut, resetScript, setScript } from "../testing/scripted";

const { ReauthHost } = await import("../components/ReauthDialog");
vi.mock("../api", async () => ({ call: (await import("../testing/scripted")).scriptedCall }));

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

function member(id: string, email: string, role = "approver", mfa = true) {
  return { id, email, display_name: null, role, mfa_enabled: mfa, created_at: "2026-01-01T00:00:00Z" };
}

afterEach(() => {
  cleanup();
  resetScript();
  vi.unstubAllGlobals();
});

describe("TeamPage", () => {
  it("lists pending invitations with role, sender and expiry", async () => {
    setScript({ listInvitations: () => [invitation("inv_1", "bob@example.com"), invitation("inv_2", "carol@example.com", "admin")] });
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
    setScript({
      listInvitations: () => (sent ? [invitation("inv_9", "dave@example.com", "member")] : []),
      inviteMember: (email, role) => {
        sent = true;
        return { id: "inv_9", email, role, expires_at: "2026-01-08T00:00:00Z" };
      },
    });
    render(<TeamPage />);
    await screen.findByTestId("invitations-empty");
    fireEvent.click(screen.getByTestId("team-invite-button"));
    fireEvent.input(screen.getByTestId("invite-email"), { target: { value: "dave@example.com" } });
    fireEvent.change(screen.getByTestId("invite-role"), { target: { value: "member" } });
    fireEvent.click(screen.getByTestId("invite-submit"));
    await screen.findByTestId("invite-sent");
    await screen.findByTestId("invitation-row-inv_9");
    expect(callsBut("listMembers")).toEqual(["listInvitations", 'inviteMember("dave@example.com", "member")', "listInvitations"]);
  });

  it("revokes after the app's own confirmation, through the sudo prompt, then reloads", async () => {
    // A browser prompt would be the wrong dialog: the app asks in its own.
    const confirm = vi.fn(() => true);
    vi.stubGlobal("confirm", confirm);
    let revokes = 0;
    setScript({
      listInvitations: () => (revokes < 2 ? [invitation("inv_1", "bob@example.com")] : []),
      revokeInvitation: () => {
        revokes += 1;
        if (revokes === 1) throw REAUTH;
        return null;
      },
      mfaStatus: () => ({ totp_enabled: true, backup_codes_remaining: 10, enrolled_at: null }),
      reauthenticate: () => null,
    });
    render(<ReauthHost />);
    render(<TeamPage />);
    fireEvent.click(await screen.findByTestId("revoke-invitation-inv_1"));
    expect(screen.getByTestId("revoke-invitation-dialog").textContent).toContain("bob@example.com");
    expect(callsBut("listMembers")).toEqual(["listInvitations"]);
    fireEvent.click(screen.getByTestId("confirm-revoke-invitation"));

    await screen.findByTestId("reauth-dialog");
    fireEvent.input(screen.getByTestId("reauth-proof"), { target: { value: "123 456" } });
    await waitFor(() => expect((screen.getByTestId("reauth-submit") as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(screen.getByTestId("reauth-submit"));
    await screen.findByTestId("invitations-empty");
    expect(screen.queryByTestId("revoke-invitation-dialog")).toBeNull();
    expect(confirm).not.toHaveBeenCalled();
    expect(callsBut("listMembers")).toEqual([
      "listInvitations",
      'revokeInvitation("inv_1")',
      "mfaStatus",
      'reauthenticate("123456")',
      'revokeInvitation("inv_1")',
      "listInvitations",
    ]);
  });

  it("keeps the invitation when the revoke is not confirmed", async () => {
    setScript({ listInvitations: () => [invitation("inv_1", "bob@example.com")] });
    render(<TeamPage />);
    fireEvent.click(await screen.findByTestId("revoke-invitation-inv_1"));
    fireEvent.click(screen.getByText("Keep it"));
    await waitFor(() => expect(screen.queryByTestId("revoke-invitation-dialog")).toBeNull());
    expect(screen.getByTestId("invitation-row-inv_1")).toBeTruthy();
    expect(callsBut("listMembers")).toEqual(["listInvitations"]);
  });

  it("tells members and approvers that only owners and admins see invitations", async () => {
    setScript({
      listInvitations: () => {
        throw { kind: "forbidden", message: "Only owners and admins.", details: [], retry_after_secs: null };
      },
    });
    render(<TeamPage />);
    await screen.findByTestId("invitations-forbidden");
    expect(screen.queryByTestId("invitations-table")).toBeNull();
  });
});

describe("TeamPage members", () => {
  const TOTP = { mfaStatus: () => ({ totp_enabled: true, backup_codes_remaining: 10, enrolled_at: null }), reauthenticate: () => null };

  async function confirmItsMe(code: string) {
    await screen.findByTestId("reauth-dialog");
    fireEvent.input(screen.getByTestId("reauth-proof"), { target: { value: code } });
    await waitFor(() => expect((screen.getByTestId("reauth-submit") as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(screen.getByTestId("reauth-submit"));
  }

  it("lists members with role and 2FA, marks you, and offers no 2FA reset on yourself", async () => {
    setScript({ listInvitations: () => [], listMembers: () => [member("usr_ada", "ada@example.com", "owner"), member("usr_bob", "bob@example.com", "approver", false)] });
    render(<TeamPage myId="usr_ada" canManage />);
    const ada = await screen.findByTestId("member-row-usr_ada");
    expect(ada.textContent).toContain("(you)");
    expect(ada.textContent).toContain("On");
    expect(screen.getByTestId("member-role-usr_bob").textContent).toBe("approver");
    expect(screen.getByTestId("member-row-usr_bob").textContent).toContain("Off");
    expect(screen.queryByTestId("member-reset-mfa-usr_ada")).toBeNull();
    expect(screen.queryByTestId("member-reset-mfa-usr_bob")).toBeNull();
    expect(screen.getByTestId("member-remove-usr_ada").textContent).toBe("Leave");
  });

  it("hides the changes from people who may not make them", async () => {
    setScript({ listInvitations: () => [], listMembers: () => [member("usr_bob", "bob@example.com")] });
    render(<TeamPage myId="usr_ada" canManage={false} />);
    await screen.findByTestId("member-row-usr_bob");
    expect(screen.queryByTestId("member-change-role-usr_bob")).toBeNull();
    expect(screen.queryByTestId("member-remove-usr_bob")).toBeNull();
  });

  it("changes a role through the sudo prompt and reloads", async () => {
    let role = "approver";
    let tries = 0;
    setScript({
      ...TOTP,
      listInvitations: () => [],
      listMembers: () => [member("usr_bob", "bob@example.com", role)],
      changeMemberRole: (_id, r) => {
        tries += 1;
        if (tries === 1) throw REAUTH;
        role = r as string;
        return member("usr_bob", "bob@example.com", role);
      },
    });
    render(<ReauthHost />);
    render(<TeamPage myId="usr_ada" canManage />);
    fireEvent.click(await screen.findByTestId("member-change-role-usr_bob"));
    expect((screen.getByTestId("member-role-save") as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(screen.getByTestId("member-role-select"), { target: { value: "admin" } });
    fireEvent.click(screen.getByTestId("member-role-save"));
    await confirmItsMe("123456");
    await waitFor(() => expect(screen.getByTestId("member-role-usr_bob").textContent).toBe("admin"));
    expect(screen.queryByTestId("member-role-dialog")).toBeNull();
    expect(callsBut("listInvitations", "listMembers", "mfaStatus")).toEqual(['changeMemberRole("usr_bob", "admin")', 'reauthenticate("123456")', 'changeMemberRole("usr_bob", "admin")']);
  });

  it("removes a member after the app's own confirmation", async () => {
    const confirm = vi.fn(() => true);
    vi.stubGlobal("confirm", confirm);
    let gone = false;
    setScript({
      listInvitations: () => [],
      listMembers: () => (gone ? [] : [member("usr_bob", "bob@example.com")]),
      removeMember: () => {
        gone = true;
        return null;
      },
    });
    render(<TeamPage myId="usr_ada" canManage />);
    fireEvent.click(await screen.findByTestId("member-remove-usr_bob"));
    expect(screen.getByTestId("member-remove-dialog").textContent).toContain("bob@example.com");
    fireEvent.click(screen.getByTestId("member-remove-confirm"));
    await waitFor(() => expect(screen.queryByTestId("member-row-usr_bob")).toBeNull());
    expect(confirm).not.toHaveBeenCalled();
    expect(callsBut("listInvitations", "listMembers")).toEqual(['removeMember("usr_bob")']);
  });

  it("resets a lost 2FA with your own code, asking for a fresh one after confirming it's you", async () => {
    let tries = 0;
    setScript({
      ...TOTP,
      listInvitations: () => [],
      listMembers: () => [member("usr_bob", "bob@example.com", "approver", tries < 2)],
      resetMemberMfa: () => {
        tries += 1;
        if (tries === 1) throw REAUTH;
        return null;
      },
    });
    render(<TeamPage myId="usr_ada" canManage />);
    fireEvent.click(await screen.findByTestId("member-reset-mfa-usr_bob"));
    fireEvent.input(screen.getByTestId("member-reset-mfa-code"), { target: { value: "111111" } });
    fireEvent.click(screen.getByTestId("member-reset-mfa-confirm"));
    await confirmItsMe("222222");
    // The first code is not sent again (each code works once): the next one is asked for.
    await screen.findByTestId("member-reset-mfa-next");
    expect((screen.getByTestId("member-reset-mfa-code") as HTMLInputElement).value).toBe("");
    fireEvent.input(screen.getByTestId("member-reset-mfa-code"), { target: { value: "333333" } });
    fireEvent.click(screen.getByTestId("member-reset-mfa-confirm"));
    await waitFor(() => expect(screen.queryByTestId("member-reset-mfa-dialog")).toBeNull());
    expect(callsBut("listInvitations", "listMembers", "mfaStatus")).toEqual(['resetMemberMfa("usr_bob", "111111")', 'reauthenticate("222222")', 'resetMemberMfa("usr_bob", "333333")']);
    await waitFor(() => expect(calls.filter((c) => c === "listMembers").length).toBe(2));
  });
});
