import { describe, expect, it } from "vitest";
import type { ApprovalView } from "../bindings";
import { applyFeedEvent, pendingCount, waitingOn } from "./approvals";

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
      request("c", { approvals: [{ user: "Bob", user_id: "usr_bob", at: "2026-01-01T00:01:00Z" }] }),
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
    const vote = { user: "Bob", user_id: "usr_bob", at: "2026-01-01T00:01:00Z" };
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
