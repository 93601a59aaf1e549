import { describe, expect, it } from "vitest";
import { actorLabel, backupCodesFile, initials, relativeTime, ringDash, shortenIds, statusTone, statusWord, strengthWord, timeLeft } from "./format";

describe("initials", () => {
  it("uses first and last name", () => {
    expect(initials("Ada Lovelace", "ada@example.com")).toBe("AL");
    expect(initials("  grace   brewster  hopper ", "g@example.com")).toBe("GH");
    expect(initials("Zoë", "z@example.com")).toBe("Z");
  });
  it("falls back to the email", () => {
    expect(initials(null, "ada.lovelace@example.com")).toBe("AL");
    expect(initials("", "ada@example.com")).toBe("A");
    expect(initials(undefined, "")).toBe("?");
  });
});

describe("score display", () => {
  it("names and colours each status", () => {
    expect(statusWord("protected")).toBe("Protected");
    expect(statusWord("at_risk")).toBe("At risk");
    expect(statusWord("exposed")).toBe("Exposed");
    expect(statusTone("protected")).toBe("good");
    expect(statusTone("at_risk")).toBe("warn");
    expect(statusTone("exposed")).toBe("bad");
  });
  it("draws the ring proportionally and clamps", () => {
    const full = ringDash(100, 10);
    expect(full.offset).toBeCloseTo(0);
    expect(ringDash(0, 10).offset).toBeCloseTo(full.circumference);
    expect(ringDash(50, 10).offset).toBeCloseTo(full.circumference / 2);
    expect(ringDash(150, 10).offset).toBeCloseTo(0);
    expect(ringDash(Number.NaN, 10).offset).toBeCloseTo(full.circumference);
  });
  it("words the strength score", () => {
    expect(strengthWord(0)).toBe("Very weak");
    expect(strengthWord(4)).toBe("Very strong");
    expect(strengthWord(9)).toBe("Very strong");
  });
});

describe("time", () => {
  const now = new Date("2026-01-01T12:00:00Z");
  it("is relative", () => {
    expect(relativeTime("2026-01-01T11:57:00Z", now)).toBe("3 minutes ago");
    expect(relativeTime("2026-01-01T14:00:00Z", now)).toBe("in 2 hours");
    expect(relativeTime("2026-01-01T12:00:10Z", now)).toBe("just now");
    expect(relativeTime(null, now)).toBe("Never");
  });
  it("counts down", () => {
    expect(timeLeft("2026-01-01T14:05:30Z", now)).toBe("2h 5m left");
    expect(timeLeft("2026-01-01T12:09:00Z", now)).toBe("9m left");
    expect(timeLeft("2026-01-01T11:00:00Z", now)).toBe("expired");
  });
});

describe("backup codes file", () => {
  it("lists every code with instructions", () => {
    const text = backupCodesFile(["aaaa-bbbb", "cccc-dddd"], "ada@example.com", new Date("2026-01-01T00:00:00Z"));
    expect(text).toContain("Account: ada@example.com");
    expect(text).toContain(" 1. aaaa-bbbb");
    expect(text).toContain(" 2. cccc-dddd");
    expect(text.endsWith("\n")).toBe(true);
  });
});

describe("audit display", () => {
  it("shortens ids and names the caller", () => {
    const id = "01a2013c-808b-76b1-a11a-dd215c17c1d5";
    expect(shortenIds(`user:${id}`)).toBe("user:01a2013c…");
    expect(shortenIds("production/stripe/KEY")).toBe("production/stripe/KEY");
    expect(actorLabel("user", id, id)).toBe("You");
    expect(actorLabel("user", id, "someone-else")).toBe("user 01a2013c…");
    expect(actorLabel("agent_key", "", null)).toBe("agent key");
  });
});
