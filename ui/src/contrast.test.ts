// WCAG AA for the colours issue 22 named: badge text 4.5:1 on its soft background, input
// borders 3:1 against the surface (1.4.11), in the light and the dark theme. Ratios by the
// WCAG 2 relative-luminance formula, computed from styles.css itself.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const css = readFileSync(resolve(__dirname, "styles.css"), "utf8");

/** The custom properties of the first block whose selector starts with `selector`. */
function vars(selector: string): Record<string, string> {
  const start = css.indexOf(`${selector} {`);
  const body = css.slice(start, css.indexOf("}", start));
  return Object.fromEntries([...body.matchAll(/--([\w-]+):\s*(#[0-9a-f]{6})/giu)].map((m) => [m[1], m[2]]));
}

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function ratio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

for (const [theme, selector] of [
  ["light", ":root"],
  ["dark", ':root[data-theme="dark"]'],
] as const) {
  describe(`${theme} theme`, () => {
    const v = vars(selector);
    it.each([
      ["good", "good-soft"],
      ["warn", "warn-soft"],
      ["bad", "bad-soft"],
      ["pending", "pending-soft"],
      ["muted", "surface-3"],
    ])("badge text --%s on --%s passes 4.5:1", (fg, bg) => {
      expect(ratio(v[fg], v[bg])).toBeGreaterThanOrEqual(4.5);
    });
    it("a danger button's text --on-bad passes 4.5:1 on its --bad fill", () => {
      expect(ratio(v["on-bad"], v.bad)).toBeGreaterThanOrEqual(4.5);
    });
    it("input borders pass 3:1 against the surface and the raised surface", () => {
      expect(ratio(v["input-border"], v.surface)).toBeGreaterThanOrEqual(3);
      expect(ratio(v["input-border"], v["surface-2"])).toBeGreaterThanOrEqual(3);
    });
  });
}
