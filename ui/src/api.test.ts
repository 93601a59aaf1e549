// reportFirstScreen: one report per page load, and a failing IPC never surfaces.
import { describe, expect, it, vi } from "vitest";

const firstScreenShown = vi.fn(async (_screen: string) => {
  throw new Error("no IPC under vitest");
});
vi.mock("./bindings", () => ({ commands: { firstScreenShown } }));

const { reportFirstScreen } = await import("./api");

describe("reportFirstScreen", () => {
  it("reports only the first screen and swallows errors", async () => {
    reportFirstScreen("security_vault");
    reportFirstScreen("sign_in");
    reportFirstScreen("security_vault");
    await Promise.resolve();
    expect(firstScreenShown).toHaveBeenCalledTimes(1);
    expect(firstScreenShown).toHaveBeenCalledWith("security_vault");
  });
});
