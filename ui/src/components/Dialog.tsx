import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { Icon } from "./Icon";

/**
 * A modal built on <dialog> (focus is trapped and restored by the browser). `onRequestClose`
 * runs on Escape and the close button; the caller decides whether closing is allowed.
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
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      class={`dialog ${props.wide ? "dialog-wide" : ""}`}
      data-testid={props.testid}
      aria-labelledby="dialog-title"
      onCancel={(e) => {
        e.preventDefault();
        props.onRequestClose();
      }}
    >
      <header class="dialog-header">
        <div>
          <h2 id="dialog-title">{props.title}</h2>
          {props.description ? <p class="muted">{props.description}</p> : null}
        </div>
        <button type="button" class="icon-button" aria-label="Close" data-testid="dialog-close" onClick={props.onRequestClose}>
          <Icon name="x" />
        </button>
      </header>
      <div class="dialog-body">{props.children}</div>
    </dialog>
  );
}
