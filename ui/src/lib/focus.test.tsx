import { cleanup, render } from "@testing-library/preact";
import { useEffect } from "preact/hooks";
import { afterEach, describe, expect, it } from "vitest";
import { useFocusHeadingOnChange } from "./focus";

function Page(props: { name: string }) {
  // A page that focuses something of its own on arrival (as the inbox does for a request
  // opened from its notification).
  useEffect(() => {
    if (props.name === "approvals") document.getElementById("card")?.focus();
  }, [props.name]);
  return (
    <>
      <h1>{props.name}</h1>
      {props.name === "approvals" ? <div id="card" tabIndex={-1} /> : null}
    </>
  );
}

function Shell(props: { page: string }) {
  useFocusHeadingOnChange(props.page, () => document.getElementById("main"));
  return (
    <>
      <button type="button">nav</button>
      <main id="main">
        <Page name={props.page} />
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

  it("leaves focus where the new page put it", () => {
    const { rerender } = render(<Shell page="vault" />);
    rerender(<Shell page="approvals" />);
    expect(document.activeElement?.id).toBe("card");
  });
});
