// The Keys page: the revoked filter, the details (usage, addresses), rotation (overlap,
// then the new secret once, a toast when done), editing expiry and allowlist (errors on
// their fields), revoking with the safe button first, and opening on a key named by a
// recommendation. `call` is scripted (the Tauri IPC cannot run under vitest); the real
// commands are covered by the API tests and the desktop end-to-end test.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, it, vi } from "vitest";
import { calls, callsBut, commandError, resetScript, setScript } from "../testing/scripted";

vi.mock("../api", async () => ({ call: (await import("../testing/scripted")).scriptedCall }));

const { KeysPage } = await import("./KeysPage");
const { ReauthHost } = await import("../components/ReauthDialog");
const { Toasts } = await import("../components/Toasts");

afterEach(() => {
  cleanup();
  resetScript();
});

const SESSION = { server_url: "http://127.0.0.1:8200", user: { id: "usr_ada", email: "ada@example.com", display_name: null }, tenant_name: null, role: "owner", expires_at: null } as never;

function key(id: string, over: Record<string, unknown> = {}) {
  return {
    id,
    name: `bot-${id}`,
    prefix: `kha_${id}`,
    scopes: ["secrets:read:prod/*", "secrets:write:prod/db/*"],
    created_at: "2026-01-01T00:00:00Z",
    expires_at: null,
    last_used_at: null,
    last_used_ip: null,
    revoked_at: null,
    suspended_at: null,
    ip_allowlist: [] as string[],
    ...over,
  };
}

const KEYS = [key("k1"), key("k2", { revoked_at: "2026-01-03T00:00:00Z" })];

function details(id: string) {
  return {
    key: KEYS.find((k) => k.id === id) ?? key(id),
    requests_24h: 3,
    requests_7d: 41,
    refused_7d: 2,
    recent_ips: [{ ip: "203.0.113.9", last_seen_at: "2026-01-02T00:00:00Z", requests: 40 }],
  };
}

function page(extra: Record<string, (...a: unknown[]) => unknown> = {}, props: Record<string, unknown> = {}) {
  setScript({ listKeys: () => KEYS, keyDetails: (id) => details(id as string), ...extra });
  render(<Toasts />);
  render(<ReauthHost />);
  return render(<KeysPage session={SESSION} {...props} />);
}

async function openDetails(id: string) {
  fireEvent.click(await screen.findByTestId(`key-details-${id}`));
  await screen.findByTestId("key-usage");
}

describe("KeysPage filter", () => {
  it("shows active keys by default and revoked ones behind the filter; arrow keys move it", async () => {
    page();
    await screen.findByTestId("key-row-k1");
    expect(screen.queryByTestId("key-row-k2")).toBeNull();
    const active = screen.getByTestId("keys-filter-active");
    expect(active.getAttribute("aria-checked")).toBe("true");
    expect(active.textContent).toContain("1");
    fireEvent.keyDown(active, { key: "ArrowRight" });
    expect(screen.getByTestId("keys-filter-revoked").getAttribute("aria-checked")).toBe("true");
    expect(document.activeElement).toBe(screen.getByTestId("keys-filter-revoked"));
    expect(screen.queryByTestId("key-row-k1")).toBeNull();
    expect(screen.getByTestId("key-status-k2").textContent).toBe("Revoked");
    fireEvent.click(screen.getByTestId("keys-filter-all"));
    expect(screen.getByTestId("key-row-k1")).toBeTruthy();
    expect(screen.getByTestId("key-row-k2")).toBeTruthy();
  });

  it("shows the first scope and the count of the others, with one Details action per row", async () => {
    page();
    const row = await screen.findByTestId("key-row-k1");
    expect(row.textContent).toContain("secrets:read:prod/*");
    expect(row.textContent).toContain("+1");
    expect(row.textContent).not.toContain("secrets:write:prod/db/*");
    expect(row.querySelectorAll("button")).toHaveLength(1);
  });
});

