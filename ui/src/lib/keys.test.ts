import { describe, expect, it } from "vitest";
import type { AgentKeyView } from "../bindings";
import { expiryInDays, expiryText, filterKeys, filterShowing, focusForRecommendation, keyFileName, keyStatus, parseAllowlist, parseExpiry, scopeSummary } from "./keys";

function key(id: string, over: Partial<AgentKeyView> = {}): AgentKeyView {
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
    ip_allowlist: [],
    ...over,
  };
}

const NOW = new Date(2026, 5, 15, 12, 0, 0);

describe("keyStatus", () => {
  it("gives one status: revoked, then suspended, then expired, else active", () => {
    expect(keyStatus(key("a", { revoked_at: "2026-01-02T00:00:00Z", suspended_at: "2026-01-01T00:00:00Z" }), NOW).word).toBe("Revoked");
    expect(keyStatus(key("a", { suspended_at: "2026-01-01T00:00:00Z", expires_at: "2026-01-02T00:00:00Z" }), NOW).word).toBe("Suspended");
    expect(keyStatus(key("a", { expires_at: "2026-01-02T00:00:00Z" }), NOW)).toEqual({ word: "Expired", tone: "muted" });
    expect(keyStatus(key("a", { expires_at: "2027-01-02T00:00:00Z" }), NOW)).toEqual({ word: "Active", tone: "good" });
  });
});

describe("filterKeys", () => {
  const keys = [key("live"), key("gone", { revoked_at: "2026-01-02T00:00:00Z" }), key("late", { expires_at: "2026-01-02T00:00:00Z" })];
  it("hides revoked keys unless asked; expired keys stay with the active ones", () => {
    expect(filterKeys(keys, "active").map((k) => k.id)).toEqual(["live", "late"]);
    expect(filterKeys(keys, "revoked").map((k) => k.id)).toEqual(["gone"]);
    expect(filterKeys(keys, "all")).toHaveLength(3);
  });
  it("switches to the filter that shows a focused key, and keeps one that already does", () => {
    expect(filterShowing(keys[1]!, "active")).toBe("revoked");
    expect(filterShowing(keys[1]!, "all")).toBe("all");
    expect(filterShowing(keys[0]!, "revoked")).toBe("active");
    expect(filterShowing(keys[0]!, "active")).toBe("active");
  });
});

describe("scopeSummary", () => {
  it("shows the first scope and how many more", () => {
    expect(scopeSummary(["a", "b", "c"])).toEqual({ first: "a", more: 2 });
    expect(scopeSummary(["a"])).toEqual({ first: "a", more: 0 });
    expect(scopeSummary([])).toEqual({ first: "", more: 0 });
  });
});

describe("parseExpiry", () => {
  it("reads a day as its end, local time, and a day with a time as that minute", () => {
    const day = parseExpiry("2026-07-01", null, NOW);
    expect(day).toEqual({ ok: true, iso: new Date(2026, 6, 1, 23, 59, 59).toISOString() });
    const minute = parseExpiry(" 2026-07-01 08:30 ", null, NOW);
    expect(minute).toEqual({ ok: true, iso: new Date(2026, 6, 1, 8, 30).toISOString() });
  });
  it("reads empty as never", () => {
    expect(parseExpiry("  ", "2026-07-01T00:00:00Z", NOW)).toEqual({ ok: true, iso: null });
  });
  it("keeps the original instant when the text was left as shown", () => {
    const original = "2026-08-09T10:11:12.345Z";
    expect(parseExpiry(expiryText(original), original, NOW)).toEqual({ ok: true, iso: original });
  });
  it("refuses the past, impossible dates and other shapes, saying why", () => {
    for (const [text, word] of [
      ["2026-06-15 11:59", "future"],
      ["2026-02-30", "does not exist"],
      ["2026-13-01", "does not exist"],
      ["1/7/2026", "YYYY-MM-DD"],
      ["tomorrow", "YYYY-MM-DD"],
    ] as const) {
      const r = parseExpiry(text, null, NOW);
      expect(r.ok, text).toBe(false);
      if (!r.ok) expect(r.problem).toContain(word);
    }
  });
  it("counts days from now for the quick buttons", () => {
    const r = parseExpiry(expiryInDays(30, NOW), null, NOW);
    expect(r.ok && r.iso ? new Date(r.iso).getDate() : 0).toBe(new Date(2026, 6, 15).getDate());
  });
});

describe("parseAllowlist", () => {
  it("splits on commas, spaces and lines", () => {
    expect(parseAllowlist(" 10.0.0.0/8,203.0.113.7\n2001:db8::/32 , ")).toEqual(["10.0.0.0/8", "203.0.113.7", "2001:db8::/32"]);
    expect(parseAllowlist("")).toEqual([]);
  });
});

describe("focusForRecommendation", () => {
  it("opens the fix for the key a recommendation names", () => {
    expect(focusForRecommendation("key_old", "k1")).toEqual({ id: "k1", action: "rotate" });
    expect(focusForRecommendation("key_without_expiry", "k1")).toEqual({ id: "k1", action: "edit" });
    expect(focusForRecommendation("key_unused", "k1")).toEqual({ id: "k1", action: "details" });
    expect(focusForRecommendation("key_suspended", "k1")).toEqual({ id: "k1", action: "details" });
    expect(focusForRecommendation("key_broad_scope", "k1")).toEqual({ id: "k1", action: "details" });
  });
  it("names no key for other recommendations", () => {
    expect(focusForRecommendation("mfa", "mfa")).toBeNull();
    expect(focusForRecommendation("key_old", null)).toBeNull();
    expect(focusForRecommendation("key_old", "keys")).toBeNull();
  });
});

describe("keyFileName", () => {
  it("keeps the name's safe characters", () => {
    expect(keyFileName("deploy bot/1")).toBe("keyhold-key-deploy-bot-1.txt");
    expect(keyFileName("")).toBe("keyhold-key-agent.txt");
  });
});
