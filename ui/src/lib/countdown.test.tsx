// The shared wait: Retry-After and the reconnect backoff count down the same way.
import { act, cleanup, render, screen } from "@testing-library/preact";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ErrorNotice } from "../components/Notice";
import { backoffSecs, formatWait, useCountdown, useRetryAfter } from "./countdown";
import type { CommandError } from "./errors";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

function limited(secs: number | null): CommandError {
  return { kind: "rate_limited", message: "Too many attempts.", details: [], retry_after_secs: secs };
}

function Left(props: { secs: number | null; k?: unknown }) {
  return <span data-testid="left">{useCountdown(props.secs, props.k)}</span>;
}

function RetryButton(props: { error: CommandError | null }) {
  const wait = useRetryAfter(props.error);
  return (
    <>
      <ErrorNotice error={props.error} />
      <button type="button" data-testid="retry" disabled={wait > 0}>
        Retry
      </button>
    </>
  );
}

describe("waits", () => {
  it("reads as people read it", () => {
    expect(formatWait(0)).toBe("0 s");
    expect(formatWait(42)).toBe("42 s");
    expect(formatWait(60)).toBe("1 min");
    expect(formatWait(65)).toBe("1 min 05 s");
    expect(formatWait(2.2)).toBe("3 s");
  });

  it("backs off 2, 4, 8, 16, then every 30 s", () => {
    expect([1, 2, 3, 4, 5, 6, 50].map(backoffSecs)).toEqual([2, 4, 8, 16, 30, 30, 30]);
    expect(backoffSecs(0)).toBe(2);
  });

  it("counts down once a second to zero, and starts again for a new key", () => {
    const { rerender } = render(<Left secs={3} k={1} />);
    expect(screen.getByTestId("left").textContent).toBe("3");
    act(() => {
      vi.advanceTimersByTime(1000);
    });
    expect(screen.getByTestId("left").textContent).toBe("2");
    act(() => {
      vi.advanceTimersByTime(2500);
    });
    expect(screen.getByTestId("left").textContent).toBe("0");
    rerender(<Left secs={3} k={2} />);
    expect(screen.getByTestId("left").textContent).toBe("3");
    rerender(<Left secs={null} k={3} />);
    expect(screen.getByTestId("left").textContent).toBe("0");
  });

  it("shows a rate limit's Retry-After where the error is and keeps the retry button off until it ends", () => {
    render(<RetryButton error={limited(2)} />);
    expect(screen.getByTestId("retry-wait").textContent).toBe("You can try again in 2 s.");
    expect((screen.getByTestId("retry") as HTMLButtonElement).disabled).toBe(true);
    act(() => {
      vi.advanceTimersByTime(1000);
    });
    expect(screen.getByTestId("retry-wait").textContent).toBe("You can try again in 1 s.");
    expect((screen.getByTestId("retry") as HTMLButtonElement).disabled).toBe(true);
    act(() => {
      vi.advanceTimersByTime(1000);
    });
    expect(screen.getByTestId("retry-wait").textContent).toBe("You can try again now.");
    expect((screen.getByTestId("retry") as HTMLButtonElement).disabled).toBe(false);
  });

  it("does not wait for other errors, nor for a rate limit without Retry-After", () => {
    const other: CommandError = { kind: "forbidden", message: "No.", details: [], retry_after_secs: 30 };
    const { rerender } = render(<RetryButton error={other} />);
    expect(screen.queryByTestId("retry-wait")).toBeNull();
    expect((screen.getByTestId("retry") as HTMLButtonElement).disabled).toBe(false);
    rerender(<RetryButton error={limited(null)} />);
    expect(screen.queryByTestId("retry-wait")).toBeNull();
    expect((screen.getByTestId("retry") as HTMLButtonElement).disabled).toBe(false);
  });
});
