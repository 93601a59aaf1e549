import { describe, expect, it } from "vitest";
import type { ApprovalNeeded, ApprovalView } from "../bindings";
import { operationWords, phase, progressOf, tierRank, tooFewApprovers, typeWord } from "./secrets";

describe("tooFewApprovers", () => {
  it("says so when the team cannot reach the quorum", () => {
    expect(tooFewApprovers(2, 1)).toBe("This needs 2 approvers; your team has 1.");
    expect(tooFewApprovers(2, 0)).toBe("This needs 2 approvers; your team has 0.");
    expect(tooFewApprovers(1, 0)).toBe("This needs 1 approver; your team has 0.");
  });
  it("stays quiet when enough people may approve, or the server does not say", () => {
    expect(tooFewApprovers(2, 2)).toBeNull();
    expect(tooFewApprovers(2, 5)).toBeNull();
    expect(tooFewApprovers(2, null)).toBeNull();
    expect(tooFewApprovers(2, undefined)).toBeNull();
  });
});

describe("operationWords", () => {
  it("names each operation", () => {
    expect(operationWords("read")).toBe("read");
    expect(operationWords("delete")).toBe("delete");
    expect(operationWords("lower_tier", "standard")).toBe("lower tier to standard");
    expect(operationWords("lower_tier")).toBe("lower tier");
    expect(operationWords("agent_write")).toBe("agent write");
    expect(operationWords(null)).toBe("read");
  });
});

describe("phase", () => {
  const now = new Date("2026-01-01T12:00:00Z");
  it("splits approved into the critical delay and ready", () => {
    expect(phase("approved", "2026-01-01T12:10:00Z", now)).toBe("delay");
    expect(phase("approved", "2026-01-01T11:59:00Z", now)).toBe("ready");
    expect(phase("approved", null, now)).toBe("ready");
  });
  it("keeps the other statuses", () => {
    expect(phase("pending", null, now)).toBe("pending");
    expect(phase("denied", null, now)).toBe("denied");
    expect(phase("expired", null, now)).toBe("expired");
    expect(phase("used", null, now)).toBe("used");
  });
});

describe("progressOf", () => {
  const needed: ApprovalNeeded = {
    approval_id: "apr_1",
    required_approvals: 2,
    eligible_approvers: 1,
    status: "pending",
    operation: "read",
    available_at: null,
  };
  it("starts from the gate's answer", () => {
    expect(progressOf(needed, null)).toMatchObject({ id: "apr_1", votes: 0, required: 2, eligible: 1, status: "pending" });
  });
  it("follows the polled request", () => {
    const view = {
      id: "apr_1",
      approvals: [{ user: "Bob Babbage", user_id: "usr_bob", at: "2026-01-01T00:00:00Z" }],
      required_approvals: 2,
      eligible_approvers: 2,
      operation: "read",
      status: "pending",
      available_at: null,
    } as unknown as ApprovalView;
    expect(progressOf(needed, view)).toMatchObject({ votes: 1, voters: ["Bob Babbage"], eligible: 2 });
  });
});

describe("labels", () => {
  it("reads types and orders tiers", () => {
    expect(typeWord("api_key")).toBe("API key");
    expect(tierRank("critical")).toBeGreaterThan(tierRank("sensitive"));
    expect(tierRank("sensitive")).toBeGreaterThan(tierRank("standard"));
  });
});
