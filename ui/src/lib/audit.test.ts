import { describe, expect, it } from "vitest";
import type { AuditEventView } from "../bindings";
import { actorChoices, actorName, dayRange, matchesText, rangeError } from "./audit";

const ev: AuditEventView = {
  id: "1",
  at: "2026-12-04T10:00:00Z",
  actor_type: "agent",
  actor_id: "key_abc",
  action: "secret.read",
  target: "secret:prod/db",
  outcome: "success",
  ip: "203.0.113.9",
  user_agent: "kh/1",
  detail: '{"approval_id":"apr_1"}',
  severity: "info",
};

describe("audit filters", () => {
  it("names actors: you, people and keys by name, else kind and id", () => {
    const names = new Map([["key_abc", "deploy-bot (agent key kha_ab)"]]);
    expect(actorName(ev, names, "usr_me")).toBe("deploy-bot (agent key kha_ab)");
    expect(actorName({ ...ev, actor_id: "usr_me" }, names, "usr_me")).toBe("You");
    expect(actorName({ actor_type: "system", actor_id: "" }, names, null)).toBe("system");
  });

  it("lists people then keys, each by name", () => {
    const choices = actorChoices(
      [
        { id: "u2", email: "zed@example.com", display_name: null, role: "admin", mfa_enabled: true, created_at: "" },
        { id: "u1", email: "ada@example.com", display_name: "Ada", role: "owner", mfa_enabled: true, created_at: "" },
      ],
      [{ id: "k1", name: "bot", prefix: "kha_1", scopes: [], created_at: "", expires_at: null, last_used_at: null, last_used_ip: null, revoked_at: null, suspended_at: null, ip_allowlist: [] }],
    );
    expect(choices.map((c) => c.id)).toEqual(["u1", "u2", "k1"]);
    expect(choices[2].label).toBe("bot (agent key kha_1)");
  });

  it("turns days into a half-open range that includes the last day", () => {
    const r = dayRange("2026-12-01", "2026-12-04");
    expect(new Date(r.since ?? "").getDate()).toBe(1);
    expect(new Date(r.until ?? "").getDate()).toBe(5);
    expect(dayRange("", "")).toEqual({ since: null, until: null });
    expect(rangeError("2026-12-04", "2026-12-01")).toMatch(/before/u);
    expect(rangeError("2026-12-01", "2026-12-01")).toBeNull();
  });

  it("searches what is shown and the details", () => {
    expect(matchesText(ev, "deploy-bot", "DEPLOY")).toBe(true);
    expect(matchesText(ev, "deploy-bot", "apr_1")).toBe(true);
    expect(matchesText(ev, "deploy-bot", "nothing like it")).toBe(false);
    expect(matchesText(ev, "deploy-bot", "  ")).toBe(true);
  });
});
