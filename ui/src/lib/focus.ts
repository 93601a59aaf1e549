import { useEffect, useRef } from "preact/hooks";

/**
 * After a page change (not the first page), move focus to the new page's heading, so a
 * screen reader announces where the person landed and Tab starts from the top of the
 * page rather than from the sidebar button they pressed.
 */
export function useFocusHeadingOnChange(page: string, root: () => HTMLElement | null): void {
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const main = root();
    // A page that put focus somewhere itself (a request opened from its notification)
    // keeps it: the page's own effects run before this one.
    const active = document.activeElement;
    if (main && active instanceof HTMLElement && active !== main && main.contains(active)) return;
    const heading = main?.querySelector<HTMLElement>("h1");
    if (!heading) return;
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }, [page]);
}
