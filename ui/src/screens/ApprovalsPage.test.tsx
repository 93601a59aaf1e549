// The inbox's countdowns move on their own, and a request opened from its notification is
// the one in focus. `call` is scripted; the desktop end-to-end test drives the real one.
import { act, cleanup, render, screen } from "@testing-library/preact";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ApprovalView } from "../bindings";
import type { ApprovalFeed } from "../lib/useApprovalFeed";
import { resetScript } from "../testing/scripted";

vi.mock("../api", async () => ({ call: (await import("../testing/scripted")).scriptedCall }));
const { ApprovalsPage } = await import("./ApprovalsPage");

const START = new Date("2026-06-01T12:00:00Z");

function request(id: string, expiresInMin: number): ApprovalView {
  return {
    id,
    path: `prod/db/${id}`,
    tier: "critical",
    key_id: "key_1",
    key_name: "deploy-bot",
    owner: "Carol Cray",
    owner_id: "usr_carol",
    operation: "read",
    to_tier: null,
    eligible_approvers: 2,
    reason: "migration",
    requested_at: START.toISOString(),
    expires_at: new Date(START.getTime() + expiresInMin * 60_000).toISOString(),
    approvals: [],
    required_approvals: 1,
    delay_secs: 0,
    grant_ttl_secs: 3600,
    status: "pending",
    available_at: null,
  };
}

function feed(pending: ApprovalView[]): ApprovalFeed {
  return { pending, live: true, error: null, opened: null, reload: () => undefined };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "Date"] });
  vi.setSystemTime(START);
});
afterEach(() => {
  vi.useRealTimers();
  cleanup();
  resetScript();
});

describe("ApprovalsPage", () => {
  it("counts down without a reload", () => {
    render(<ApprovalsPage myId="usr_ada" feed={feed([request("apr_1", 24 * 60 + 1)])} />);
    expect(screen.getByTestId("approval-time-apr_1").textContent).toContain("24h 1m left");
    act(() => {
      vi.advanceTimersByTime(31 * 60_000);
    });
    expect(screen.getByTestId("approval-time-apr_1").textContent).toContain("23h 30m left");
  });

  it("focuses the request a notification opened", () => {
    render(<ApprovalsPage myId="usr_ada" feed={feed([request("apr_1", 60), request("apr_2", 60)])} openId="apr_2" />);
    const card = screen.getByTestId("approval-apr_2");
    expect(document.activeElement).toBe(card);
    expect(card.className).toContain("approval-opened");
    expect(screen.getByTestId("approval-apr_1").className).not.toContain("approval-opened");
  });
});
