// The Security Vault's detection parts: the alerts panel (count, list, acknowledge), the
// live feed that reloads it as alerts arrive, the blocks list (lift through the sudo
// prompt) and suspended keys on the Keys page (marked, reinstated). The Tauri IPC cannot
// run under vitest: `call` is scripted and the feed's Channel is a stand-in the test
// drives; the real commands and feed are covered by the desktop end-to-end test.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, it, vi } from "vitest";
import { calls, callsBut, resetScript, setScript } from "../testing/scripted";

vi.mock("../api", async () => ({ call: (await import("../testing/scripted")).scriptedCall }));

/** The channels the feed opened; the test sends the server's events through them. */
const channels: { onmessage: (ev: unknown) => void }[] = [];
vi.mock("@tauri-apps/api/core", () => ({
  Channel: class {
    onmessage: (ev: unknown) => void = () => undefined;
    constructor() {
      channels.push(this);
    }
  },
}));

const { AlertsPanel, subjectLabel } = await import("./AlertsPanel");
const { BlocksPanel } = await import("./BlocksPanel");
const { KeysPage } = await import("./KeysPage");
const { ReauthHost } = await import("../components/ReauthDialog");
const { Toasts } = await import("../components/Toasts");
const { useAlertFeed } = await import("../lib/useAlertFeed");

const REAUTH = { kind: "reauth_required", message: "Confirm it is you.", details: [], retry_after_secs: null };

function alert(id: string, over: Record<string, unknown> = {}) {
  return {
    id,
    rule: "outside_allowlist",
    severity: "critical",
    message: 'Key "deploy" was used from 203.0.113.5, outside its allowlist.',
    subject: "key:key_1",
    response: "suspended_key",
    raised_at: new Date().toISOString(),
    acknowledged_at: null,
    acknowledged_by: null,
    ...over,
  };
}

function session(role: string) {
  return { server_url: "http://127.0.0.1:8200", user: { id: "usr_ada", email: "ada@example.com", display_name: null }, tenant_name: null, role, expires_at: null };
}

function key(id: string, over: Record<string, unknown> = {}) {
  return {
    id,
    name: "deploy",
    prefix: "kha_1234",
    scopes: ["secrets:read:prod/*"],
    created_at: "2026-01-01T00:00:00Z",
    expires_at: null,
    last_used_at: null,
    last_used_ip: null,
    revoked_at: null,
    suspended_at: null,
    ip_allowlist: ["10.0.0.0/8"],
    ...over,
  };
}

const SESSIONS: Record<string, ReturnType<typeof session>> = { owner: session("owner"), admin: session("admin"), member: session("member") };

/** The Vault's alerts part as the app wires it: the feed hook feeding the panel. */
function LivePanel(props: { role: string }) {
  // The app keeps one session object while signed in; so does the test.
  const feed = useAlertFeed(SESSIONS[props.role] as never, 0);
  return <AlertsPanel feed={feed} onNavigate={() => undefined} />;
}

afterEach(() => {
  cleanup();
  resetScript();
  channels.length = 0;
});

describe("AlertsPanel", () => {
  it("shows an alert arriving on the live feed, then acknowledges it", async () => {
    let open = [] as ReturnType<typeof alert>[];
    setScript({
      listAlerts: () => open,
      watchAlerts: () => null,
      acknowledgeAlert: (id) => {
        open = open.filter((a) => a.id !== id);
        return alert(String(id), { acknowledged_at: new Date().toISOString() });
      },
    });
    render(<Toasts />);
    render(<LivePanel role="owner" />);
    await screen.findByTestId("alerts-empty");
    expect(screen.getByTestId("alerts-count").textContent).toBe("0");
    await waitFor(() => expect(channels.length).toBe(1));

    // The server raises one: the feed says so and the panel reloads, no page reload.
    open = [alert("alr_1")];
    channels[0].onmessage({ kind: "alert.raised", severity: "critical", message: "m" });
    const row = await screen.findByTestId("alert-row-alr_1");
    expect(screen.getByTestId("alerts-count").textContent).toBe("1");
    expect(row.textContent).toContain("Key used outside its IP allowlist");
    expect(row.textContent).toContain("Critical");
    expect(row.textContent).toContain("203.0.113.5");
    expect(row.textContent).toContain("Agent key key_1");
    expect(screen.getByTestId("alert-response-alr_1").textContent).toBe("Key suspended");

    fireEvent.click(screen.getByTestId("ack-alert-alr_1"));
    await screen.findByTestId("alerts-empty");
    expect(screen.getByTestId("toasts").textContent).toContain("Alert acknowledged.");
    expect(calls).toContain('acknowledgeAlert("alr_1")');
  });

  it("neither lists nor follows alerts for a member (the server would answer 403)", async () => {
    setScript({});
    render(<LivePanel role="member" />);
    await screen.findByText("Loading alerts…");
    expect(calls).toEqual([]);
    expect(channels.length).toBe(0);
  });

  it("says why the list could not be loaded", async () => {
    setScript({
      listAlerts: () => {
        throw { kind: "forbidden", message: "Only owners and admins see alerts.", details: [], retry_after_secs: null };
      },
      watchAlerts: () => null,
    });
    render(<LivePanel role="admin" />);
    expect((await screen.findByTestId("alerts-error")).textContent).toContain("Only owners and admins");
  });

  it("names subjects in words", () => {
    expect(subjectLabel("address:203.0.113.5")).toBe("Address 203.0.113.5");
    expect(subjectLabel("user:usr_1")).toBe("Account usr_1");
    expect(subjectLabel(null)).toBeNull();
    expect(subjectLabel("other:x")).toBe("other:x");
  });
});

