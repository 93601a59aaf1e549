import { cleanup, render, screen } from "@testing-library/preact";
import { afterEach, describe, expect, it } from "vitest";
import { formatDate } from "../lib/format";
import { sentenceCase, StatusBadge } from "./StatusBadge";

afterEach(cleanup);

describe("StatusBadge", () => {
  it("writes every state in sentence case, whatever the server sent", () => {
    expect(sentenceCase("critical")).toBe("Critical");
    expect(sentenceCase("SUSPENDED")).toBe("Suspended");
    expect(sentenceCase("key_suspended")).toBe("Key suspended");
    expect(sentenceCase("Needs attention")).toBe("Needs attention");
    expect(sentenceCase("Disabled: kept failing")).toBe("Disabled: kept failing");
    expect(sentenceCase("  ")).toBe("");
  });

  it("renders one pill with its tone", () => {
    render(<StatusBadge tone="warn" label="warning" testid="b" />);
    const b = screen.getByTestId("b");
    expect(b.textContent).toBe("Warning");
    expect(b.className).toBe("pill pill-warn");
  });
});

describe("formatDate", () => {
  it("follows the system's locale, not a fixed English one", () => {
    const iso = "2026-03-04T05:06:00Z";
    const system = new Date(iso).toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
    expect(formatDate(iso)).toBe(system);
    expect(formatDate("not a date")).toBe("—");
  });
});
