import { cleanup, fireEvent, render, screen } from "@testing-library/preact";
import { useState } from "preact/hooks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { installTabKeys } from "./tabKeys";

function Strip() {
  const [tab, setTab] = useState("a");
  return (
    <>
      <div role="tablist" aria-label="Strip">
        {["a", "b", "c"].map((t) => (
          <button key={t} type="button" role="tab" aria-selected={tab === t} disabled={t === "c" && tab === "x"} onClick={() => setTab(t)}>
            {t}
          </button>
        ))}
      </div>
      <p data-testid="shown">{tab}</p>
    </>
  );
}

let uninstall: () => void = () => undefined;
beforeEach(() => {
  uninstall = installTabKeys(document);
});
afterEach(() => {
  uninstall();
  cleanup();
});

describe("arrow keys on tabs", () => {
  it("moves focus and selection along the strip, wrapping, with Home and End", () => {
    render(<Strip />);
    const [a, b, c] = screen.getAllByRole("tab");
    a!.focus();
    fireEvent.keyDown(a!, { key: "ArrowRight" });
    expect(document.activeElement).toBe(b);
    expect(screen.getByTestId("shown").textContent).toBe("b");
    fireEvent.keyDown(b!, { key: "End" });
    expect(screen.getByTestId("shown").textContent).toBe("c");
    fireEvent.keyDown(c!, { key: "ArrowRight" });
    expect(document.activeElement).toBe(a);
    fireEvent.keyDown(a!, { key: "ArrowLeft" });
    expect(screen.getByTestId("shown").textContent).toBe("c");
    fireEvent.keyDown(c!, { key: "Home" });
    expect(screen.getByTestId("shown").textContent).toBe("a");
  });

  it("leaves other keys and modified arrows alone", () => {
    render(<Strip />);
    const [a] = screen.getAllByRole("tab");
    a!.focus();
    fireEvent.keyDown(a!, { key: "ArrowRight", ctrlKey: true });
    fireEvent.keyDown(a!, { key: "x" });
    expect(screen.getByTestId("shown").textContent).toBe("a");
    expect(document.activeElement).toBe(a);
  });
});
