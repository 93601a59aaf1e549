import { describe, expect, it } from "vitest";
import { isNotAvailable, toCommandError } from "./errors";

describe("toCommandError", () => {
  it("passes command errors through", () => {
    const e = toCommandError({ kind: "rate_limited", message: "Wait a minute.", details: ["x"], retry_after_secs: 30 });
    expect(e.kind).toBe("rate_limited");
    expect(e.retry_after_secs).toBe(30);
    expect(e.details).toEqual(["x"]);
  });
  it("wraps framework strings and errors as sentences", () => {
    expect(toCommandError("command sign_in not allowed").message).toMatch(/^Something went wrong inside the app: command/);
    expect(toCommandError(new Error("boom")).message).toContain("boom");
    expect(toCommandError(undefined).message).toBe("Something went wrong inside the app.");
  });
  it("does not trust lookalikes", () => {
    expect(toCommandError({ kind: "nope", message: "x" }).kind).toBe("internal");
  });
  it("recognises not-available", () => {
    expect(isNotAvailable(toCommandError({ kind: "not_available", message: "x", details: [], retry_after_secs: null }))).toBe(true);
    expect(isNotAvailable(null)).toBe(false);
  });
});
