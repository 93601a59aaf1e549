// The Secrets page's logic: the sudo prompt, the approval progress and the value shown
// once. The Tauri IPC cannot run under vitest, so `call` is replaced by a scripted
// stand-in; the real commands are covered by src-tauri/tests/secrets.rs and the desktop
// end-to-end test.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, it, vi } from "vitest";

const calls: string[] = [];
let script: Record<string, (...args: unknown[]) => unknown> = {};

vi.mock("../api", async () => ({
  call: async (run: (c: unknown) => Promise<unknown>, opts?: { reauth?: "retry" | "manual" }) => (await import("../lib/reauth")).withReauth(async () => {
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
  }, opts),
}));

const { ReauthHost } = await import("../components/ReauthDialog");
const { SecretReader } = await import("./SecretsPage");
const { WriteDialog } = await import("./SecretDialogs");

const REAUTH = { kind: "reauth_required", message: "Confirm it is you.", details: [], retry_after_secs: null };
const VALUE = "sk_live_not_a_real_key";

afterEach(() => {
  cleanup();
  calls.length = 0;
  script = {};
});

function approval(status: string, votes: string[]) {
  return {
    id: "apr_1",
    path: "prod/stripe/key",
    tier: "critical",
    key_id: null,
    key_name: null,
    owner: "Ada Lovelace",
    owner_id: "usr_ada",
    operation: "read",
    to_tier: null,
    eligible_approvers: 2,
    reason: null,
    requested_at: "2026-01-01T00:00:00Z",
    expires_at: "2026-01-02T00:00:00Z",
    approvals: votes.map((user) => ({ user, user_id: user, at: "2026-01-01T00:01:00Z", comment: null })),
    required_approvals: 2,
    delay_secs: 0,
    grant_ttl_secs: 3600,
    status,
    available_at: status === "approved" ? "2000-01-01T00:00:00Z" : null,
  };
}

