import type { ComponentChildren } from "preact";
import { useEffect, useId, useRef } from "preact/hooks";
import { Icon } from "./Icon";

/**
 * A modal built on <dialog> (focus is trapped and restored by the browser). `onRequestClose`
 * runs on Escape and the close button; the caller decides whether closing is allowed.
 * Focus starts on the first field, or, with none, on the first action button (Cancel by
 * this app's convention: the safe choice in a destructive dialog), not on the close icon.
 * Title and description are tied to the dialog by ids unique per dialog, since a
 * "Confirm it's you" dialog can open over another one.
 */
export function Dialog(props: {
  title: string;
  description?: string;
  onRequestClose: () => void;
  children: ComponentChildren;
  testid?: string;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    firstFocus(d)?.focus();
    return () => d?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      class={`dialog ${props.wide ? "dialog-wide" : ""}`}
      data-testid={props.testid}
      aria-labelledby={`${id}-title`}
      aria-describedby={props.description ? `${id}-desc` : undefined}
      onCancel={(e) => {
        e.preventDefault();
        props.onRequestClose();
      }}
    >
      <header class="dialog-header">
        <div>
          <h2 id={`${id}-title`}>{props.title}</h2>
          {props.description ? <p class="muted" id={`${id}-desc`}>
              {props.description}
            </p> : null}
        </div>
        <button type="button" class="icon-button" aria-label="Close" data-testid="dialog-close" onClick={props.onRequestClose}>
          <Icon name="x" />
        </button>
      </header>
      <div class="dialog-body">{props.children}</div>
    </dialog>
  );
}

/** Where focus starts: the first enabled field, else the first action button. */
function firstFocus(d: HTMLDialogElement | null): HTMLElement | null {
  if (!d) return null;
  return d.querySelector<HTMLElement>(
    ".dialog-body input:not([disabled]):not([type=hidden]), .dialog-body select:not([disabled]), .dialog-body textarea:not([disabled]), .dialog-body .dialog-actions button:not([disabled])",
  );
}
