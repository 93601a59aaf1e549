// The can't-reach-the-server screen: retries by itself on a visible countdown that grows,
// "Retry now" tries at once, "Change server" leaves for the address field.
import { act, cleanup, fireEvent, render, screen } from "@testing-library/preact";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConnectScreen } from "./ConnectScreen";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

async function flush() {
  await act(async () => {
    await Promise.resolve();
    await Promise.resolve();
  });
}

describe("ConnectScreen", () => {
  it("names the server, counts down, retries by itself with a growing delay, and stops once it answers", async () => {
    const answers = [false, false, true];
    const onRetry = vi.fn(async () => answers.shift() ?? true);
    render(<ConnectScreen server="http://127.0.0.1:8270" onRetry={onRetry} onChangeServer={() => undefined} />);
    expect(screen.getByRole("heading").textContent).toContain("Can't reach 127.0.0.1:8270");
    expect(screen.getByTestId("connect-countdown").textContent).toBe("Trying again in 2 s (attempt 2).");
    expect(document.activeElement).toBe(screen.getByTestId("connect-retry"));

    act(() => {
      vi.advanceTimersByTime(1000);
    });
    expect(screen.getByTestId("connect-countdown").textContent).toBe("Trying again in 1 s (attempt 2).");
    expect(onRetry).not.toHaveBeenCalled();
    act(() => {
      vi.advanceTimersByTime(1000);
    });
    await flush();
    expect(onRetry).toHaveBeenCalledTimes(1);
    // Still down: the next wait is longer.
    expect(screen.getByTestId("connect-countdown").textContent).toBe("Trying again in 4 s (attempt 3).");
    act(() => {
      vi.advanceTimersByTime(4000);
    });
    await flush();
    expect(onRetry).toHaveBeenCalledTimes(2);
    expect(screen.getByTestId("connect-countdown").textContent).toBe("Trying again in 8 s (attempt 4).");

    // "Retry now" does not wait; this time the server answers and nothing more is tried.
    fireEvent.click(screen.getByTestId("connect-retry"));
    await flush();
    expect(onRetry).toHaveBeenCalledTimes(3);
    act(() => {
      vi.advanceTimersByTime(60_000);
    });
    await flush();
    expect(onRetry).toHaveBeenCalledTimes(3);
  });

  it("shows the attempt in progress and disables Retry now meanwhile", async () => {
    let answer: (ok: boolean) => void = () => undefined;
    const onRetry = vi.fn(() => new Promise<boolean>((r) => (answer = r)));
    render(<ConnectScreen server="https://vault.example.com" onRetry={onRetry} onChangeServer={() => undefined} />);
    fireEvent.click(screen.getByTestId("connect-retry"));
    await flush();
    expect(screen.getByTestId("connect-countdown").textContent).toContain("Trying to reach the server");
    expect((screen.getByTestId("connect-retry") as HTMLButtonElement).disabled).toBe(true);
    answer(false);
    await flush();
    expect((screen.getByTestId("connect-retry") as HTMLButtonElement).disabled).toBe(false);
    expect(screen.getByTestId("connect-countdown").textContent).toBe("Trying again in 4 s (attempt 3).");
  });

  it("goes to the server address on Change server", () => {
    const onChangeServer = vi.fn();
    render(<ConnectScreen server="https://vault.example.com" onRetry={async () => false} onChangeServer={onChangeServer} />);
    fireEvent.click(screen.getByTestId("connect-change-server"));
    expect(onChangeServer).toHaveBeenCalledTimes(1);
  });
});