describe("BlocksPanel", () => {
  it("lists blocks and lifts one through the sudo prompt", async () => {
    let lifts = 0;
    setScript({
      listBlocks: () =>
        lifts < 2
          ? [{ id: "blk_1", address: "198.51.100.7", rule: "signin_failures_address", created_at: "2026-01-01T00:00:00Z", expires_at: "2026-01-01T01:00:00Z" }]
          : [],
      liftBlock: () => {
        lifts += 1;
        if (lifts === 1) throw REAUTH;
        return null;
      },
      mfaStatus: () => ({ totp_enabled: false, backup_codes_remaining: 0, enrolled_at: null }),
      reauthenticate: () => null,
    });
    render(<ReauthHost />);
    render(<Toasts />);
    render(<BlocksPanel changes={0} />);
    const row = await screen.findByTestId("block-row-blk_1");
    expect(row.textContent).toContain("198.51.100.7");
    expect(row.textContent).toContain("Failed sign-ins from one address");
    fireEvent.click(screen.getByTestId("lift-block-blk_1"));
    await screen.findByTestId("reauth-dialog");
    fireEvent.input(screen.getByTestId("reauth-proof"), { target: { value: "my password" } });
    await waitFor(() => expect((screen.getByTestId("reauth-submit") as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(screen.getByTestId("reauth-submit"));
    await screen.findByTestId("blocks-empty");
    expect(screen.getByTestId("toasts").textContent).toContain("Block on 198.51.100.7 lifted.");
    expect(callsBut("mfaStatus", "reauthenticate")).toEqual(["listBlocks", 'liftBlock("blk_1")', 'liftBlock("blk_1")', "listBlocks"]);
  });
});

describe("KeysPage", () => {
  it("marks a suspended key and reinstates it from its details", async () => {
    let suspended = true;
    const usage = (id: string) => ({ key: key(id, { suspended_at: suspended ? "2026-01-02T00:00:00Z" : null }), requests_24h: 0, requests_7d: 0, refused_7d: 0, recent_ips: [] });
    setScript({
      listKeys: () => [key("key_1", { suspended_at: suspended ? "2026-01-02T00:00:00Z" : null }), key("key_2", { name: "old", revoked_at: "2026-01-02T00:00:00Z", suspended_at: "2026-01-01T00:00:00Z" })],
      keyDetails: (id) => usage(id as string),
      reinstateKey: () => {
        suspended = false;
        return null;
      },
    });
    render(<Toasts />);
    render(<KeysPage session={session("owner") as never} />);
    expect((await screen.findByTestId("key-status-key_1")).textContent).toBe("Suspended");
    // Revoked keys are behind the filter; revoked wins over suspended there.
    expect(screen.queryByTestId("key-row-key_2")).toBeNull();
    fireEvent.click(screen.getByTestId("keys-filter-revoked"));
    expect((await screen.findByTestId("key-status-key_2")).textContent).toBe("Revoked");
    fireEvent.click(screen.getByTestId("key-details-key_2"));
    await screen.findByTestId("key-details-dialog");
    // A revoked key has nothing to reinstate, revoke or rotate.
    expect(screen.queryByTestId("reinstate-key_2")).toBeNull();
    expect(screen.queryByTestId("revoke-key_2")).toBeNull();
    expect(screen.queryByTestId("key-rotate")).toBeNull();
    fireEvent.click(screen.getByTestId("key-details-close"));
    fireEvent.click(screen.getByTestId("keys-filter-active"));

    fireEvent.click(await screen.findByTestId("key-details-key_1"));
    expect(await screen.findByTestId("revoke-key_1")).toBeTruthy();
    fireEvent.click(await screen.findByTestId("reinstate-key_1"));
    await waitFor(() => expect(screen.getByTestId("key-status-key_1").textContent).toBe("Active"));
    await waitFor(() => expect(screen.queryByTestId("reinstate-key_1")).toBeNull());
    expect(screen.getByTestId("toasts").textContent).toContain('Key "deploy" reinstated.');
    expect(calls).toContain('reinstateKey("key_1")');
  });
});