describe("SecretReader", () => {
  it("shows a standard secret at once", async () => {
    script = {
      readSecret: () => ({ outcome: "opened", path: "dev/db/url", version: 1, kind: "url", tier: "standard" }),
      revealSecret: () => "postgres://localhost/dev",
      forgetSecret: () => null,
    };
    render(<SecretReader path="dev/db/url" tier="standard" />);
    fireEvent.click(screen.getByTestId("read-secret"));
    await waitFor(() => expect(screen.getByTestId("secret-value").textContent).toBe("postgres://localhost/dev"));
  });

  it("asks for approval, follows it, then shows the value once: masked until Reveal", async () => {
    let reads = 0;
    script = {
      readSecret: () => {
        reads += 1;
        if (reads === 1) {
          return {
            outcome: "approval_required",
            approval: { approval_id: "apr_1", required_approvals: 2, eligible_approvers: 1, status: "pending", operation: "read", available_at: null },
          };
        }
        return { outcome: "opened", path: "prod/stripe/key", version: 3, kind: "api_key", tier: "critical" };
      },
      approvalStatus: () => approval("pending", ["Bob Babbage"]),
      revealSecret: () => VALUE,
      copySecret: () => null,
      forgetSecret: () => null,
    };
    const { unmount } = render(<SecretReader path="prod/stripe/key" tier="critical" />);
    fireEvent.click(screen.getByTestId("read-secret"));
    // The gate's answer first: the team is too small, and it says so.
    await screen.findByTestId("approval-progress");
    await waitFor(() => expect(screen.getByTestId("approval-progress-count").textContent).toContain("1 of 2 approvals (Bob Babbage)"));
    expect(screen.getByTestId("approval-progress-title").textContent).toContain("Approval requested to read");
    // The polled view says two people may approve now: no warning.
    expect(screen.queryByTestId("too-few-approvers")).toBeNull();

    // Granted (the next poll): the read runs by itself, and the value stays masked.
    script.approvalStatus = () => approval("approved", ["Bob Babbage", "Carol Cray"]);
    await waitFor(() => expect(screen.getByTestId("secret-value").dataset.masked).toBe("true"), { timeout: 5000 });
    expect(document.body.textContent).not.toContain(VALUE);
    fireEvent.click(screen.getByTestId("reveal-secret"));
    await waitFor(() => expect(screen.getByTestId("secret-value").textContent).toBe(VALUE));
    fireEvent.click(screen.getByTestId("copy-secret"));
    await screen.findByTestId("copy-done");
    expect(calls).toContain('copySecret("prod/stripe/key")');

    // Leaving the secret wipes the value in Rust too.
    unmount();
    await waitFor(() => expect(calls).toContain("forgetSecret"));
  });

  it("says when the team is too small, with an invitation", async () => {
    script = {
      readSecret: () => ({
        outcome: "approval_required",
        approval: { approval_id: "apr_2", required_approvals: 2, eligible_approvers: 0, status: "pending", operation: "read", available_at: null },
      }),
      approvalStatus: () => ({ ...approval("pending", []), id: "apr_2", eligible_approvers: 0 }),
      mfaStatus: () => ({ totp_enabled: false, backup_codes_remaining: 0, enrolled_at: null }),
      inviteMember: (() => {
        let n = 0;
        return (email: unknown, role: unknown) => {
          n += 1;
          if (n === 1) throw REAUTH;
          return { id: "inv_1", email, role, expires_at: "2026-01-08T00:00:00Z" };
        };
      })(),
      reauthenticate: () => null,
      forgetSecret: () => null,
    };
    render(<ReauthHost />);
    render(<SecretReader path="prod/stripe/key" tier="critical" />);
    fireEvent.click(screen.getByTestId("read-secret"));
    await waitFor(() => expect(screen.getByTestId("too-few-approvers-text").textContent).toBe("This needs 2 approvers; your team has 0."));
    fireEvent.click(screen.getByTestId("invite-from-approval"));
    fireEvent.input(await screen.findByTestId("invite-email"), { target: { value: "bob@example.com" } });
    fireEvent.click(screen.getByTestId("invite-submit"));
    // The sudo window lapsed: the password (2FA is off), then the invitation again.
    fireEvent.input(await screen.findByTestId("reauth-proof"), { target: { value: "my long passphrase" } });
    await waitFor(() => expect((screen.getByTestId("reauth-submit") as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(screen.getByTestId("reauth-submit"));
    await screen.findByTestId("invite-sent");
    expect(calls.filter((c) => c.startsWith("inviteMember") || c.startsWith("reauthenticate"))).toEqual([
      'inviteMember("bob@example.com", "approver")',
      'reauthenticate("my long passphrase")',
      'inviteMember("bob@example.com", "approver")',
    ]);
  });
});

describe("WriteDialog", () => {
  it("asks to confirm it's you when the sudo window lapsed, then writes", async () => {
    let writes = 0;
    const written: string[] = [];
    script = {
      writeSecret: () => {
        writes += 1;
        if (writes === 1) throw REAUTH;
        return { outcome: "written", written: { path: "prod/stripe/key", version: 2, tier: "critical", kind: "api_key", updated_at: "2026-01-01T00:00:00Z" } };
      },
      mfaStatus: () => ({ totp_enabled: true, backup_codes_remaining: 10, enrolled_at: null }),
      reauthenticate: () => null,
    };
    const details = { path: "prod/stripe/key", kind: "api_key", tier: "critical", current_version: 1, created_at: "", updated_at: "", versions: [] };
    render(<ReauthHost />);
    render(<WriteDialog mode="rotate" details={details} folder="" onClose={() => undefined} onWritten={(p) => written.push(p)} />);
    fireEvent.input(screen.getByTestId("secret-value-input"), { target: { value: VALUE } });
    fireEvent.click(screen.getByTestId("write-secret-submit"));
    fireEvent.input(await screen.findByTestId("reauth-proof"), { target: { value: "123 456" } });
    await waitFor(() => expect((screen.getByTestId("reauth-submit") as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(screen.getByTestId("reauth-submit"));
    await waitFor(() => expect(written).toEqual(["prod/stripe/key"]));
    expect(calls.filter((c) => c.startsWith("writeSecret") || c.startsWith("reauthenticate"))).toEqual([
      `writeSecret(${JSON.stringify({ path: "prod/stripe/key", value: VALUE, kind: null, tier: null })})`,
      'reauthenticate("123456")',
      `writeSecret(${JSON.stringify({ path: "prod/stripe/key", value: VALUE, kind: null, tier: null })})`,
    ]);
  });
});
