// The app runs with Tauri's `freezePrototype` (tauri.conf.json): `Object.prototype` is
// frozen before any page script. Preact before 11 copied vnodes with plain assignment,
// which throws there on the first re-render (preactjs/preact#5109): the app hung on its
// loading screen. This file freezes the prototype as Tauri does and re-renders.
import { fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { useEffect, useState } from "preact/hooks";
import { expect, it } from "vitest";

function Counter() {
  const [loaded, setLoaded] = useState<string | null>(null);
  const [clicks, setClicks] = useState(0);
  useEffect(() => {
    Promise.resolve("ready").then(setLoaded);
  }, []);
  return (
    <button type="button" data-testid="counter" onClick={() => setClicks((n) => n + 1)}>
      {loaded ?? "loading"} {clicks}
    </button>
  );
}

it("re-renders with Object.prototype frozen", async () => {
  Object.freeze(Object.prototype);
  render(<Counter />);
  await waitFor(() => expect(screen.getByTestId("counter").textContent).toBe("ready 0"));
  fireEvent.click(screen.getByTestId("counter"));
  await waitFor(() => expect(screen.getByTestId("counter").textContent).toBe("ready 1"));
});
