import { useEffect, useState } from "preact/hooks";
import { onToast, type ToastItem } from "../lib/toast";
import { Icon } from "./Icon";

/** How long a toast stays: long enough to read a sentence, short enough not to pile up. */
export const TOAST_MS = 5000;

/**
 * The one toast area. The live region (role="status", polite) is always in the page, so
 * screen readers announce each message as it is added; each toast goes after TOAST_MS or
 * when dismissed.
 */
export function Toasts() {
  const [items, setItems] = useState<ToastItem[]>([]);
  useEffect(
    () =>
      onToast((t) => {
        setItems((xs) => [...xs, t]);
        setTimeout(() => setItems((xs) => xs.filter((x) => x.id !== t.id)), TOAST_MS);
      }),
    [],
  );
  return (
    <div class="toasts" role="status" aria-live="polite" data-testid="toasts">
      {items.map((t) => (
        <div class="toast" key={t.id} data-testid="toast">
          <Icon name="check" size={16} />
          <span>{t.message}</span>
          <button type="button" class="icon-button" aria-label="Dismiss" onClick={() => setItems((xs) => xs.filter((x) => x.id !== t.id))}>
            <Icon name="x" size={14} />
          </button>
        </div>
      ))}
    </div>
  );
}
