// The approve/deny dialog: the request's context in view (a missing reason said, votes
// with their comments, what a yes opens) and a denial refused without a reason, with no
// command sent. `call` is scripted; the desktop end-to-end test drives the real one.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ApprovalView } from "../bindings";
import { calls, resetScript, setScript } from "../testing/scripted";

vi.mock("../api", async () => ({ call: (await import("../testing/scripted")).scriptedCall }));
const { DecideDialog } = await import("./DecideDialog");

const request: ApprovalView = {
  id: "apr_1",
  path: "prod/db/password",
  tier: "critical",
  key_id: "key_1",
  key_name: "deploy-bot",
  owner: "Carol Cray",
  owner_id: "usr_carol",
  operation: "read",
  to_tier: null,
  eligible_approvers: 2,
  reason: null,
  requested_at: "2026-01-01T00:00:00Z",
  expires_at: "2099-01-01T00:00:00Z",
  approvals: [{ user: "Ada Lovelace", user_id: "usr_ada", at: "2026-01-01T00:01:00Z", comment: "Checked with on-call." }],
  required_approvals: 2,
  delay_secs: 600,
  grant_ttl_secs: 3600,
  status: "pending",
  available_at: null,
};

afterEach(() => {
  cleanup();
  resetScript();
});

describe("DecideDialog", () => {
  it("shows who asks, the missing reason, the votes with comments and what a yes opens", () => {
    render(<DecideDialog a={request} action="approve" onClose={() => undefined} />);
    expect(screen.getByTestId("decide-agent").textContent).toBe("deploy-bot");
    expect(screen.getByTestId("decide-owner").textContent).toBe("Carol Cray");
    expect(screen.getByTestId("decide-tier").textContent).toBe("critical");
    expect(screen.getByTestId("decide-reason").textContent).toBe("No reason given");
    expect(screen.getByTestId("decide-votes").textContent).toContain("Checked with on-call.");
    expect(screen.getByTestId("decide-grant").textContent).toContain("opens for 1 hour, after a delay of 10 minutes");
  });

  it("shows the reason when there is one", () => {
    render(<DecideDialog a={{ ...request, reason: "Nightly billing run" }} action="approve" onClose={() => undefined} />);
    expect(screen.getByTestId("decide-reason").textContent).toBe("Nightly billing run");
  });

  it("refuses a denial without a reason, tied to the field, and sends nothing", async () => {
    const closed: boolean[] = [];
    setScript({ denyRequest: () => null });
    render(<DecideDialog a={request} action="deny" onClose={(d) => closed.push(d)} />);
    const field = screen.getByTestId("decide-text");
    expect(field.getAttribute("aria-required")).toBe("true");
    fireEvent.click(screen.getByTestId("decide-submit"));
    await waitFor(() => expect(field.getAttribute("aria-invalid")).toBe("true"));
    const hint = screen.getByTestId("decide-text-hint");
    expect(field.getAttribute("aria-describedby")).toBe(hint.id);
    expect(hint.textContent).toContain("Say why you deny it");
    expect(calls).toEqual([]);
    fireEvent.input(field, { target: { value: "Not during the freeze" } });
    fireEvent.click(screen.getByTestId("decide-submit"));
    await waitFor(() => expect(closed).toEqual([true]));
    expect(calls).toEqual(['denyRequest("apr_1", "Not during the freeze")']);
  });
});
