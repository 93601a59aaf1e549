// Arrow keys on tabs, the WAI-ARIA way: in any role="tablist", Left/Right (Up/Down in a
// vertical one) move to the neighbouring tab and select it, Home/End to the first and last.
// One listener on the document serves every tab strip of the app (Settings, Approvals,
// Audit, Keys…), so no screen can forget it. Native radio groups already move with the
// arrow keys in WebKit; they need nothing here.

const NEXT = new Set(["ArrowRight", "ArrowDown"]);
const PREV = new Set(["ArrowLeft", "ArrowUp"]);

/** The tab to move to from `current` for `key`, or null when the key is not ours. */
export function neighbourTab(tabs: HTMLElement[], current: HTMLElement, key: string): HTMLElement | null {
  const usable = tabs.filter((t) => !t.hasAttribute("disabled") && t.getAttribute("aria-disabled") !== "true");
  const i = usable.indexOf(current);
  if (i < 0 || usable.length === 0) return null;
  if (NEXT.has(key)) return usable[(i + 1) % usable.length] ?? null;
  if (PREV.has(key)) return usable[(i - 1 + usable.length) % usable.length] ?? null;
  if (key === "Home") return usable[0] ?? null;
  if (key === "End") return usable[usable.length - 1] ?? null;
  return null;
}

function onKeyDown(e: KeyboardEvent): void {
  if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
  const tab = e.target instanceof HTMLElement ? e.target.closest<HTMLElement>('[role="tab"]') : null;
  const list = tab?.closest<HTMLElement>('[role="tablist"]');
  if (!tab || !list) return;
  const tabs = Array.from(list.querySelectorAll<HTMLElement>('[role="tab"]')).filter((t) => t.closest('[role="tablist"]') === list);
  const to = neighbourTab(tabs, tab, e.key);
  if (!to) return;
  e.preventDefault();
  to.focus();
  to.click();
}

/** Install the listener once (the app shell does); returns the uninstaller. */
export function installTabKeys(doc: Document = document): () => void {
  doc.addEventListener("keydown", onKeyDown);
  return () => doc.removeEventListener("keydown", onKeyDown);
}
