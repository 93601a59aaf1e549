import { cleanup, render } from "@testing-library/preact";
import { afterEach, describe, expect, it } from "vitest";
import { useFocusHeadingOnChange } from "./focus";

function Shell(props: { page: string }) {
  useFocusHeadingOnChange(props.page, () => document.getElementById("main"));
  return (
    <>
      <button type="button">nav</button>
      <main id="main">
        <h1>{props.page}</h1>
      </main>
    </>
  );
}

afterEach(cleanup);

describe("focus on page change", () => {
  it("moves to the new page's heading, but not on the first page", () => {
    const { rerender, getByRole } = render(<Shell page="vault" />);
    const nav = getByRole("button");
    nav.focus();
    expect(document.activeElement).toBe(nav);
    rerender(<Shell page="keys" />);
    const h1 = getByRole("heading");
    expect(document.activeElement).toBe(h1);
    expect(h1.getAttribute("tabindex")).toBe("-1");
    expect(h1.textContent).toBe("keys");
  });
});
