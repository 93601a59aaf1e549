// Completed actions announce themselves in the one toast area (role="status").
import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, it, vi } from "vitest";

vi.mock("../api", async () => ({ call: (await import("../testing/scripted")).scriptedCall }));
const { setScript, resetScript, calls } = await import("../testing/scripted");
const { Toasts, TOAST_MS } = await import("./Toasts");
const { toast } = await import("../lib/toast");
const { RevokeDialog } = await import("../screens/KeysPage");

afterEach(() => {
  cleanup();
  resetScript();
  vi.useRealTimers();
});

describe("Toasts", () => {
  it("announces a message in a polite live region, then lets it go", () => {
    vi.useFakeTimers();
    render(<Toasts />);
    const region = screen.getByRole("status");
    expect(region.getAttribute("aria-live")).toBe("polite");
    act(() => toast("Password changed."));
    expect(region.textContent).toContain("Password changed.");
    act(() => {
      vi.advanceTimersByTime(TOAST_MS + 1);
    });
    expect(region.textContent).not.toContain("Password changed.");
  });

  it("says a key was revoked once the server revoked it, and not when it refused", async () => {
    const key = { id: "key_1", name: "deploy-bot" } as never;
    setScript({ revokeKey: () => null });
    render(<Toasts />);
    const closed: boolean[] = [];
    const { unmount } = render(<RevokeDialog k={key} onClose={(d) => closed.push(d)} />);
    fireEvent.click(screen.getByTestId("confirm-revoke"));
    await waitFor(() => expect(screen.getByRole("status").textContent).toContain('Key "deploy-bot" revoked.'));
    expect([calls, closed]).toEqual([['revokeKey("key_1")'], [true]]);
    unmount();

    cleanup();
    setScript({ revokeKey: () => Promise.reject({ kind: "forbidden", message: "No.", details: [], retry_after_secs: null }) });
    render(<Toasts />);
    render(<RevokeDialog k={key} onClose={() => undefined} />);
    fireEvent.click(screen.getByTestId("confirm-revoke"));
    await screen.findByText("No.");
    expect(screen.getByRole("status").textContent).toBe("");
  });
});
