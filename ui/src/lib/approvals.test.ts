import { describe, expect, it } from "vitest";
import type { ApprovalView } from "../bindings";
import { applyFeedEvent, durationWords, grantWords, pendingCount, waitingOn } from "./approvals";

function request(id: string, over: Partial<ApprovalView> = {}): ApprovalView {
  return {
    id,
    path: "prod/db/password",
    tier: "critical",
    key_id: "key_1",
    key_name: "deploy-bot",
    owner: "ada@example.com",
    owner_id: "usr_ada",
    operation: "read",
    to_tier: null,
    eligible_approvers: 2,
    reason: null,
    requested_at: "2026-01-01T00:00:00Z",
    expires_at: "2026-01-01T01:00:00Z",
    approvals: [],
    required_approvals: 2,
    delay_secs: 0,
    grant_ttl_secs: 3600,
    status: "pending",
    available_at: null,
    ...over,
  };
}

describe("waitingOn", () => {
  it("counts requests others' agents made that I have not voted on", () => {
    const list = [
      request("a"),
      request("b", { owner_id: "usr_bob" }),
      request("c", { approvals: [{ user: "Bob", user_id: "usr_bob", at: "2026-01-01T00:01:00Z", comment: null }] }),
      request("d", { status: "approved" }),
    ];
    expect(waitingOn(list[0], "usr_bob")).toBe(true);
    expect(waitingOn(list[1], "usr_bob")).toBe(false);
    expect(waitingOn(list[2], "usr_bob")).toBe(false);
    expect(waitingOn(list[2], "usr_cy")).toBe(true);
    expect(pendingCount(list, "usr_bob")).toBe(1);
    expect(pendingCount(list, "usr_cy")).toBe(3);
  });
});

describe("a person's own request", () => {
  it("waits on everyone but the person who asked", () => {
    const mine = request("p", { key_id: null, key_name: null, owner: "Ada Lovelace", owner_id: "usr_ada", operation: "delete" });
    expect(waitingOn(mine, "usr_ada")).toBe(false);
    expect(waitingOn(mine, "usr_bob")).toBe(true);
  });
});

describe("applyFeedEvent", () => {
  it("puts a new request first", () => {
    const next = applyFeedEvent([request("a")], { kind: "requested", approval: request("b") });
    expect(next.map((a) => a.id)).toEqual(["b", "a"]);
  });
  it("updates a request in place when a vote arrives", () => {
    const vote = { user: "Bob", user_id: "usr_bob", at: "2026-01-01T00:01:00Z", comment: null };
    const next = applyFeedEvent([request("a"), request("b")], { kind: "approved", approval: request("b", { approvals: [vote] }) });
    expect(next.map((a) => a.id)).toEqual(["a", "b"]);
    expect(next[1].approvals).toEqual([vote]);
  });
  it("drops a request that is decided, expired or used", () => {
    for (const status of ["approved", "denied", "expired"]) {
      const next = applyFeedEvent([request("a"), request("b")], { kind: "approved", approval: request("a", { status }) });
      expect(next.map((a) => a.id)).toEqual(["b"]);
    }
  });
  it("leaves the list alone for connection events", () => {
    const list = [request("a")];
    expect(applyFeedEvent(list, { kind: "connected", approval: null })).toBe(list);
    expect(applyFeedEvent(list, { kind: "disconnected", approval: null })).toBe(list);
  });
});

describe("decision context", () => {
  it("says a length in words, at most two units", () => {
    expect(durationWords(45)).toBe("45 seconds");
    expect(durationWords(60)).toBe("1 minute");
    expect(durationWords(600)).toBe("10 minutes");
    expect(durationWords(5400)).toBe("1 hour 30 minutes");
    expect(durationWords(90061)).toBe("1 day 1 hour");
  });

  it("says what a yes opens and for how long", () => {
    const a = { operation: "read", to_tier: null, path: "prod/db", grant_ttl_secs: 3600, delay_secs: 600 };
    expect(grantWords(a, "read")).toBe("Once approved, one read of prod/db opens for 1 hour, after a delay of 10 minutes; it is used up by that one call.");
    expect(grantWords({ ...a, delay_secs: 0 }, "read")).toBe("Once approved, one read of prod/db opens for 1 hour; it is used up by that one call.");
  });
});