describe("KeyDetailsDialog", () => {
  it("shows usage, addresses, scopes and allowlist", async () => {
    page();
    await openDetails("k1");
    expect(screen.getByTestId("key-usage-24h").textContent).toBe("3");
    expect(screen.getByTestId("key-usage-7d").textContent).toBe("41");
    expect(screen.getByTestId("key-usage-refused").textContent).toBe("2");
    expect(screen.getByTestId("key-ips").textContent).toContain("203.0.113.9");
    expect(screen.getByTestId("key-details-scopes").textContent).toContain("secrets:write:prod/db/*");
    expect(screen.getByTestId("key-details-allowlist").textContent).toBe("Any address.");
    // Not destructive: focus starts on Close, not on Revoke.
    expect(document.activeElement).toBe(screen.getByTestId("key-details-close"));
  });

  it("revokes after an in-app confirmation whose safe button has the focus", async () => {
    page({ revokeKey: () => null });
    await openDetails("k1");
    fireEvent.click(screen.getByTestId("revoke-k1"));
    const dialog = await screen.findByTestId("revoke-dialog");
    expect(document.activeElement).toBe(screen.getByTestId("keep-key"));
    expect(dialog.getAttribute("aria-describedby")).toBeTruthy();
    fireEvent.click(screen.getByTestId("confirm-revoke"));
    await waitFor(() => expect(screen.queryByTestId("revoke-dialog")).toBeNull());
    expect(screen.getByTestId("toasts").textContent).toContain('Key "bot-k1" revoked.');
    expect(calls).toContain('revokeKey("k1")');
  });
});

