// Dialogs: focus starts on the first field (or the safe button), and title and
// description are tied to the dialog by ids unique per dialog.
import { cleanup, render, screen } from "@testing-library/preact";
import { afterEach, describe, expect, it } from "vitest";
import { Dialog } from "./Dialog";

afterEach(cleanup);

describe("Dialog", () => {
  it("focuses the first field and describes itself", () => {
    render(
      <Dialog title="Rename" description="Agents keep their keys." onRequestClose={() => undefined} testid="d">
        <input data-testid="first" />
        <input data-testid="second" />
      </Dialog>,
    );
    expect(document.activeElement).toBe(screen.getByTestId("first"));
    const d = screen.getByTestId("d");
    expect(document.getElementById(d.getAttribute("aria-describedby") ?? "")?.textContent?.trim()).toBe("Agents keep their keys.");
    expect(document.getElementById(d.getAttribute("aria-labelledby") ?? "")?.textContent).toBe("Rename");
  });

  it("focuses the safe button when there is no field", () => {
    render(
      <Dialog title="Revoke?" onRequestClose={() => undefined} testid="outer">
        <div class="dialog-actions">
          <button type="button" data-testid="cancel">
            Cancel
          </button>
          <button type="button">Revoke</button>
        </div>
      </Dialog>,
    );
    expect(document.activeElement).toBe(screen.getByTestId("cancel"));
    expect(screen.getByTestId("outer").hasAttribute("aria-describedby")).toBe(false);
  });

  it("gives a dialog opened over another its own ids", () => {
    render(
      <>
        <Dialog title="Revoke?" onRequestClose={() => undefined} testid="outer">
          <p>Sure?</p>
        </Dialog>
        <Dialog title="Confirm it's you" description="Again." onRequestClose={() => undefined} testid="inner">
          <input />
        </Dialog>
      </>,
    );
    expect(screen.getByTestId("inner").getAttribute("aria-labelledby")).not.toBe(screen.getByTestId("outer").getAttribute("aria-labelledby"));
  });
});