describe("Rotation", () => {
  it("asks the overlap, shows the new secret once, and announces it when done", async () => {
    page({
      rotateKey: () => ({ key: key("k3", { name: "bot-k1" }), secret: "kha_newsecretvalue", old_key_expires_at: "2026-01-01T00:00:00Z" }),
    });
    await openDetails("k1");
    fireEvent.click(screen.getByTestId("key-rotate"));
    await screen.findByTestId("rotate-dialog");
    // The default overlap is chosen and has the focus.
    expect((screen.getByTestId("overlap-1h") as HTMLInputElement).checked).toBe(true);
    expect(document.activeElement).toBe(screen.getByTestId("overlap-1h"));
    fireEvent.click(screen.getByTestId("overlap-0s"));
    expect(screen.getByTestId("overlap-hint").textContent).toContain("at once");
    fireEvent.click(screen.getByTestId("rotate-submit"));
    expect((await screen.findByTestId("show-once-secret")).textContent).toBe("kha_newsecretvalue");
    expect(screen.getByTestId("rotated-old-key").textContent).toContain("no longer work");
    expect(callsBut("listKeys", "keyDetails")).toEqual(['rotateKey("k1", "0s")']);
    expect(screen.getByTestId("toasts").textContent).not.toContain("rotated");
    fireEvent.click(screen.getByTestId("show-once-confirm"));
    fireEvent.click(screen.getByTestId("show-once-close"));
    await waitFor(() => expect(screen.queryByTestId("show-once-dialog")).toBeNull());
    expect(screen.getByTestId("toasts").textContent).toContain('Key "bot-k1" rotated. The old key and its tokens no longer work.');
    expect(document.body.textContent).not.toContain("kha_newsecretvalue");
  });

  it("goes through the one Confirm-it's-you step when the sudo window lapsed", async () => {
    let tries = 0;
    page({
      rotateKey: () => {
        tries += 1;
        if (tries === 1) throw commandError("reauth_required", "Confirm it is you.");
        return { key: key("k3"), secret: "kha_other", old_key_expires_at: "2030-01-01T00:00:00Z" };
      },
      mfaStatus: () => ({ totp_enabled: false, backup_codes_remaining: 0, enrolled_at: null }),
      reauthenticate: () => null,
    });
    await openDetails("k1");
    fireEvent.click(screen.getByTestId("key-rotate"));
    fireEvent.click(await screen.findByTestId("rotate-submit"));
    await screen.findByTestId("reauth-dialog");
    fireEvent.input(screen.getByTestId("reauth-proof"), { target: { value: "my password" } });
    await waitFor(() => expect((screen.getByTestId("reauth-submit") as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(screen.getByTestId("reauth-submit"));
    expect((await screen.findByTestId("show-once-secret")).textContent).toBe("kha_other");
    expect(screen.getByTestId("rotated-old-key").textContent).toContain("keeps working until");
    expect(callsBut("listKeys", "keyDetails", "mfaStatus", "reauthenticate")).toEqual(['rotateKey("k1", "1h")', 'rotateKey("k1", "1h")']);
  });
});

describe("EditKeyDialog", () => {
  it("refuses a past expiry on its field without asking the server", async () => {
    page();
    await openDetails("k1");
    fireEvent.click(screen.getByTestId("key-edit"));
    const input = (await screen.findByTestId("edit-key-expiry")) as HTMLInputElement;
    expect(document.activeElement).toBe(input);
    fireEvent.input(input, { target: { value: "2001-01-01" } });
    fireEvent.click(screen.getByTestId("edit-key-submit"));
    await waitFor(() => expect(input.getAttribute("aria-invalid")).toBe("true"));
    expect(input.getAttribute("aria-describedby")).toBe("edit-key-expiry-hint");
    expect(screen.getByTestId("edit-key-expiry-hint").textContent).toContain("future");
    expect(callsBut("listKeys", "keyDetails")).toEqual([]);
  });

  it("ties the server's refusal to the allowlist field, then saves", async () => {
    let tries = 0;
    page({
      updateKey: (_id, changes) => {
        tries += 1;
        const c = changes as { ip_allowlist: string[] };
        if (c.ip_allowlist.includes("nope")) throw { ...(commandError("invalid_request", '"nope" is not an IP address or CIDR such as 10.0.0.0/8.') as object), field: "ip_allowlist" };
        return key("k1", { ip_allowlist: c.ip_allowlist });
      },
    });
    await openDetails("k1");
    fireEvent.click(screen.getByTestId("key-edit"));
    const ips = (await screen.findByTestId("edit-key-ips")) as HTMLInputElement;
    fireEvent.input(ips, { target: { value: "10.0.0.0/8, nope" } });
    fireEvent.click(screen.getByTestId("edit-key-submit"));
    await waitFor(() => expect(ips.getAttribute("aria-invalid")).toBe("true"));
    expect(screen.getByTestId("edit-key-ips-hint").textContent).toContain("nope");
    expect(screen.getByTestId("edit-key-expiry").getAttribute("aria-invalid")).toBeNull();
    fireEvent.input(ips, { target: { value: "10.0.0.0/8" } });
    fireEvent.click(screen.getByTestId("edit-expiry-never"));
    fireEvent.click(screen.getByTestId("edit-key-submit"));
    await waitFor(() => expect(screen.queryByTestId("edit-key-dialog")).toBeNull());
    expect(tries).toBe(2);
    expect(callsBut("listKeys", "keyDetails").at(-1)).toBe('updateKey("k1", {"expires_at":null,"ip_allowlist":["10.0.0.0/8"]})');
    expect(screen.getByTestId("toasts").textContent).toContain('Key "bot-k1" updated.');
    // Back on the key's details.
    await screen.findByTestId("key-details-dialog");
  });
});

describe("Opening on a key (Security Vault recommendations)", () => {
  it("opens the named dialog on the key, marks its row, and says it is done", async () => {
    const done = vi.fn();
    page({}, { focus: { id: "k1", action: "rotate" }, onFocusDone: done });
    await screen.findByTestId("rotate-dialog");
    expect(screen.getByTestId("key-row-k1").className).toContain("row-selected");
    expect(done).toHaveBeenCalledTimes(1);
  });

  it("shows a revoked key under its filter, in its details", async () => {
    page({}, { focus: { id: "k2", action: "rotate" }, onFocusDone: () => undefined });
    await screen.findByTestId("key-details-dialog");
    expect(screen.queryByTestId("rotate-dialog")).toBeNull();
    expect(screen.getByTestId("keys-filter-revoked").getAttribute("aria-checked")).toBe("true");
    expect(screen.getByTestId("key-row-k2")).toBeTruthy();
  });
});
